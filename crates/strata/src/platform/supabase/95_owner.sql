-- ---------------------------------------------------------------------------------------------
-- Strata: "an admin bootstraps, the app role migrates". Installed by a superuser into a database
-- another role owns, the emulation's schemas and objects are handed to the database's owner, as
-- if that owner had installed them: a later push by the owner (not a superuser) can read the
-- marker, create policies on storage.objects and triggers on auth.users, as the migrations of a
-- Supabase project do. Extension members stay with their extension. Nothing happens when the
-- installing role owns the database, or is not a superuser.
-- ---------------------------------------------------------------------------------------------
DO $owner$
DECLARE
  owner name := (SELECT pg_catalog.pg_get_userbyid(d.datdba) FROM pg_catalog.pg_database d
                  WHERE d.datname = pg_catalog.current_database());
  s text;
  r record;
BEGIN
  IF owner = current_user
     OR NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  -- The owner may act as the API roles, as Supabase's `postgres` may.
  FOREACH s IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT pg_catalog.pg_has_role(owner, s, 'MEMBER') THEN
      EXECUTE pg_catalog.format('GRANT %I TO %I', s, owner);
    END IF;
  END LOOP;
  -- The installer's default privileges for the API roles (tables, sequences and functions the
  -- owner's migrations create get the grants Supabase gives them), set for the owner too.
  FOR r IN
    SELECT n.nspname, d.defaclobjtype, x.privilege_type, x.is_grantable,
           CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END AS grantee
      FROM pg_catalog.pg_default_acl d
      JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) x
     WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
       AND x.grantee <> d.defaclrole
  LOOP
    EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON %s TO %s%s',
      owner, r.nspname, r.privilege_type,
      CASE r.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                           WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END,
      r.grantee, CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
  FOREACH s IN ARRAY ARRAY['auth', 'storage', 'realtime', 'vault', 'supabase_functions', 'net',
                           'extensions', 'strata_platform'] LOOP
    IF pg_catalog.to_regnamespace(s) IS NULL THEN
      CONTINUE;
    END IF;
    EXECUTE pg_catalog.format('ALTER SCHEMA %I OWNER TO %I', s, owner);
    FOR r IN
      SELECT c.oid, c.relkind, pg_catalog.format('%I.%I', n.nspname, c.relname) AS name
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i', 'a'))
    LOOP
      EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', r.name, owner);
    END LOOP;
    FOR r IN
      SELECT p.oid::regprocedure AS sig, p.prokind
        FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = s
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
      EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I',
        CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.sig, owner);
    END LOOP;
    FOR r IN
      SELECT pg_catalog.format('%I.%I', n.nspname, t.typname) AS name
        FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = s AND t.typtype IN ('e', 'd', 'c', 'r')
         AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
      EXECUTE pg_catalog.format('ALTER TYPE %s OWNER TO %I', r.name, owner);
    END LOOP;
  END LOOP;
END
$owner$;
