-- Objects of kinds the catalog snapshot does not model (Catalog::unmodelled), outside the system
-- schemas, Strata's and extensions' own: one row each, `kind name`.
WITH ns AS (
  SELECT n.oid, n.nspname FROM pg_namespace n
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations', 'strata_platform')
     AND n.nspname !~ '^pg_(toast_)?temp_'
),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
SELECT 'aggregate ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('a', 'w') AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'operator ' || quote_ident(ns.nspname) || '.' || o.oprname || '(' || coalesce(format_type(o.oprleft, NULL), 'NONE') || ', ' || coalesce(format_type(o.oprright, NULL), 'NONE') || ')' FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)
UNION ALL
SELECT 'collation ' || quote_ident(ns.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c JOIN ns ON ns.oid = c.collnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT 'statistics ' || quote_ident(ns.nspname) || '.' || quote_ident(s.stxname) FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
UNION ALL
SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || r.ev_class::regclass::text FROM pg_rewrite r
  JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'text search configuration ' || quote_ident(ns.nspname) || '.' || quote_ident(t.cfgname) FROM pg_ts_config t JOIN ns ON ns.oid = t.cfgnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_config'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'foreign server ' || quote_ident(s.srvname) FROM pg_foreign_server s
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_foreign_server'::regclass AND ext.objid = s.oid)
UNION ALL
SELECT 'cast ' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) FROM pg_cast c
 WHERE c.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_cast'::regclass AND ext.objid = c.oid)
ORDER BY 1
