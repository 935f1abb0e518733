-- Strata: Supabase platform emulation, cluster-wide part: the API roles (component 'supabase').
--
-- Roles belong to the whole server, not to one database, while Strata's migration lock is an
-- advisory lock of one database: pushes to two databases of one server may run this at the same
-- moment. It runs in a transaction of its own before the per-database script (supabase.sql), and
-- the Rust side retries it when another session created or granted the same role first
-- (duplicate_object, unique_violation, "tuple concurrently updated"). Idempotent.

-- ---------------------------------------------------------------------------------------------
-- Roles. Roles are cluster-wide: a second database of the same cluster finds them already there.
-- Attributes as Supabase creates them (supabase/postgres migrations/db): anon, authenticated and
-- service_role NOLOGIN (INHERIT since 2023), service_role BYPASSRLS, authenticator LOGIN NOINHERIT
-- and a member of the three. The platform's own roles exist too, NOLOGIN, because migrations
-- name them (`grant execute on function public.custom_access_token_hook to
-- supabase_auth_admin`, `alter … owner to supabase_admin`); they hold nothing here.
-- ---------------------------------------------------------------------------------------------
DO $roles$
DECLARE
  can_bypassrls boolean;
  r text;
BEGIN
  -- Creating a BYPASSRLS role needs superuser (PostgreSQL 13-15) or BYPASSRLS itself (16+).
  SELECT rolsuper OR rolbypassrls INTO can_bypassrls
    FROM pg_catalog.pg_roles WHERE rolname = current_user;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
    IF can_bypassrls THEN
      CREATE ROLE service_role NOLOGIN BYPASSRLS;
    ELSE
      CREATE ROLE service_role NOLOGIN;
      RAISE WARNING 'strata: role service_role created without BYPASSRLS'
        USING HINT = 'Only a superuser can grant BYPASSRLS; run ALTER ROLE service_role BYPASSRLS as one.';
    END IF;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
  FOREACH r IN ARRAY ARRAY['supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin',
                           'supabase_realtime_admin', 'supabase_functions_admin',
                           'supabase_replication_admin', 'supabase_read_only_user',
                           'dashboard_user', 'pgbouncer'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
  -- Emulations of version 1 made the API roles NOINHERIT, as Supabase did before 2023.
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT (SELECT rolinherit FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE pg_catalog.format('ALTER ROLE %I INHERIT', r);
      EXCEPTION WHEN insufficient_privilege THEN
        NULL;
      END;
    END IF;
  END LOOP;

  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT EXISTS (
      SELECT 1
        FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
        JOIN pg_catalog.pg_roles u ON u.oid = m.member
       WHERE g.rolname = r AND u.rolname = 'authenticator'
    ) THEN
      BEGIN
        EXECUTE pg_catalog.format('GRANT %I TO authenticator', r);
      EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'strata: could not grant role % to authenticator', r
          USING HINT = 'Grant it as a superuser; user migrations do not need it.';
      END;
    END IF;
  END LOOP;

  -- As on Supabase, where `postgres` (not a superuser) may act as the API roles (`SET ROLE
  -- authenticated` to test a policy, `strata sql --as-user`): an installing role that is not a
  -- superuser is made a member of the three.
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
      IF NOT pg_catalog.pg_has_role(current_user, r, 'MEMBER') THEN
        BEGIN
          EXECUTE pg_catalog.format('GRANT %I TO %I', r, current_user);
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'strata: could not grant role % to %', r, current_user
            USING HINT = 'Grant it as a superuser to act as the API roles (strata sql --as-user).';
        END;
      END IF;
    END LOOP;
  END IF;
END
$roles$;
