-- The catalog snapshot of `strata::catalog` (Catalog::capture): one row per object.
-- Columns: kind, name (identity), schema, parent, local name, properties (JSON text).
-- The names in braces below (ACL columns) are replaced by ACL expressions before it runs
-- (catalog.rs, `acl`).
WITH ns AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl
    FROM pg_namespace n
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations', 'strata_platform')
     AND n.nspname !~ '^pg_(toast_)?temp_'
),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
rel AS (
  SELECT c.oid, c.relkind, ns.nspname, quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
)
SELECT 'schema', quote_ident(ns.nspname), ns.nspname, NULL, quote_ident(ns.nspname),
       jsonb_build_object('owner', quote_ident(pg_get_userbyid(ns.nspowner)), 'acl', {nspacl})::text
  FROM ns
UNION ALL
SELECT 'extension', quote_ident(e.extname), NULL, NULL, e.extname,
       jsonb_build_object('version', e.extversion, 'schema', e.extnamespace::regnamespace::text)::text
  FROM pg_extension e
UNION ALL
SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END,
       r.qname, r.nspname, NULL, quote_ident(c.relname),
       (jsonb_build_object(
          'kind', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                    WHEN 'f' THEN 'foreign table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                    WHEN 'S' THEN 'sequence' END,
          'owner', quote_ident(pg_get_userbyid(c.relowner)),
          'acl', {relacl},
          'options', array_to_string(c.reloptions, ', '))
        || CASE WHEN c.relpersistence = 'u' THEN jsonb_build_object('persistence', 'unlogged') ELSE '{}'::jsonb END
        || CASE WHEN c.relkind = 'm' AND NOT c.relispopulated THEN jsonb_build_object('populated', 'false') ELSE '{}'::jsonb END
        || CASE WHEN c.relkind IN ('r', 'p', 'f') THEN jsonb_build_object(
          'rls', c.relrowsecurity::text, 'force_rls', c.relforcerowsecurity::text,
          'replica_identity', CASE c.relreplident WHEN 'd' THEN 'DEFAULT' WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
              ELSE 'USING INDEX ' || coalesce((SELECT quote_ident(ic.relname) FROM pg_index ri JOIN pg_class ic ON ic.oid = ri.indexrelid
                                                WHERE ri.indrelid = c.oid AND ri.indisreplident), '?') END,
          'partition_by', pg_get_partkeydef(c.oid),
          'partition_of', (SELECT pi.inhparent::regclass::text FROM pg_inherits pi WHERE pi.inhrelid = c.oid AND c.relispartition),
          'partition_bound', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
          'inherits', CASE WHEN NOT c.relispartition THEN (SELECT string_agg(pi.inhparent::regclass::text, ', ' ORDER BY pi.inhseqno)
                                                           FROM pg_inherits pi WHERE pi.inhrelid = c.oid) END)
          ELSE '{}'::jsonb END
        || CASE WHEN c.relkind IN ('v', 'm') THEN jsonb_build_object('definition', pg_get_viewdef(c.oid),
             'columns', (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                           FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
          ELSE '{}'::jsonb END
        || CASE WHEN c.relkind = 'S' THEN (
          SELECT jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart::text,
                   'increment', s.seqincrement::text, 'min', s.seqmin::text, 'max', s.seqmax::text,
                   'cache', s.seqcache::text, 'cycle', s.seqcycle::text,
                   'owned_by', (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname)
                                  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                   AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'))
            FROM pg_sequence s WHERE s.seqrelid = c.oid)
          ELSE '{}'::jsonb END)::text
  FROM rel r JOIN pg_class c ON c.oid = r.oid
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                          AND d.objid = c.oid AND d.deptype = 'i'))
UNION ALL
SELECT 'column', r.qname || '.' || quote_ident(a.attname), r.nspname, r.qname, quote_ident(a.attname),
       jsonb_build_object(
         'position', (row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))::text,
         'type', format_type(a.atttypid, a.atttypmod),
         'not_null', a.attnotnull::text,
         'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
         'generated', CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END,
         'identity', CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END,
         'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                           THEN a.attcollation::regcollation::text END,
         'inherited', CASE WHEN a.attinhcount > 0 AND NOT a.attislocal THEN 'true' END,
         'acl', {attacl})::text
  FROM rel r
  JOIN pg_class c ON c.oid = r.oid
  JOIN pg_attribute a ON a.attrelid = r.oid
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE r.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attislocal OR NOT c.relispartition)
UNION ALL
SELECT 'index', quote_ident(r.nspname) || '.' || quote_ident(ic.relname), r.nspname, r.qname, quote_ident(ic.relname),
       jsonb_build_object('definition', pg_get_indexdef(i.indexrelid), 'valid', i.indisvalid::text)::text
  FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
 WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                     AND k.contype IN ('p', 'u', 'x'))
   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
UNION ALL
SELECT 'constraint', coalesce(r.qname, format_type(con.contypid, NULL)) || '.' || quote_ident(con.conname),
       ns.nspname, coalesce(r.qname, format_type(con.contypid, NULL)), quote_ident(con.conname),
       jsonb_build_object('definition', pg_get_constraintdef(con.oid), 'type', con.contype::text,
                          'validated', con.convalidated::text,
                          'on', CASE WHEN r.oid IS NULL THEN 'domain' ELSE 'table' END)::text
  FROM pg_constraint con
  JOIN ns ON ns.oid = con.connamespace
  LEFT JOIN rel r ON r.oid = con.conrelid
 WHERE (r.oid IS NOT NULL OR con.contypid <> 0) AND con.conislocal
UNION ALL
SELECT 'policy', r.qname || '.' || quote_ident(p.polname), r.nspname, r.qname, quote_ident(p.polname),
       jsonb_build_object(
         'permissive', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
         'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                  WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
         'roles', array_to_string(ARRAY(SELECT CASE WHEN x = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x)) END
                                          FROM unnest(p.polroles) x ORDER BY 1), ', '),
         'using', pg_get_expr(p.polqual, p.polrelid),
         'with_check', pg_get_expr(p.polwithcheck, p.polrelid))::text
  FROM pg_policy p JOIN rel r ON r.oid = p.polrelid
UNION ALL
SELECT 'function', p.oid::regprocedure::text, ns.nspname, NULL, quote_ident(p.proname),
       jsonb_build_object(
         'kind', CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
         'returns', pg_get_function_result(p.oid),
         'language', l.lanname,
         'volatility', CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
         'security_definer', p.prosecdef::text,
         'config', array_to_string(p.proconfig, ', '),
         'owner', quote_ident(pg_get_userbyid(p.proowner)),
         'acl', {proacl},
         'definition', pg_get_functiondef(p.oid))::text
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
   -- A range type's constructors (and its multirange's) belong to the type (an internal
   -- dependency): created and dropped with it.
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                   AND d.refclassid = 'pg_type'::regclass AND d.deptype = 'i')
UNION ALL
SELECT 'trigger', r.qname || '.' || quote_ident(t.tgname), r.nspname, r.qname, quote_ident(t.tgname),
       jsonb_build_object('definition', pg_get_triggerdef(t.oid),
         'enabled', CASE t.tgenabled WHEN 'O' THEN 'ENABLE' WHEN 'D' THEN 'DISABLE'
                                     WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS' END,
         'function_schema', (SELECT pn.nspname FROM pg_proc fp JOIN pg_namespace pn ON pn.oid = fp.pronamespace
                              WHERE fp.oid = t.tgfoid))::text
  FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid
 WHERE NOT t.tgisinternal AND t.tgparentid = 0
UNION ALL
SELECT 'default_privileges',
       quote_ident(pg_get_userbyid(da.defaclrole)) || coalesce(' in ' || quote_ident(dn.nspname), '') || ' on '
         || CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                  WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END,
       dn.nspname, NULL,
       CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                             WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END,
       jsonb_build_object('role', quote_ident(pg_get_userbyid(da.defaclrole)),
                          'in_schema', quote_ident(dn.nspname), 'acl', {defaclacl},
                          'builtin', CASE WHEN da.defaclnamespace = 0 THEN {builtin} END)::text
  FROM pg_default_acl da LEFT JOIN pg_namespace dn ON dn.oid = da.defaclnamespace
 WHERE da.defaclnamespace = 0 OR dn.oid IN (SELECT oid FROM ns)
UNION ALL
SELECT 'comment',
       CASE WHEN d.objsubid > 0 THEN 'COLUMN ' || r.qname || '.' || quote_ident(a.attname)
            ELSE CASE r.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE '
                   WHEN 'i' THEN 'INDEX ' WHEN 'I' THEN 'INDEX ' WHEN 'f' THEN 'FOREIGN TABLE ' WHEN 'c' THEN 'TYPE '
                   ELSE 'TABLE ' END || r.qname END,
       r.nspname, r.qname, '', jsonb_build_object('text', d.description)::text
  FROM pg_description d
  JOIN rel r ON d.classoid = 'pg_class'::regclass AND d.objoid = r.oid
  LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = d.objsubid AND d.objsubid > 0
UNION ALL
SELECT 'comment', CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || p.oid::regprocedure::text,
       ns.nspname, NULL, '', jsonb_build_object('text', d.description)::text
  FROM pg_description d
  JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
  JOIN ns ON ns.oid = p.pronamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'comment', 'SCHEMA ' || quote_ident(ns.nspname), ns.nspname, NULL, '',
       jsonb_build_object('text', d.description)::text
  FROM pg_description d JOIN ns ON d.classoid = 'pg_namespace'::regclass AND d.objoid = ns.oid
UNION ALL
SELECT 'comment', CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || format_type(t.oid, NULL),
       ns.nspname, NULL, '', jsonb_build_object('text', d.description)::text
  FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid
  JOIN ns ON ns.oid = t.typnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'comment', 'POLICY ' || quote_ident(p.polname) || ' ON ' || r.qname, r.nspname, r.qname, '',
       jsonb_build_object('text', d.description)::text
  FROM pg_description d JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid
  JOIN rel r ON r.oid = p.polrelid
UNION ALL
SELECT 'comment', 'TRIGGER ' || quote_ident(t.tgname) || ' ON ' || r.qname, r.nspname, r.qname, '',
       jsonb_build_object('text', d.description)::text
  FROM pg_description d JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND d.objoid = t.oid
  JOIN rel r ON r.oid = t.tgrelid
UNION ALL
SELECT 'comment', 'CONSTRAINT ' || quote_ident(k.conname) || ' ON ' || r.qname, r.nspname, r.qname, '',
       jsonb_build_object('text', d.description)::text
  FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid
  JOIN rel r ON r.oid = k.conrelid
UNION ALL
SELECT 'type', format_type(t.oid, NULL), ns.nspname, NULL, quote_ident(t.typname),
       (jsonb_build_object(
          'kind', CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite'
                                 WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange' END,
          'owner', quote_ident(pg_get_userbyid(t.typowner)),
          'acl', {typacl})
        || CASE t.typtype
             WHEN 'e' THEN jsonb_build_object('labels',
               (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                  FROM pg_enum e WHERE e.enumtypid = t.oid))
             WHEN 'd' THEN jsonb_build_object('base', format_type(t.typbasetype, t.typtypmod),
               'default', t.typdefault, 'not_null', t.typnotnull::text)
             WHEN 'c' THEN jsonb_build_object('attributes',
               (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                  FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
             WHEN 'r' THEN (SELECT jsonb_build_object('subtype', format_type(rg.rngsubtype, NULL))
                              FROM pg_range rg WHERE rg.rngtypid = t.oid)
             ELSE '{}'::jsonb END)::text
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
 WHERE (t.typtype IN ('e', 'd', 'r')
        OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'publication', quote_ident(p.pubname), NULL, NULL, quote_ident(p.pubname),
       jsonb_build_object('all_tables', p.puballtables::text,
         'publish', concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                                   CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END),
         'owner', quote_ident(pg_get_userbyid(p.pubowner)),
         'tables', CASE WHEN NOT p.puballtables THEN
           (SELECT coalesce(string_agg(pr.prrelid::regclass::text, ', ' ORDER BY pr.prrelid::regclass::text), '')
              FROM pg_publication_rel pr WHERE pr.prpubid = p.oid) END)::text
  FROM pg_publication p
UNION ALL
SELECT 'event_trigger', quote_ident(e.evtname), NULL, NULL, quote_ident(e.evtname),
       jsonb_build_object('event', e.evtevent, 'function', e.evtfoid::regproc::text,
         'function_schema', (SELECT pn.nspname FROM pg_proc fp JOIN pg_namespace pn ON pn.oid = fp.pronamespace
                              WHERE fp.oid = e.evtfoid),
         'tags', array_to_string(ARRAY(SELECT quote_literal(x) FROM unnest(e.evttags) x ORDER BY 1), ', '),
         'enabled', CASE e.evtenabled WHEN 'O' THEN 'ENABLE' WHEN 'D' THEN 'DISABLE'
                                      WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS' END,
         'owner', quote_ident(pg_get_userbyid(e.evtowner)))::text
  FROM pg_event_trigger e
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_event_trigger'::regclass AND ext.objid = e.oid)
