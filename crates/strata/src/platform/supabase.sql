-- Strata: Supabase platform emulation for vanilla PostgreSQL (component 'supabase', version 1).
--
-- Provides the platform objects that Supabase migrations and their RLS policies rely on: the API
-- roles, the `extensions` schema, `auth.users` with auth.uid()/role()/email()/jwt(), the storage
-- tables and path helpers, and the `supabase_realtime` publication. Definitions follow the public
-- supabase/postgres, supabase/auth and supabase/storage migrations (columns, types, defaults,
-- grants); only what user migrations can see is reproduced, not the services' internals.
--
-- Contract with the Rust side:
--   * runs in one transaction, under the database's migration lock, after supabase_roles.sql (the
--     API roles, cluster-wide) and before user migrations, on a database that is not a real
--     Supabase database (the caller checks that);
--   * idempotent: re-running it on its own output changes nothing and raises no error;
--   * valid on PostgreSQL 13 to 18 (gen_random_uuid() is in pg_catalog from 13 on);
--   * every name is schema-qualified, so the caller's search_path does not matter.
-- The installed version is recorded in strata_platform.emulation, outside the API schemas.

-- ---------------------------------------------------------------------------------------------
-- Schema public: USAGE for the API roles, and default privileges so that every table, sequence
-- and function the migrating role creates in public is reachable by them (RLS does the
-- filtering), as on Supabase.
-- ---------------------------------------------------------------------------------------------
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Schema extensions, with pgcrypto and uuid-ossp in it. An extension already installed in another
-- schema is left where it is (IF NOT EXISTS); one whose files are missing from the server is
-- skipped with a warning rather than failing the whole emulation.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS extensions;
GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;

DO $extensions$
DECLARE
  ext text;
BEGIN
  FOREACH ext IN ARRAY ARRAY['uuid-ossp', 'pgcrypto'] LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = ext) THEN
      CONTINUE;
    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = ext) THEN
      EXECUTE pg_catalog.format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA extensions', ext);
    ELSE
      RAISE WARNING 'strata: extension % is not available on this server; skipped', ext
        USING HINT = 'Install the PostgreSQL contrib package to get it.';
    END IF;
  END LOOP;
END
$extensions$;

-- The database's search_path includes `extensions`, as on Supabase, so uuid_generate_v4() and
-- crypt() resolve unqualified in new sessions. A database-level search_path that already names
-- `extensions` is respected. The current session gets `extensions` appended too, so migrations
-- run right after this script on the same connection see what a new session would see.
-- (gen_random_uuid() needs none of this: it is in pg_catalog from PostgreSQL 13 on.)
DO $search_path$
DECLARE
  db_setting text;
BEGIN
  SELECT s.cfg INTO db_setting
    FROM pg_catalog.pg_db_role_setting d
    JOIN pg_catalog.pg_database db ON db.oid = d.setdatabase
   CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS s(cfg)
   WHERE db.datname = pg_catalog.current_database()
     AND d.setrole = 0
     AND s.cfg LIKE 'search_path=%';

  IF db_setting IS NULL OR db_setting !~ '(^|[=,\s"])extensions($|[,\s"])' THEN
    EXECUTE pg_catalog.format(
      'ALTER DATABASE %I SET search_path = "$user", public, extensions',
      pg_catalog.current_database());
  END IF;

  IF NOT ('extensions' = ANY (pg_catalog.string_to_array(
            pg_catalog.replace(pg_catalog.replace(pg_catalog.current_setting('search_path'), '"', ''), ' ', ''),
            ','))) THEN
    PERFORM pg_catalog.set_config('search_path',
      pg_catalog.concat_ws(', ', nullif(pg_catalog.current_setting('search_path'), ''), 'extensions'),
      false);
  END IF;
END
$search_path$;

-- ---------------------------------------------------------------------------------------------
-- Schema auth: auth.users and the request helpers.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

CREATE TABLE IF NOT EXISTS auth.users (
  instance_id                 uuid,
  id                          uuid NOT NULL,
  aud                         varchar(255),
  role                        varchar(255),
  email                       varchar(255),
  encrypted_password          varchar(255),
  email_confirmed_at          timestamptz,
  invited_at                  timestamptz,
  confirmation_token          varchar(255),
  confirmation_sent_at        timestamptz,
  recovery_token              varchar(255),
  recovery_sent_at            timestamptz,
  email_change_token_new      varchar(255),
  email_change                varchar(255),
  email_change_sent_at        timestamptz,
  last_sign_in_at             timestamptz,
  raw_app_meta_data           jsonb,
  raw_user_meta_data          jsonb,
  is_super_admin              boolean,
  created_at                  timestamptz,
  updated_at                  timestamptz,
  phone                       text DEFAULT NULL::character varying,
  phone_confirmed_at          timestamptz,
  phone_change                text DEFAULT ''::character varying,
  phone_change_token          varchar(255) DEFAULT ''::character varying,
  phone_change_sent_at        timestamptz,
  confirmed_at                timestamptz
                              GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
  email_change_token_current  varchar(255) DEFAULT ''::character varying,
  email_change_confirm_status smallint DEFAULT 0,
  banned_until                timestamptz,
  reauthentication_token      varchar(255) DEFAULT ''::character varying,
  reauthentication_sent_at    timestamptz,
  is_sso_user                 boolean NOT NULL DEFAULT false,
  deleted_at                  timestamptz,
  is_anonymous                boolean NOT NULL DEFAULT false,
  CONSTRAINT users_pkey PRIMARY KEY (id),
  CONSTRAINT users_phone_key UNIQUE (phone),
  CONSTRAINT users_email_change_confirm_status_check
    CHECK (email_change_confirm_status >= 0 AND email_change_confirm_status <= 2)
);

COMMENT ON TABLE auth.users IS 'Auth: Stores user login data within a secure schema.';
COMMENT ON COLUMN auth.users.is_sso_user IS
  'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';

-- Supabase's indexes: an email is unique among non-SSO users; tokens are unique once issued
-- (empty and numeric placeholder tokens are excluded).
CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key
  ON auth.users (email) WHERE (is_sso_user = false);
CREATE INDEX IF NOT EXISTS users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users (instance_id, pg_catalog.lower(email::text));
CREATE INDEX IF NOT EXISTS users_is_anonymous_idx ON auth.users (is_anonymous);
CREATE UNIQUE INDEX IF NOT EXISTS confirmation_token_idx
  ON auth.users (confirmation_token) WHERE confirmation_token::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS recovery_token_idx
  ON auth.users (recovery_token) WHERE recovery_token::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS email_change_token_current_idx
  ON auth.users (email_change_token_current) WHERE email_change_token_current::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS email_change_token_new_idx
  ON auth.users (email_change_token_new) WHERE email_change_token_new::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS reauthentication_token_idx
  ON auth.users (reauthentication_token) WHERE reauthentication_token::text !~ '^[0-9 ]*$';

-- As on Supabase: RLS on, no policies, and no grants to the API roles (none are given here, and
-- the default privileges above cover schema public only), so auth.users is not readable through
-- the API. The owner (the migrating role) still reads and writes it, and foreign keys from public
-- tables to auth.users(id) work. Nothing here revokes: a re-run must not undo a project's grants.
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;

-- The request helpers read the claims PostgREST puts in the transaction's settings: the old
-- one-setting-per-claim style (request.jwt.claim.sub, PostgREST < 9) first, then the JSON
-- document request.jwt.claims. Empty strings count as unset. STABLE, so a policy written
-- `(select auth.uid())` evaluates it once per statement.
CREATE OR REPLACE FUNCTION auth.uid()
RETURNS uuid
LANGUAGE sql STABLE
AS $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role()
RETURNS text
LANGUAGE sql STABLE
AS $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

CREATE OR REPLACE FUNCTION auth.email()
RETURNS text
LANGUAGE sql STABLE
AS $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

CREATE OR REPLACE FUNCTION auth.jwt()
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt()
  TO anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Schema storage: buckets, objects and the path helpers used in storage policies.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS storage;
GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;

-- Supabase declares `type` with an enum (storage.buckettype, default 'STANDARD'). A text column
-- with a CHECK accepts the same literals in INSERTs and comparisons, adds no type that a
-- project's dump or rollback would have to know about, and can be widened in one transaction by
-- replacing the constraint (a value added with ALTER TYPE ... ADD VALUE cannot be used before
-- its transaction commits).
CREATE TABLE IF NOT EXISTS storage.buckets (
  id                 text NOT NULL,
  name               text NOT NULL,
  owner              uuid,
  owner_id           text,
  created_at         timestamptz DEFAULT now(),
  updated_at         timestamptz DEFAULT now(),
  public             boolean DEFAULT false,
  avif_autodetection boolean DEFAULT false,
  file_size_limit    bigint,
  allowed_mime_types text[],
  type               text NOT NULL DEFAULT 'STANDARD',
  versioning_status  text,
  CONSTRAINT buckets_pkey PRIMARY KEY (id),
  CONSTRAINT buckets_type_check CHECK (type IN ('STANDARD', 'ANALYTICS', 'VECTOR'))
);
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets USING btree (name);
COMMENT ON COLUMN storage.buckets.owner IS 'Field is deprecated, use owner_id instead';

CREATE TABLE IF NOT EXISTS storage.objects (
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  bucket_id        text,
  name             text,
  owner            uuid,
  owner_id         text,
  created_at       timestamptz DEFAULT now(),
  updated_at       timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now(),
  metadata         jsonb,
  path_tokens      text[] GENERATED ALWAYS AS (pg_catalog.string_to_array(name, '/')) STORED,
  version          text,
  user_metadata    jsonb,
  CONSTRAINT objects_pkey PRIMARY KEY (id),
  CONSTRAINT "objects_bucketId_fkey" FOREIGN KEY (bucket_id) REFERENCES storage.buckets (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects USING btree (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects (name text_pattern_ops);
COMMENT ON COLUMN storage.objects.owner IS 'Field is deprecated, use owner_id instead';

-- RLS on, not forced, no policies: the API roles see nothing until the project's migrations add
-- storage policies, exactly as on a new Supabase project.
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
GRANT ALL ON TABLE storage.buckets, storage.objects TO anon, authenticated, service_role;

-- Path helpers, same results as Supabase's (plpgsql there, plain SQL here):
--   foldername('a/b/c.png') = {a,b}; filename('a/b/c.png') = 'c.png'; extension('a/b/c.png') = 'png'.
-- Like Supabase's, extension() of a name without a dot returns the whole file name.
CREATE OR REPLACE FUNCTION storage.foldername(name text)
RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$
  select _parts[1 : pg_catalog.array_length(_parts, 1) - 1]
    from (select pg_catalog.string_to_array(name, '/') as _parts) as p
$$;

CREATE OR REPLACE FUNCTION storage.filename(name text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  select _parts[pg_catalog.array_length(_parts, 1)]
    from (select pg_catalog.string_to_array(name, '/') as _parts) as p
$$;

CREATE OR REPLACE FUNCTION storage.extension(name text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  select pg_catalog.reverse(pg_catalog.split_part(pg_catalog.reverse(
           _parts[pg_catalog.array_length(_parts, 1)]), '.', 1))
    from (select pg_catalog.string_to_array(name, '/') as _parts) as p
$$;

GRANT EXECUTE ON FUNCTION storage.foldername(text), storage.filename(text), storage.extension(text)
  TO anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Realtime: the (empty) publication projects add tables to.
-- ---------------------------------------------------------------------------------------------
-- With wal_level below 'logical' PostgreSQL warns that the publication cannot publish yet; that
-- is expected on a development server and not worth a warning on every emulated database, so the
-- warning is silenced for this one statement.
DO $realtime$
DECLARE
  saved text := pg_catalog.current_setting('client_min_messages');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = 'supabase_realtime') THEN
    PERFORM pg_catalog.set_config('client_min_messages', 'error', true);
    CREATE PUBLICATION supabase_realtime;
    PERFORM pg_catalog.set_config('client_min_messages', saved, true);
  END IF;
END
$realtime$;

-- ---------------------------------------------------------------------------------------------
-- Version marker. Not in an API schema and not readable by the API roles.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS strata_platform;
REVOKE ALL ON SCHEMA strata_platform FROM PUBLIC;

CREATE TABLE IF NOT EXISTS strata_platform.emulation (
  component    text PRIMARY KEY,
  version      integer NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE strata_platform.emulation IS
  'Strata: platform emulations installed in this database (component, version).';

INSERT INTO strata_platform.emulation (component, version)
VALUES ('supabase', 1)
ON CONFLICT (component) DO UPDATE
  SET version = EXCLUDED.version, installed_at = now()
  WHERE strata_platform.emulation.version < EXCLUDED.version;
