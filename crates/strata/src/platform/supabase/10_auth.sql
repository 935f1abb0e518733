-- ---------------------------------------------------------------------------------------------
-- Schema auth, as GoTrue (supabase/auth at bc32168e) leaves it: users, identities, sessions,
-- refresh tokens, MFA factors and challenges, SSO/SAML, flow state, one-time tokens, OAuth
-- clients …, their types, indexes and constraints, RLS enabled on every table, and the request
-- helpers auth.uid(), auth.role(), auth.email(), auth.jwt(). The API roles may use the schema but
-- read none of its tables (as on Supabase); the table owner (the migrating role) reads and writes
-- them, and foreign keys from public tables to auth.users(id) work.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.aal_level') IS NULL THEN
CREATE TYPE auth.aal_level AS ENUM (
    'aal1',
    'aal2',
    'aal3'
);
END IF; END $strata$;

ALTER TYPE auth.aal_level ADD VALUE IF NOT EXISTS 'aal1';

ALTER TYPE auth.aal_level ADD VALUE IF NOT EXISTS 'aal2';

ALTER TYPE auth.aal_level ADD VALUE IF NOT EXISTS 'aal3';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.code_challenge_method') IS NULL THEN
CREATE TYPE auth.code_challenge_method AS ENUM (
    's256',
    'plain'
);
END IF; END $strata$;

ALTER TYPE auth.code_challenge_method ADD VALUE IF NOT EXISTS 's256';

ALTER TYPE auth.code_challenge_method ADD VALUE IF NOT EXISTS 'plain';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.factor_status') IS NULL THEN
CREATE TYPE auth.factor_status AS ENUM (
    'unverified',
    'verified'
);
END IF; END $strata$;

ALTER TYPE auth.factor_status ADD VALUE IF NOT EXISTS 'unverified';

ALTER TYPE auth.factor_status ADD VALUE IF NOT EXISTS 'verified';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.factor_type') IS NULL THEN
CREATE TYPE auth.factor_type AS ENUM (
    'totp',
    'webauthn',
    'phone'
);
END IF; END $strata$;

ALTER TYPE auth.factor_type ADD VALUE IF NOT EXISTS 'totp';

ALTER TYPE auth.factor_type ADD VALUE IF NOT EXISTS 'webauthn';

ALTER TYPE auth.factor_type ADD VALUE IF NOT EXISTS 'phone';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.oauth_authorization_status') IS NULL THEN
CREATE TYPE auth.oauth_authorization_status AS ENUM (
    'pending',
    'approved',
    'denied',
    'expired'
);
END IF; END $strata$;

ALTER TYPE auth.oauth_authorization_status ADD VALUE IF NOT EXISTS 'pending';

ALTER TYPE auth.oauth_authorization_status ADD VALUE IF NOT EXISTS 'approved';

ALTER TYPE auth.oauth_authorization_status ADD VALUE IF NOT EXISTS 'denied';

ALTER TYPE auth.oauth_authorization_status ADD VALUE IF NOT EXISTS 'expired';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.oauth_client_type') IS NULL THEN
CREATE TYPE auth.oauth_client_type AS ENUM (
    'public',
    'confidential'
);
END IF; END $strata$;

ALTER TYPE auth.oauth_client_type ADD VALUE IF NOT EXISTS 'public';

ALTER TYPE auth.oauth_client_type ADD VALUE IF NOT EXISTS 'confidential';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.oauth_registration_type') IS NULL THEN
CREATE TYPE auth.oauth_registration_type AS ENUM (
    'dynamic',
    'manual'
);
END IF; END $strata$;

ALTER TYPE auth.oauth_registration_type ADD VALUE IF NOT EXISTS 'dynamic';

ALTER TYPE auth.oauth_registration_type ADD VALUE IF NOT EXISTS 'manual';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.oauth_response_type') IS NULL THEN
CREATE TYPE auth.oauth_response_type AS ENUM (
    'code'
);
END IF; END $strata$;

ALTER TYPE auth.oauth_response_type ADD VALUE IF NOT EXISTS 'code';

DO $strata$ BEGIN IF pg_catalog.to_regtype('auth.one_time_token_type') IS NULL THEN
CREATE TYPE auth.one_time_token_type AS ENUM (
    'confirmation_token',
    'reauthentication_token',
    'recovery_token',
    'email_change_token_new',
    'email_change_token_current',
    'phone_change_token'
);
END IF; END $strata$;

ALTER TYPE auth.one_time_token_type ADD VALUE IF NOT EXISTS 'confirmation_token';

ALTER TYPE auth.one_time_token_type ADD VALUE IF NOT EXISTS 'reauthentication_token';

ALTER TYPE auth.one_time_token_type ADD VALUE IF NOT EXISTS 'recovery_token';

ALTER TYPE auth.one_time_token_type ADD VALUE IF NOT EXISTS 'email_change_token_new';

ALTER TYPE auth.one_time_token_type ADD VALUE IF NOT EXISTS 'email_change_token_current';

ALTER TYPE auth.one_time_token_type ADD VALUE IF NOT EXISTS 'phone_change_token';

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
    LANGUAGE sql STABLE
    AS $$
  select 
  coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

COMMENT ON FUNCTION auth.email() IS 'Deprecated. Use auth.jwt() -> ''email'' instead.';

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
  select 
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    AS $$
  select 
  coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

COMMENT ON FUNCTION auth.role() IS 'Deprecated. Use auth.jwt() -> ''role'' instead.';

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$
  select 
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

COMMENT ON FUNCTION auth.uid() IS 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

CREATE TABLE IF NOT EXISTS auth.audit_log_entries (
    instance_id uuid,
    id uuid NOT NULL,
    payload json,
    created_at timestamp with time zone,
    ip_address character varying(64) DEFAULT ''::character varying NOT NULL
);

ALTER TABLE auth.audit_log_entries ADD COLUMN IF NOT EXISTS instance_id uuid;

ALTER TABLE auth.audit_log_entries ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.audit_log_entries ADD COLUMN IF NOT EXISTS payload json;

ALTER TABLE auth.audit_log_entries ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.audit_log_entries ADD COLUMN IF NOT EXISTS ip_address character varying(64) DEFAULT ''::character varying NOT NULL;

COMMENT ON TABLE auth.audit_log_entries IS 'Auth: Audit trail for user actions.';

CREATE TABLE IF NOT EXISTS auth.custom_oauth_providers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    provider_type text NOT NULL,
    identifier text NOT NULL,
    name text NOT NULL,
    client_id text NOT NULL,
    client_secret text NOT NULL,
    acceptable_client_ids text[] DEFAULT '{}'::text[] NOT NULL,
    scopes text[] DEFAULT '{}'::text[] NOT NULL,
    pkce_enabled boolean DEFAULT true NOT NULL,
    attribute_mapping jsonb DEFAULT '{}'::jsonb NOT NULL,
    authorization_params jsonb DEFAULT '{}'::jsonb NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    email_optional boolean DEFAULT false NOT NULL,
    issuer text,
    discovery_url text,
    skip_nonce_check boolean DEFAULT false NOT NULL,
    cached_discovery jsonb,
    discovery_cached_at timestamp with time zone,
    authorization_url text,
    token_url text,
    userinfo_url text,
    jwks_uri text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    custom_claims_allowlist text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT custom_oauth_providers_authorization_url_https CHECK (((authorization_url IS NULL) OR (authorization_url ~~ 'https://%'::text))),
    CONSTRAINT custom_oauth_providers_authorization_url_length CHECK (((authorization_url IS NULL) OR (char_length(authorization_url) <= 2048))),
    CONSTRAINT custom_oauth_providers_client_id_length CHECK (((char_length(client_id) >= 1) AND (char_length(client_id) <= 512))),
    CONSTRAINT custom_oauth_providers_discovery_url_length CHECK (((discovery_url IS NULL) OR (char_length(discovery_url) <= 2048))),
    CONSTRAINT custom_oauth_providers_identifier_format CHECK ((identifier ~ '^[a-z0-9][a-z0-9:-]{0,48}[a-z0-9]$'::text)),
    CONSTRAINT custom_oauth_providers_issuer_length CHECK (((issuer IS NULL) OR ((char_length(issuer) >= 1) AND (char_length(issuer) <= 2048)))),
    CONSTRAINT custom_oauth_providers_jwks_uri_https CHECK (((jwks_uri IS NULL) OR (jwks_uri ~~ 'https://%'::text))),
    CONSTRAINT custom_oauth_providers_jwks_uri_length CHECK (((jwks_uri IS NULL) OR (char_length(jwks_uri) <= 2048))),
    CONSTRAINT custom_oauth_providers_name_length CHECK (((char_length(name) >= 1) AND (char_length(name) <= 100))),
    CONSTRAINT custom_oauth_providers_oauth2_requires_endpoints CHECK (((provider_type <> 'oauth2'::text) OR ((authorization_url IS NOT NULL) AND (token_url IS NOT NULL) AND (userinfo_url IS NOT NULL)))),
    CONSTRAINT custom_oauth_providers_oidc_discovery_url_https CHECK (((provider_type <> 'oidc'::text) OR (discovery_url IS NULL) OR (discovery_url ~~ 'https://%'::text))),
    CONSTRAINT custom_oauth_providers_oidc_issuer_https CHECK (((provider_type <> 'oidc'::text) OR (issuer IS NULL) OR (issuer ~~ 'https://%'::text))),
    CONSTRAINT custom_oauth_providers_oidc_requires_issuer CHECK (((provider_type <> 'oidc'::text) OR (issuer IS NOT NULL))),
    CONSTRAINT custom_oauth_providers_provider_type_check CHECK ((provider_type = ANY (ARRAY['oauth2'::text, 'oidc'::text]))),
    CONSTRAINT custom_oauth_providers_token_url_https CHECK (((token_url IS NULL) OR (token_url ~~ 'https://%'::text))),
    CONSTRAINT custom_oauth_providers_token_url_length CHECK (((token_url IS NULL) OR (char_length(token_url) <= 2048))),
    CONSTRAINT custom_oauth_providers_userinfo_url_https CHECK (((userinfo_url IS NULL) OR (userinfo_url ~~ 'https://%'::text))),
    CONSTRAINT custom_oauth_providers_userinfo_url_length CHECK (((userinfo_url IS NULL) OR (char_length(userinfo_url) <= 2048)))
);

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS id uuid DEFAULT gen_random_uuid() NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS provider_type text NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS identifier text NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS name text NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS client_id text NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS client_secret text NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS acceptable_client_ids text[] DEFAULT '{}'::text[] NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS scopes text[] DEFAULT '{}'::text[] NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS pkce_enabled boolean DEFAULT true NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS attribute_mapping jsonb DEFAULT '{}'::jsonb NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS authorization_params jsonb DEFAULT '{}'::jsonb NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS enabled boolean DEFAULT true NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS email_optional boolean DEFAULT false NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS issuer text;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS discovery_url text;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS skip_nonce_check boolean DEFAULT false NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS cached_discovery jsonb;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS discovery_cached_at timestamp with time zone;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS authorization_url text;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS token_url text;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS userinfo_url text;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS jwks_uri text;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS created_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.custom_oauth_providers ADD COLUMN IF NOT EXISTS custom_claims_allowlist text[] DEFAULT '{}'::text[] NOT NULL;

CREATE TABLE IF NOT EXISTS auth.flow_state (
    id uuid NOT NULL,
    user_id uuid,
    auth_code text,
    code_challenge_method auth.code_challenge_method,
    code_challenge text,
    provider_type text NOT NULL,
    provider_access_token text,
    provider_refresh_token text,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    authentication_method text NOT NULL,
    auth_code_issued_at timestamp with time zone,
    invite_token text,
    referrer text,
    oauth_client_state_id uuid,
    linking_target_id uuid,
    email_optional boolean DEFAULT false NOT NULL
);

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS user_id uuid;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS auth_code text;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS code_challenge_method auth.code_challenge_method;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS code_challenge text;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS provider_type text NOT NULL;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS provider_access_token text;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS provider_refresh_token text;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS authentication_method text NOT NULL;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS auth_code_issued_at timestamp with time zone;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS invite_token text;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS referrer text;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS oauth_client_state_id uuid;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS linking_target_id uuid;

ALTER TABLE auth.flow_state ADD COLUMN IF NOT EXISTS email_optional boolean DEFAULT false NOT NULL;

COMMENT ON TABLE auth.flow_state IS 'Stores metadata for all OAuth/SSO login flows';

CREATE TABLE IF NOT EXISTS auth.identities (
    provider_id text NOT NULL,
    user_id uuid NOT NULL,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    last_sign_in_at timestamp with time zone,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    email text GENERATED ALWAYS AS (lower((identity_data ->> 'email'::text))) STORED,
    id uuid DEFAULT gen_random_uuid() NOT NULL
);

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS provider_id text NOT NULL;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS user_id uuid NOT NULL;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS identity_data jsonb NOT NULL;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS provider text NOT NULL;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS last_sign_in_at timestamp with time zone;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS email text GENERATED ALWAYS AS (lower((identity_data ->> 'email'::text))) STORED;

ALTER TABLE auth.identities ADD COLUMN IF NOT EXISTS id uuid DEFAULT gen_random_uuid() NOT NULL;

COMMENT ON TABLE auth.identities IS 'Auth: Stores identities associated to a user.';

COMMENT ON COLUMN auth.identities.email IS 'Auth: Email is a generated column that references the optional email property in the identity_data';

CREATE TABLE IF NOT EXISTS auth.instances (
    id uuid NOT NULL,
    uuid uuid,
    raw_base_config text,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);

ALTER TABLE auth.instances ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.instances ADD COLUMN IF NOT EXISTS uuid uuid;

ALTER TABLE auth.instances ADD COLUMN IF NOT EXISTS raw_base_config text;

ALTER TABLE auth.instances ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.instances ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

COMMENT ON TABLE auth.instances IS 'Auth: Manages users across multiple sites.';

CREATE TABLE IF NOT EXISTS auth.mfa_amr_claims (
    session_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    authentication_method text NOT NULL,
    id uuid NOT NULL
);

ALTER TABLE auth.mfa_amr_claims ADD COLUMN IF NOT EXISTS session_id uuid NOT NULL;

ALTER TABLE auth.mfa_amr_claims ADD COLUMN IF NOT EXISTS created_at timestamp with time zone NOT NULL;

ALTER TABLE auth.mfa_amr_claims ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone NOT NULL;

ALTER TABLE auth.mfa_amr_claims ADD COLUMN IF NOT EXISTS authentication_method text NOT NULL;

ALTER TABLE auth.mfa_amr_claims ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

COMMENT ON TABLE auth.mfa_amr_claims IS 'auth: stores authenticator method reference claims for multi factor authentication';

CREATE TABLE IF NOT EXISTS auth.mfa_challenges (
    id uuid NOT NULL,
    factor_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    verified_at timestamp with time zone,
    ip_address inet NOT NULL,
    otp_code text,
    web_authn_session_data jsonb
);

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS factor_id uuid NOT NULL;

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS created_at timestamp with time zone NOT NULL;

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS verified_at timestamp with time zone;

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS ip_address inet NOT NULL;

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS otp_code text;

ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS web_authn_session_data jsonb;

COMMENT ON TABLE auth.mfa_challenges IS 'auth: stores metadata about challenge requests made';

CREATE TABLE IF NOT EXISTS auth.mfa_factors (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    friendly_name text,
    factor_type auth.factor_type NOT NULL,
    status auth.factor_status NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    secret text,
    phone text,
    last_challenged_at timestamp with time zone,
    web_authn_credential jsonb,
    web_authn_aaguid uuid,
    last_webauthn_challenge_data jsonb
);

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS user_id uuid NOT NULL;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS friendly_name text;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS factor_type auth.factor_type NOT NULL;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS status auth.factor_status NOT NULL;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS created_at timestamp with time zone NOT NULL;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone NOT NULL;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS secret text;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS phone text;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS last_challenged_at timestamp with time zone;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS web_authn_credential jsonb;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS web_authn_aaguid uuid;

ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS last_webauthn_challenge_data jsonb;

COMMENT ON TABLE auth.mfa_factors IS 'auth: stores metadata about factors';

COMMENT ON COLUMN auth.mfa_factors.last_webauthn_challenge_data IS 'Stores the latest WebAuthn challenge data including attestation/assertion for customer verification';

CREATE TABLE IF NOT EXISTS auth.oauth_authorizations (
    id uuid NOT NULL,
    authorization_id text NOT NULL,
    client_id uuid NOT NULL,
    user_id uuid,
    redirect_uri text NOT NULL,
    scope text NOT NULL,
    state text,
    resource text,
    code_challenge text,
    code_challenge_method auth.code_challenge_method,
    response_type auth.oauth_response_type DEFAULT 'code'::auth.oauth_response_type NOT NULL,
    status auth.oauth_authorization_status DEFAULT 'pending'::auth.oauth_authorization_status NOT NULL,
    authorization_code text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone DEFAULT (now() + '00:03:00'::interval) NOT NULL,
    approved_at timestamp with time zone,
    nonce text,
    CONSTRAINT oauth_authorizations_authorization_code_length CHECK ((char_length(authorization_code) <= 255)),
    CONSTRAINT oauth_authorizations_code_challenge_length CHECK ((char_length(code_challenge) <= 128)),
    CONSTRAINT oauth_authorizations_expires_at_future CHECK ((expires_at > created_at)),
    CONSTRAINT oauth_authorizations_nonce_length CHECK ((char_length(nonce) <= 255)),
    CONSTRAINT oauth_authorizations_redirect_uri_length CHECK ((char_length(redirect_uri) <= 2048)),
    CONSTRAINT oauth_authorizations_resource_length CHECK ((char_length(resource) <= 2048)),
    CONSTRAINT oauth_authorizations_scope_length CHECK ((char_length(scope) <= 4096)),
    CONSTRAINT oauth_authorizations_state_length CHECK ((char_length(state) <= 4096))
);

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS authorization_id text NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS client_id uuid NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS user_id uuid;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS redirect_uri text NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS scope text NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS state text;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS resource text;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS code_challenge text;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS code_challenge_method auth.code_challenge_method;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS response_type auth.oauth_response_type DEFAULT 'code'::auth.oauth_response_type NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS status auth.oauth_authorization_status DEFAULT 'pending'::auth.oauth_authorization_status NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS authorization_code text;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS created_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS expires_at timestamp with time zone DEFAULT (now() + '00:03:00'::interval) NOT NULL;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS approved_at timestamp with time zone;

ALTER TABLE auth.oauth_authorizations ADD COLUMN IF NOT EXISTS nonce text;

CREATE TABLE IF NOT EXISTS auth.oauth_client_states (
    id uuid NOT NULL,
    provider_type text NOT NULL,
    code_verifier text,
    created_at timestamp with time zone NOT NULL
);

ALTER TABLE auth.oauth_client_states ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.oauth_client_states ADD COLUMN IF NOT EXISTS provider_type text NOT NULL;

ALTER TABLE auth.oauth_client_states ADD COLUMN IF NOT EXISTS code_verifier text;

ALTER TABLE auth.oauth_client_states ADD COLUMN IF NOT EXISTS created_at timestamp with time zone NOT NULL;

COMMENT ON TABLE auth.oauth_client_states IS 'Stores OAuth states for third-party provider authentication flows where Supabase acts as the OAuth client.';

CREATE TABLE IF NOT EXISTS auth.oauth_clients (
    id uuid NOT NULL,
    client_secret_hash text,
    registration_type auth.oauth_registration_type NOT NULL,
    redirect_uris text NOT NULL,
    grant_types text NOT NULL,
    client_name text,
    client_uri text,
    logo_uri text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    client_type auth.oauth_client_type DEFAULT 'confidential'::auth.oauth_client_type NOT NULL,
    token_endpoint_auth_method text NOT NULL,
    CONSTRAINT oauth_clients_client_name_length CHECK ((char_length(client_name) <= 1024)),
    CONSTRAINT oauth_clients_client_uri_length CHECK ((char_length(client_uri) <= 2048)),
    CONSTRAINT oauth_clients_logo_uri_length CHECK ((char_length(logo_uri) <= 2048)),
    CONSTRAINT oauth_clients_token_endpoint_auth_method_check CHECK ((token_endpoint_auth_method = ANY (ARRAY['client_secret_basic'::text, 'client_secret_post'::text, 'none'::text])))
);

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS client_secret_hash text;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS registration_type auth.oauth_registration_type NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS redirect_uris text NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS grant_types text NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS client_name text;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS client_uri text;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS logo_uri text;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS created_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS deleted_at timestamp with time zone;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS client_type auth.oauth_client_type DEFAULT 'confidential'::auth.oauth_client_type NOT NULL;

ALTER TABLE auth.oauth_clients ADD COLUMN IF NOT EXISTS token_endpoint_auth_method text NOT NULL;

CREATE TABLE IF NOT EXISTS auth.oauth_consents (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    client_id uuid NOT NULL,
    scopes text NOT NULL,
    granted_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT oauth_consents_revoked_after_granted CHECK (((revoked_at IS NULL) OR (revoked_at >= granted_at))),
    CONSTRAINT oauth_consents_scopes_length CHECK ((char_length(scopes) <= 2048)),
    CONSTRAINT oauth_consents_scopes_not_empty CHECK ((char_length(TRIM(BOTH FROM scopes)) > 0))
);

ALTER TABLE auth.oauth_consents ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.oauth_consents ADD COLUMN IF NOT EXISTS user_id uuid NOT NULL;

ALTER TABLE auth.oauth_consents ADD COLUMN IF NOT EXISTS client_id uuid NOT NULL;

ALTER TABLE auth.oauth_consents ADD COLUMN IF NOT EXISTS scopes text NOT NULL;

ALTER TABLE auth.oauth_consents ADD COLUMN IF NOT EXISTS granted_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.oauth_consents ADD COLUMN IF NOT EXISTS revoked_at timestamp with time zone;

CREATE TABLE IF NOT EXISTS auth.one_time_tokens (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_type auth.one_time_token_type NOT NULL,
    token_hash text NOT NULL,
    relates_to text NOT NULL,
    created_at timestamp without time zone DEFAULT now() NOT NULL,
    updated_at timestamp without time zone DEFAULT now() NOT NULL,
    CONSTRAINT one_time_tokens_token_hash_check CHECK ((char_length(token_hash) > 0))
);

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS user_id uuid NOT NULL;

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS token_type auth.one_time_token_type NOT NULL;

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS token_hash text NOT NULL;

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS relates_to text NOT NULL;

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS created_at timestamp without time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.one_time_tokens ADD COLUMN IF NOT EXISTS updated_at timestamp without time zone DEFAULT now() NOT NULL;

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
    instance_id uuid,
    id bigint NOT NULL,
    token character varying(255),
    user_id character varying(255),
    revoked boolean,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    parent character varying(255),
    session_id uuid
);

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS instance_id uuid;

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS id bigint NOT NULL;

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS token character varying(255);

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS user_id character varying(255);

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS revoked boolean;

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS parent character varying(255);

ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS session_id uuid;

COMMENT ON TABLE auth.refresh_tokens IS 'Auth: Store of tokens used to refresh JWT tokens once they expire.';

CREATE SEQUENCE IF NOT EXISTS auth.refresh_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE auth.refresh_tokens_id_seq OWNED BY auth.refresh_tokens.id;

CREATE TABLE IF NOT EXISTS auth.saml_providers (
    id uuid NOT NULL,
    sso_provider_id uuid NOT NULL,
    entity_id text NOT NULL,
    metadata_xml text NOT NULL,
    metadata_url text,
    attribute_mapping jsonb,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    name_id_format text,
    CONSTRAINT "entity_id not empty" CHECK ((char_length(entity_id) > 0)),
    CONSTRAINT "metadata_url not empty" CHECK (((metadata_url = NULL::text) OR (char_length(metadata_url) > 0))),
    CONSTRAINT "metadata_xml not empty" CHECK ((char_length(metadata_xml) > 0))
);

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS sso_provider_id uuid NOT NULL;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS entity_id text NOT NULL;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS metadata_xml text NOT NULL;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS metadata_url text;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS attribute_mapping jsonb;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.saml_providers ADD COLUMN IF NOT EXISTS name_id_format text;

COMMENT ON TABLE auth.saml_providers IS 'Auth: Manages SAML Identity Provider connections.';

CREATE TABLE IF NOT EXISTS auth.saml_relay_states (
    id uuid NOT NULL,
    sso_provider_id uuid NOT NULL,
    request_id text NOT NULL,
    for_email text,
    redirect_to text,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    flow_state_id uuid,
    CONSTRAINT "request_id not empty" CHECK ((char_length(request_id) > 0))
);

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS sso_provider_id uuid NOT NULL;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS request_id text NOT NULL;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS for_email text;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS redirect_to text;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.saml_relay_states ADD COLUMN IF NOT EXISTS flow_state_id uuid;

COMMENT ON TABLE auth.saml_relay_states IS 'Auth: Contains SAML Relay State information for each Service Provider initiated login.';

CREATE TABLE IF NOT EXISTS auth.schema_migrations (
    version character varying(255) NOT NULL
);

ALTER TABLE auth.schema_migrations ADD COLUMN IF NOT EXISTS version character varying(255) NOT NULL;

COMMENT ON TABLE auth.schema_migrations IS 'Auth: Manages updates to the auth system.';

CREATE TABLE IF NOT EXISTS auth.sessions (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    factor_id uuid,
    aal auth.aal_level,
    not_after timestamp with time zone,
    refreshed_at timestamp without time zone,
    user_agent text,
    ip inet,
    tag text,
    oauth_client_id uuid,
    refresh_token_hmac_key text,
    refresh_token_counter bigint,
    scopes text,
    CONSTRAINT sessions_scopes_length CHECK ((char_length(scopes) <= 4096))
);

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS user_id uuid NOT NULL;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS factor_id uuid;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS aal auth.aal_level;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS not_after timestamp with time zone;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS refreshed_at timestamp without time zone;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS user_agent text;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS ip inet;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS tag text;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS oauth_client_id uuid;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS refresh_token_hmac_key text;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS refresh_token_counter bigint;

ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS scopes text;

COMMENT ON TABLE auth.sessions IS 'Auth: Stores session data associated to a user.';

COMMENT ON COLUMN auth.sessions.not_after IS 'Auth: Not after is a nullable column that contains a timestamp after which the session should be regarded as expired.';

COMMENT ON COLUMN auth.sessions.refresh_token_hmac_key IS 'Holds a HMAC-SHA256 key used to sign refresh tokens for this session.';

COMMENT ON COLUMN auth.sessions.refresh_token_counter IS 'Holds the ID (counter) of the last issued refresh token.';

CREATE TABLE IF NOT EXISTS auth.sso_domains (
    id uuid NOT NULL,
    sso_provider_id uuid NOT NULL,
    domain text NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    CONSTRAINT "domain not empty" CHECK ((char_length(domain) > 0))
);

ALTER TABLE auth.sso_domains ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.sso_domains ADD COLUMN IF NOT EXISTS sso_provider_id uuid NOT NULL;

ALTER TABLE auth.sso_domains ADD COLUMN IF NOT EXISTS domain text NOT NULL;

ALTER TABLE auth.sso_domains ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.sso_domains ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

COMMENT ON TABLE auth.sso_domains IS 'Auth: Manages SSO email address domain mapping to an SSO Identity Provider.';

CREATE TABLE IF NOT EXISTS auth.sso_providers (
    id uuid NOT NULL,
    resource_id text,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    disabled boolean,
    CONSTRAINT "resource_id not empty" CHECK (((resource_id = NULL::text) OR (char_length(resource_id) > 0)))
);

ALTER TABLE auth.sso_providers ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.sso_providers ADD COLUMN IF NOT EXISTS resource_id text;

ALTER TABLE auth.sso_providers ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.sso_providers ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.sso_providers ADD COLUMN IF NOT EXISTS disabled boolean;

COMMENT ON TABLE auth.sso_providers IS 'Auth: Manages SSO identity provider information; see saml_providers for SAML.';

COMMENT ON COLUMN auth.sso_providers.resource_id IS 'Auth: Uniquely identifies a SSO provider according to a user-chosen resource ID (case insensitive), useful in infrastructure as code.';

CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid NOT NULL,
    aud character varying(255),
    role character varying(255),
    email character varying(255),
    encrypted_password character varying(255),
    email_confirmed_at timestamp with time zone,
    invited_at timestamp with time zone,
    confirmation_token character varying(255),
    confirmation_sent_at timestamp with time zone,
    recovery_token character varying(255),
    recovery_sent_at timestamp with time zone,
    email_change_token_new character varying(255),
    email_change character varying(255),
    email_change_sent_at timestamp with time zone,
    last_sign_in_at timestamp with time zone,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    phone text DEFAULT NULL::character varying,
    phone_confirmed_at timestamp with time zone,
    phone_change text DEFAULT ''::character varying,
    phone_change_token character varying(255) DEFAULT ''::character varying,
    phone_change_sent_at timestamp with time zone,
    confirmed_at timestamp with time zone GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
    email_change_token_current character varying(255) DEFAULT ''::character varying,
    email_change_confirm_status smallint DEFAULT 0,
    banned_until timestamp with time zone,
    reauthentication_token character varying(255) DEFAULT ''::character varying,
    reauthentication_sent_at timestamp with time zone,
    is_sso_user boolean DEFAULT false NOT NULL,
    deleted_at timestamp with time zone,
    is_anonymous boolean DEFAULT false NOT NULL,
    CONSTRAINT users_email_change_confirm_status_check CHECK (((email_change_confirm_status >= 0) AND (email_change_confirm_status <= 2)))
);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS instance_id uuid;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS id uuid NOT NULL;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS aud character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS role character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS encrypted_password character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_confirmed_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS invited_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS confirmation_token character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS confirmation_sent_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS recovery_token character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS recovery_sent_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change_token_new character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change character varying(255);

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change_sent_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS last_sign_in_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS raw_app_meta_data jsonb;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS raw_user_meta_data jsonb;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS is_super_admin boolean;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS created_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS phone text DEFAULT NULL::character varying;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS phone_confirmed_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS phone_change text DEFAULT ''::character varying;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS phone_change_token character varying(255) DEFAULT ''::character varying;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS phone_change_sent_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS confirmed_at timestamp with time zone GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change_token_current character varying(255) DEFAULT ''::character varying;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change_confirm_status smallint DEFAULT 0;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS banned_until timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS reauthentication_token character varying(255) DEFAULT ''::character varying;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS reauthentication_sent_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS is_sso_user boolean DEFAULT false NOT NULL;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS deleted_at timestamp with time zone;

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS is_anonymous boolean DEFAULT false NOT NULL;

COMMENT ON TABLE auth.users IS 'Auth: Stores user login data within a secure schema.';

COMMENT ON COLUMN auth.users.is_sso_user IS 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';

CREATE TABLE IF NOT EXISTS auth.webauthn_challenges (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    challenge_type text NOT NULL,
    session_data jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT webauthn_challenges_challenge_type_check CHECK ((challenge_type = ANY (ARRAY['signup'::text, 'registration'::text, 'authentication'::text])))
);

ALTER TABLE auth.webauthn_challenges ADD COLUMN IF NOT EXISTS id uuid DEFAULT gen_random_uuid() NOT NULL;

ALTER TABLE auth.webauthn_challenges ADD COLUMN IF NOT EXISTS user_id uuid;

ALTER TABLE auth.webauthn_challenges ADD COLUMN IF NOT EXISTS challenge_type text NOT NULL;

ALTER TABLE auth.webauthn_challenges ADD COLUMN IF NOT EXISTS session_data jsonb NOT NULL;

ALTER TABLE auth.webauthn_challenges ADD COLUMN IF NOT EXISTS created_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.webauthn_challenges ADD COLUMN IF NOT EXISTS expires_at timestamp with time zone NOT NULL;

CREATE TABLE IF NOT EXISTS auth.webauthn_credentials (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    credential_id bytea NOT NULL,
    public_key bytea NOT NULL,
    attestation_type text DEFAULT ''::text NOT NULL,
    aaguid uuid,
    sign_count bigint DEFAULT 0 NOT NULL,
    transports jsonb DEFAULT '[]'::jsonb NOT NULL,
    backup_eligible boolean DEFAULT false NOT NULL,
    backed_up boolean DEFAULT false NOT NULL,
    friendly_name text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone
);

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS id uuid DEFAULT gen_random_uuid() NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS user_id uuid NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS credential_id bytea NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS public_key bytea NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS attestation_type text DEFAULT ''::text NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS aaguid uuid;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS sign_count bigint DEFAULT 0 NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS transports jsonb DEFAULT '[]'::jsonb NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS backup_eligible boolean DEFAULT false NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS backed_up boolean DEFAULT false NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS friendly_name text DEFAULT ''::text NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS created_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS updated_at timestamp with time zone DEFAULT now() NOT NULL;

ALTER TABLE auth.webauthn_credentials ADD COLUMN IF NOT EXISTS last_used_at timestamp with time zone;

ALTER TABLE ONLY auth.refresh_tokens ALTER COLUMN id SET DEFAULT nextval('auth.refresh_tokens_id_seq'::regclass);

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'amr_id_pk' AND conrelid = 'auth.mfa_amr_claims'::regclass) THEN
ALTER TABLE ONLY auth.mfa_amr_claims
    ADD CONSTRAINT amr_id_pk PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'audit_log_entries_pkey' AND conrelid = 'auth.audit_log_entries'::regclass) THEN
ALTER TABLE ONLY auth.audit_log_entries
    ADD CONSTRAINT audit_log_entries_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'custom_oauth_providers_identifier_key' AND conrelid = 'auth.custom_oauth_providers'::regclass) THEN
ALTER TABLE ONLY auth.custom_oauth_providers
    ADD CONSTRAINT custom_oauth_providers_identifier_key UNIQUE (identifier);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'custom_oauth_providers_pkey' AND conrelid = 'auth.custom_oauth_providers'::regclass) THEN
ALTER TABLE ONLY auth.custom_oauth_providers
    ADD CONSTRAINT custom_oauth_providers_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'flow_state_pkey' AND conrelid = 'auth.flow_state'::regclass) THEN
ALTER TABLE ONLY auth.flow_state
    ADD CONSTRAINT flow_state_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'identities_pkey' AND conrelid = 'auth.identities'::regclass) THEN
ALTER TABLE ONLY auth.identities
    ADD CONSTRAINT identities_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'identities_provider_id_provider_unique' AND conrelid = 'auth.identities'::regclass) THEN
ALTER TABLE ONLY auth.identities
    ADD CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'instances_pkey' AND conrelid = 'auth.instances'::regclass) THEN
ALTER TABLE ONLY auth.instances
    ADD CONSTRAINT instances_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_amr_claims_session_id_authentication_method_pkey' AND conrelid = 'auth.mfa_amr_claims'::regclass) THEN
ALTER TABLE ONLY auth.mfa_amr_claims
    ADD CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_challenges_pkey' AND conrelid = 'auth.mfa_challenges'::regclass) THEN
ALTER TABLE ONLY auth.mfa_challenges
    ADD CONSTRAINT mfa_challenges_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_factors_last_challenged_at_key' AND conrelid = 'auth.mfa_factors'::regclass) THEN
ALTER TABLE ONLY auth.mfa_factors
    ADD CONSTRAINT mfa_factors_last_challenged_at_key UNIQUE (last_challenged_at);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_factors_pkey' AND conrelid = 'auth.mfa_factors'::regclass) THEN
ALTER TABLE ONLY auth.mfa_factors
    ADD CONSTRAINT mfa_factors_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_authorizations_authorization_code_key' AND conrelid = 'auth.oauth_authorizations'::regclass) THEN
ALTER TABLE ONLY auth.oauth_authorizations
    ADD CONSTRAINT oauth_authorizations_authorization_code_key UNIQUE (authorization_code);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_authorizations_authorization_id_key' AND conrelid = 'auth.oauth_authorizations'::regclass) THEN
ALTER TABLE ONLY auth.oauth_authorizations
    ADD CONSTRAINT oauth_authorizations_authorization_id_key UNIQUE (authorization_id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_authorizations_pkey' AND conrelid = 'auth.oauth_authorizations'::regclass) THEN
ALTER TABLE ONLY auth.oauth_authorizations
    ADD CONSTRAINT oauth_authorizations_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_client_states_pkey' AND conrelid = 'auth.oauth_client_states'::regclass) THEN
ALTER TABLE ONLY auth.oauth_client_states
    ADD CONSTRAINT oauth_client_states_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_clients_pkey' AND conrelid = 'auth.oauth_clients'::regclass) THEN
ALTER TABLE ONLY auth.oauth_clients
    ADD CONSTRAINT oauth_clients_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_consents_pkey' AND conrelid = 'auth.oauth_consents'::regclass) THEN
ALTER TABLE ONLY auth.oauth_consents
    ADD CONSTRAINT oauth_consents_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_consents_user_client_unique' AND conrelid = 'auth.oauth_consents'::regclass) THEN
ALTER TABLE ONLY auth.oauth_consents
    ADD CONSTRAINT oauth_consents_user_client_unique UNIQUE (user_id, client_id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'one_time_tokens_pkey' AND conrelid = 'auth.one_time_tokens'::regclass) THEN
ALTER TABLE ONLY auth.one_time_tokens
    ADD CONSTRAINT one_time_tokens_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'refresh_tokens_pkey' AND conrelid = 'auth.refresh_tokens'::regclass) THEN
ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'refresh_tokens_token_unique' AND conrelid = 'auth.refresh_tokens'::regclass) THEN
ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_token_unique UNIQUE (token);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'saml_providers_entity_id_key' AND conrelid = 'auth.saml_providers'::regclass) THEN
ALTER TABLE ONLY auth.saml_providers
    ADD CONSTRAINT saml_providers_entity_id_key UNIQUE (entity_id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'saml_providers_pkey' AND conrelid = 'auth.saml_providers'::regclass) THEN
ALTER TABLE ONLY auth.saml_providers
    ADD CONSTRAINT saml_providers_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'saml_relay_states_pkey' AND conrelid = 'auth.saml_relay_states'::regclass) THEN
ALTER TABLE ONLY auth.saml_relay_states
    ADD CONSTRAINT saml_relay_states_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'schema_migrations_pkey' AND conrelid = 'auth.schema_migrations'::regclass) THEN
ALTER TABLE ONLY auth.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'sessions_pkey' AND conrelid = 'auth.sessions'::regclass) THEN
ALTER TABLE ONLY auth.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'sso_domains_pkey' AND conrelid = 'auth.sso_domains'::regclass) THEN
ALTER TABLE ONLY auth.sso_domains
    ADD CONSTRAINT sso_domains_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'sso_providers_pkey' AND conrelid = 'auth.sso_providers'::regclass) THEN
ALTER TABLE ONLY auth.sso_providers
    ADD CONSTRAINT sso_providers_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'users_phone_key' AND conrelid = 'auth.users'::regclass) THEN
ALTER TABLE ONLY auth.users
    ADD CONSTRAINT users_phone_key UNIQUE (phone);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'users_pkey' AND conrelid = 'auth.users'::regclass) THEN
ALTER TABLE ONLY auth.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'webauthn_challenges_pkey' AND conrelid = 'auth.webauthn_challenges'::regclass) THEN
ALTER TABLE ONLY auth.webauthn_challenges
    ADD CONSTRAINT webauthn_challenges_pkey PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'webauthn_credentials_pkey' AND conrelid = 'auth.webauthn_credentials'::regclass) THEN
ALTER TABLE ONLY auth.webauthn_credentials
    ADD CONSTRAINT webauthn_credentials_pkey PRIMARY KEY (id);
END IF; END $strata$;

CREATE INDEX IF NOT EXISTS audit_logs_instance_id_idx ON auth.audit_log_entries USING btree (instance_id);

CREATE UNIQUE INDEX IF NOT EXISTS confirmation_token_idx ON auth.users USING btree (confirmation_token) WHERE ((confirmation_token)::text !~ '^[0-9 ]*$'::text);

CREATE INDEX IF NOT EXISTS custom_oauth_providers_created_at_idx ON auth.custom_oauth_providers USING btree (created_at);

CREATE INDEX IF NOT EXISTS custom_oauth_providers_enabled_idx ON auth.custom_oauth_providers USING btree (enabled);

CREATE INDEX IF NOT EXISTS custom_oauth_providers_identifier_idx ON auth.custom_oauth_providers USING btree (identifier);

CREATE INDEX IF NOT EXISTS custom_oauth_providers_provider_type_idx ON auth.custom_oauth_providers USING btree (provider_type);

CREATE UNIQUE INDEX IF NOT EXISTS email_change_token_current_idx ON auth.users USING btree (email_change_token_current) WHERE ((email_change_token_current)::text !~ '^[0-9 ]*$'::text);

CREATE UNIQUE INDEX IF NOT EXISTS email_change_token_new_idx ON auth.users USING btree (email_change_token_new) WHERE ((email_change_token_new)::text !~ '^[0-9 ]*$'::text);

CREATE INDEX IF NOT EXISTS factor_id_created_at_idx ON auth.mfa_factors USING btree (user_id, created_at);

CREATE INDEX IF NOT EXISTS flow_state_created_at_idx ON auth.flow_state USING btree (created_at DESC);

CREATE INDEX IF NOT EXISTS identities_email_idx ON auth.identities USING btree (email text_pattern_ops);

COMMENT ON INDEX auth.identities_email_idx IS 'Auth: Ensures indexed queries on the email column';

CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities USING btree (user_id);

CREATE INDEX IF NOT EXISTS idx_auth_code ON auth.flow_state USING btree (auth_code);

CREATE INDEX IF NOT EXISTS idx_oauth_client_states_created_at ON auth.oauth_client_states USING btree (created_at);

CREATE INDEX IF NOT EXISTS idx_user_id_auth_method ON auth.flow_state USING btree (user_id, authentication_method);

CREATE INDEX IF NOT EXISTS mfa_challenge_created_at_idx ON auth.mfa_challenges USING btree (created_at DESC);

CREATE UNIQUE INDEX IF NOT EXISTS mfa_factors_user_friendly_name_unique ON auth.mfa_factors USING btree (friendly_name, user_id) WHERE (TRIM(BOTH FROM friendly_name) <> ''::text);

CREATE INDEX IF NOT EXISTS mfa_factors_user_id_idx ON auth.mfa_factors USING btree (user_id);

CREATE INDEX IF NOT EXISTS oauth_auth_pending_exp_idx ON auth.oauth_authorizations USING btree (expires_at) WHERE (status = 'pending'::auth.oauth_authorization_status);

CREATE INDEX IF NOT EXISTS oauth_clients_deleted_at_idx ON auth.oauth_clients USING btree (deleted_at);

CREATE INDEX IF NOT EXISTS oauth_consents_active_client_idx ON auth.oauth_consents USING btree (client_id) WHERE (revoked_at IS NULL);

CREATE INDEX IF NOT EXISTS oauth_consents_active_user_client_idx ON auth.oauth_consents USING btree (user_id, client_id) WHERE (revoked_at IS NULL);

CREATE INDEX IF NOT EXISTS oauth_consents_user_order_idx ON auth.oauth_consents USING btree (user_id, granted_at DESC);

CREATE INDEX IF NOT EXISTS one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);

CREATE INDEX IF NOT EXISTS one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);

CREATE UNIQUE INDEX IF NOT EXISTS one_time_tokens_user_id_token_type_key ON auth.one_time_tokens USING btree (user_id, token_type);

CREATE UNIQUE INDEX IF NOT EXISTS reauthentication_token_idx ON auth.users USING btree (reauthentication_token) WHERE ((reauthentication_token)::text !~ '^[0-9 ]*$'::text);

CREATE UNIQUE INDEX IF NOT EXISTS recovery_token_idx ON auth.users USING btree (recovery_token) WHERE ((recovery_token)::text !~ '^[0-9 ]*$'::text);

CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_idx ON auth.refresh_tokens USING btree (instance_id);

CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_user_id_idx ON auth.refresh_tokens USING btree (instance_id, user_id);

CREATE INDEX IF NOT EXISTS refresh_tokens_parent_idx ON auth.refresh_tokens USING btree (parent);

CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens USING btree (session_id, revoked);

CREATE INDEX IF NOT EXISTS refresh_tokens_updated_at_idx ON auth.refresh_tokens USING btree (updated_at DESC);

CREATE INDEX IF NOT EXISTS saml_providers_sso_provider_id_idx ON auth.saml_providers USING btree (sso_provider_id);

CREATE INDEX IF NOT EXISTS saml_relay_states_created_at_idx ON auth.saml_relay_states USING btree (created_at DESC);

CREATE INDEX IF NOT EXISTS saml_relay_states_for_email_idx ON auth.saml_relay_states USING btree (for_email);

CREATE INDEX IF NOT EXISTS saml_relay_states_sso_provider_id_idx ON auth.saml_relay_states USING btree (sso_provider_id);

CREATE INDEX IF NOT EXISTS sessions_not_after_idx ON auth.sessions USING btree (not_after DESC);

CREATE INDEX IF NOT EXISTS sessions_oauth_client_id_idx ON auth.sessions USING btree (oauth_client_id);

CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions USING btree (user_id);

CREATE UNIQUE INDEX IF NOT EXISTS sso_domains_domain_idx ON auth.sso_domains USING btree (lower(domain));

CREATE INDEX IF NOT EXISTS sso_domains_sso_provider_id_idx ON auth.sso_domains USING btree (sso_provider_id);

CREATE UNIQUE INDEX IF NOT EXISTS sso_providers_resource_id_idx ON auth.sso_providers USING btree (lower(resource_id));

CREATE INDEX IF NOT EXISTS sso_providers_resource_id_pattern_idx ON auth.sso_providers USING btree (resource_id text_pattern_ops);

CREATE UNIQUE INDEX IF NOT EXISTS unique_phone_factor_per_user ON auth.mfa_factors USING btree (user_id, phone);

CREATE INDEX IF NOT EXISTS user_id_created_at_idx ON auth.sessions USING btree (user_id, created_at);

CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key ON auth.users USING btree (email) WHERE (is_sso_user = false);

COMMENT ON INDEX auth.users_email_partial_key IS 'Auth: A partial unique index that applies only when is_sso_user is false';

CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users USING btree (instance_id, lower((email)::text));

CREATE INDEX IF NOT EXISTS users_instance_id_idx ON auth.users USING btree (instance_id);

CREATE INDEX IF NOT EXISTS users_is_anonymous_idx ON auth.users USING btree (is_anonymous);

CREATE INDEX IF NOT EXISTS webauthn_challenges_expires_at_idx ON auth.webauthn_challenges USING btree (expires_at);

CREATE INDEX IF NOT EXISTS webauthn_challenges_user_id_idx ON auth.webauthn_challenges USING btree (user_id);

CREATE UNIQUE INDEX IF NOT EXISTS webauthn_credentials_credential_id_key ON auth.webauthn_credentials USING btree (credential_id);

CREATE INDEX IF NOT EXISTS webauthn_credentials_user_id_idx ON auth.webauthn_credentials USING btree (user_id);

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'identities_user_id_fkey' AND conrelid = 'auth.identities'::regclass) THEN
ALTER TABLE ONLY auth.identities
    ADD CONSTRAINT identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_amr_claims_session_id_fkey' AND conrelid = 'auth.mfa_amr_claims'::regclass) THEN
ALTER TABLE ONLY auth.mfa_amr_claims
    ADD CONSTRAINT mfa_amr_claims_session_id_fkey FOREIGN KEY (session_id) REFERENCES auth.sessions(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_challenges_auth_factor_id_fkey' AND conrelid = 'auth.mfa_challenges'::regclass) THEN
ALTER TABLE ONLY auth.mfa_challenges
    ADD CONSTRAINT mfa_challenges_auth_factor_id_fkey FOREIGN KEY (factor_id) REFERENCES auth.mfa_factors(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'mfa_factors_user_id_fkey' AND conrelid = 'auth.mfa_factors'::regclass) THEN
ALTER TABLE ONLY auth.mfa_factors
    ADD CONSTRAINT mfa_factors_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_authorizations_client_id_fkey' AND conrelid = 'auth.oauth_authorizations'::regclass) THEN
ALTER TABLE ONLY auth.oauth_authorizations
    ADD CONSTRAINT oauth_authorizations_client_id_fkey FOREIGN KEY (client_id) REFERENCES auth.oauth_clients(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_authorizations_user_id_fkey' AND conrelid = 'auth.oauth_authorizations'::regclass) THEN
ALTER TABLE ONLY auth.oauth_authorizations
    ADD CONSTRAINT oauth_authorizations_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_consents_client_id_fkey' AND conrelid = 'auth.oauth_consents'::regclass) THEN
ALTER TABLE ONLY auth.oauth_consents
    ADD CONSTRAINT oauth_consents_client_id_fkey FOREIGN KEY (client_id) REFERENCES auth.oauth_clients(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'oauth_consents_user_id_fkey' AND conrelid = 'auth.oauth_consents'::regclass) THEN
ALTER TABLE ONLY auth.oauth_consents
    ADD CONSTRAINT oauth_consents_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'one_time_tokens_user_id_fkey' AND conrelid = 'auth.one_time_tokens'::regclass) THEN
ALTER TABLE ONLY auth.one_time_tokens
    ADD CONSTRAINT one_time_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'refresh_tokens_session_id_fkey' AND conrelid = 'auth.refresh_tokens'::regclass) THEN
ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES auth.sessions(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'saml_providers_sso_provider_id_fkey' AND conrelid = 'auth.saml_providers'::regclass) THEN
ALTER TABLE ONLY auth.saml_providers
    ADD CONSTRAINT saml_providers_sso_provider_id_fkey FOREIGN KEY (sso_provider_id) REFERENCES auth.sso_providers(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'saml_relay_states_flow_state_id_fkey' AND conrelid = 'auth.saml_relay_states'::regclass) THEN
ALTER TABLE ONLY auth.saml_relay_states
    ADD CONSTRAINT saml_relay_states_flow_state_id_fkey FOREIGN KEY (flow_state_id) REFERENCES auth.flow_state(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'saml_relay_states_sso_provider_id_fkey' AND conrelid = 'auth.saml_relay_states'::regclass) THEN
ALTER TABLE ONLY auth.saml_relay_states
    ADD CONSTRAINT saml_relay_states_sso_provider_id_fkey FOREIGN KEY (sso_provider_id) REFERENCES auth.sso_providers(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'sessions_oauth_client_id_fkey' AND conrelid = 'auth.sessions'::regclass) THEN
ALTER TABLE ONLY auth.sessions
    ADD CONSTRAINT sessions_oauth_client_id_fkey FOREIGN KEY (oauth_client_id) REFERENCES auth.oauth_clients(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'sessions_user_id_fkey' AND conrelid = 'auth.sessions'::regclass) THEN
ALTER TABLE ONLY auth.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'sso_domains_sso_provider_id_fkey' AND conrelid = 'auth.sso_domains'::regclass) THEN
ALTER TABLE ONLY auth.sso_domains
    ADD CONSTRAINT sso_domains_sso_provider_id_fkey FOREIGN KEY (sso_provider_id) REFERENCES auth.sso_providers(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'webauthn_challenges_user_id_fkey' AND conrelid = 'auth.webauthn_challenges'::regclass) THEN
ALTER TABLE ONLY auth.webauthn_challenges
    ADD CONSTRAINT webauthn_challenges_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'webauthn_credentials_user_id_fkey' AND conrelid = 'auth.webauthn_credentials'::regclass) THEN
ALTER TABLE ONLY auth.webauthn_credentials
    ADD CONSTRAINT webauthn_credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
END IF; END $strata$;

ALTER TABLE auth.audit_log_entries ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.flow_state ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.identities ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.instances ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.mfa_amr_claims ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.mfa_challenges ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.mfa_factors ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.one_time_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.saml_providers ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.saml_relay_states ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.schema_migrations ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.sso_domains ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.sso_providers ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;


GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt()
  TO anon, authenticated, service_role;
