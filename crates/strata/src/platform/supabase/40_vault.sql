-- ---------------------------------------------------------------------------------------------
-- Schema vault (supabase/vault 0.3.1): vault.secrets, the vault.decrypted_secrets view,
-- vault.create_secret() and vault.update_secret(), with Supabase's signatures, so that migrations
-- that store a webhook key or an API token in the vault apply. A stand-in: the secret is stored
-- base64-encoded, NOT encrypted — this emulation is for development and test databases.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS vault;

CREATE TABLE IF NOT EXISTS vault.secrets (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text,
  description text        NOT NULL DEFAULT '',
  secret      text        NOT NULL,
  key_id      uuid,
  nonce       bytea       DEFAULT pg_catalog.decode(pg_catalog.md5(pg_catalog.random()::text), 'hex'),
  created_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE vault.secrets IS
  'Table with encrypted `secret` column for storing sensitive information on disk.';
CREATE UNIQUE INDEX IF NOT EXISTS secrets_name_idx ON vault.secrets USING btree (name)
  WHERE name IS NOT NULL;

CREATE OR REPLACE VIEW vault.decrypted_secrets AS
SELECT s.id,
       s.name,
       s.description,
       s.secret,
       pg_catalog.convert_from(pg_catalog.decode(s.secret, 'base64'), 'utf8') AS decrypted_secret,
       s.key_id,
       s.nonce,
       s.created_at,
       s.updated_at
  FROM vault.secrets s;

CREATE OR REPLACE FUNCTION vault.create_secret(
  new_secret text,
  new_name text = NULL,
  new_description text = '',
  new_key_id uuid = NULL
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  new_id uuid;
BEGIN
  INSERT INTO vault.secrets (secret, name, description)
  VALUES (pg_catalog.encode(pg_catalog.convert_to(new_secret, 'utf8'), 'base64'),
          new_name, new_description)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

CREATE OR REPLACE FUNCTION vault.update_secret(
  secret_id uuid,
  new_secret text = NULL,
  new_name text = NULL,
  new_description text = NULL,
  new_key_id uuid = NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  UPDATE vault.secrets s
     SET secret = CASE WHEN new_secret IS NULL THEN s.secret
                       ELSE pg_catalog.encode(pg_catalog.convert_to(new_secret, 'utf8'), 'base64') END,
         name = pg_catalog.coalesce(new_name, s.name),
         description = pg_catalog.coalesce(new_description, s.description),
         updated_at = pg_catalog.now()
   WHERE s.id = secret_id;
END
$$;

-- As on Supabase: the secrets are for the database's own functions (SECURITY DEFINER ones, cron
-- jobs), not for the API roles.
REVOKE ALL ON SCHEMA vault FROM PUBLIC;
REVOKE ALL ON FUNCTION vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid) FROM PUBLIC;
