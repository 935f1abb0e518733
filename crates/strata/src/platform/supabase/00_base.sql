-- Strata: Supabase platform emulation for vanilla PostgreSQL (component 'supabase', version 2),
-- per-database part. The files of platform/supabase/ run in name order, in one transaction, under
-- the database's migration lock, after roles.sql (cluster-wide).
--
-- What user migrations can see of the platform is reproduced from the platform's own sources:
--   auth      supabase/auth (GoTrue) at bc32168e (2026-08-20): its migrations replayed on
--             PostgreSQL 15 with search_path = auth, the schema dumped, made idempotent;
--   storage   supabase/storage at 4fa61fba (2026-08-21): its tenant migrations, likewise;
--   realtime  supabase/realtime at 833cf36c (2026-08-21): priv/repo/tenant_db_dump_15.sql;
--             realtime.messages is a plain table here (partitioned there): a recording stand-in;
--   vault     supabase/vault 0.3.1: same tables, view and functions; secrets are NOT encrypted;
--   supabase_functions, net
--             supabase/supabase docker/volumes/db/webhooks.sql, and pg_net's SQL interface as a
--             recording stand-in when the server has no pg_net;
--   roles, schemas, grants
--             supabase/postgres migrations/db (init-scripts and migrations).
-- The services' internals (their own migration bookkeeping, background workers, encryption) are
-- not reproduced.
--
-- Contract with the Rust side:
--   * runs on a database that is not a real Supabase database (the caller checks that);
--   * idempotent: re-running it on its own output, or on an older version's, changes nothing
--     more and raises no error (an older version is upgraded in place);
--   * valid on PostgreSQL 13 to 18;
--   * every name is schema-qualified, so the caller's search_path does not matter.
-- The installed version is recorded in strata_platform.emulation, outside the API schemas.

-- Function bodies refer to tables created further down (as in pg_dump's output).
SET LOCAL check_function_bodies = false;

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

