-- ---------------------------------------------------------------------------------------------
-- Schema realtime, as Supabase Realtime (supabase/realtime at 833cf36c) creates it in a project's
-- database: realtime.messages (RLS on: projects add policies for private channels), send(),
-- send_binary(), broadcast_changes(), topic(), the subscription table and its helpers. Here
-- realtime.messages is a plain table, so realtime.send() and broadcast_changes() record what they
-- would broadcast; on Supabase it is partitioned by day and read by the Realtime service.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS realtime;
GRANT USAGE ON SCHEMA realtime TO anon, authenticated, service_role;

DO $strata$ BEGIN IF pg_catalog.to_regtype('realtime.action') IS NULL THEN
CREATE TYPE realtime.action AS ENUM (
    'INSERT',
    'UPDATE',
    'DELETE',
    'TRUNCATE',
    'ERROR'
);
END IF; END $strata$;

ALTER TYPE realtime.action ADD VALUE IF NOT EXISTS 'INSERT';

ALTER TYPE realtime.action ADD VALUE IF NOT EXISTS 'UPDATE';

ALTER TYPE realtime.action ADD VALUE IF NOT EXISTS 'DELETE';

ALTER TYPE realtime.action ADD VALUE IF NOT EXISTS 'TRUNCATE';

ALTER TYPE realtime.action ADD VALUE IF NOT EXISTS 'ERROR';

DO $strata$ BEGIN IF pg_catalog.to_regtype('realtime.equality_op') IS NULL THEN
CREATE TYPE realtime.equality_op AS ENUM (
    'eq',
    'neq',
    'lt',
    'lte',
    'gt',
    'gte',
    'in',
    'like',
    'ilike',
    'is',
    'match',
    'imatch',
    'isdistinct'
);
END IF; END $strata$;

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'eq';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'neq';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'lt';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'lte';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'gt';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'gte';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'in';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'like';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'ilike';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'is';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'match';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'imatch';

ALTER TYPE realtime.equality_op ADD VALUE IF NOT EXISTS 'isdistinct';

DO $strata$ BEGIN IF pg_catalog.to_regtype('realtime.user_defined_filter') IS NULL THEN
CREATE TYPE realtime.user_defined_filter AS (
	column_name text,
	op realtime.equality_op,
	value text,
	negate boolean
);
END IF; END $strata$;

DO $strata$ BEGIN IF pg_catalog.to_regtype('realtime.wal_column') IS NULL THEN
CREATE TYPE realtime.wal_column AS (
	name text,
	type_name text,
	type_oid oid,
	value jsonb,
	is_pkey boolean,
	is_selectable boolean
);
END IF; END $strata$;

DO $strata$ BEGIN IF pg_catalog.to_regtype('realtime.wal_rls') IS NULL THEN
CREATE TYPE realtime.wal_rls AS (
	wal jsonb,
	is_rls_enabled boolean,
	subscription_ids uuid[],
	errors text[]
);
END IF; END $strata$;

CREATE OR REPLACE FUNCTION realtime.apply_rls(wal jsonb, max_record_bytes integer DEFAULT (1024 * 1024)) RETURNS SETOF realtime.wal_rls
    LANGUAGE plpgsql
    AS $$
declare
    -- Regclass of the table e.g. public.notes
    entity_ regclass = (quote_ident(wal ->> 'schema') || '.' || quote_ident(wal ->> 'table'))::regclass;

    -- I, U, D, T: insert, update ...
    action realtime.action = (
        case wal ->> 'action'
            when 'I' then 'INSERT'
            when 'U' then 'UPDATE'
            when 'D' then 'DELETE'
            else 'ERROR'
        end
    );

    -- Is row level security enabled for the table
    is_rls_enabled bool = relrowsecurity from pg_class where oid = entity_;

    subscriptions realtime.subscription[] = array_agg(subs)
        from
            realtime.subscription subs
        where
            subs.entity = entity_
            -- Filter by action early - only get subscriptions interested in this action
            -- action_filter column can be: '*' (all), 'INSERT', 'UPDATE', or 'DELETE'
            and (subs.action_filter = '*' or subs.action_filter = action::text);

    -- Subscription vars
    working_role regrole;
    working_selected_columns text[];
    claimed_role regrole;
    claims jsonb;

    subscription_id uuid;
    subscription_has_access bool;
    visible_to_subscription_ids uuid[] = '{}';

    -- structured info for wal's columns
    columns realtime.wal_column[];
    -- previous identity values for update/delete
    old_columns realtime.wal_column[];

    error_record_exceeds_max_size boolean = octet_length(wal::text) > max_record_bytes;

    -- Primary jsonb output for record
    output jsonb;

    -- Loop record for iterating unique roles (outer loop)
    role_record record;
    -- Loop record for iterating unique selected_columns within a role (inner loop)
    cols_record record;
    -- Subscription ids visible at the role level (before fanning out by selected_columns)
    visible_role_sub_ids uuid[] = '{}';

begin
    perform set_config('role', null, true);

    columns =
        array_agg(
            (
                x->>'name',
                x->>'type',
                x->>'typeoid',
                realtime.cast(
                    (x->'value') #>> '{}',
                    coalesce(
                        (x->>'typeoid')::regtype, -- null when wal2json version <= 2.4
                        (x->>'type')::regtype
                    )
                ),
                (pks ->> 'name') is not null,
                true
            )::realtime.wal_column
        )
        from
            jsonb_array_elements(wal -> 'columns') x
            left join jsonb_array_elements(wal -> 'pk') pks
                on (x ->> 'name') = (pks ->> 'name');

    old_columns =
        array_agg(
            (
                x->>'name',
                x->>'type',
                x->>'typeoid',
                realtime.cast(
                    (x->'value') #>> '{}',
                    coalesce(
                        (x->>'typeoid')::regtype, -- null when wal2json version <= 2.4
                        (x->>'type')::regtype
                    )
                ),
                (pks ->> 'name') is not null,
                true
            )::realtime.wal_column
        )
        from
            jsonb_array_elements(wal -> 'identity') x
            left join jsonb_array_elements(wal -> 'pk') pks
                on (x ->> 'name') = (pks ->> 'name');

    for role_record in
        select claims_role
        from (select distinct claims_role from unnest(subscriptions)) t
        order by claims_role::text
    loop
        working_role := role_record.claims_role;

        -- Update `is_selectable` for columns and old_columns (once per role)
        columns =
            array_agg(
                (
                    c.name,
                    c.type_name,
                    c.type_oid,
                    c.value,
                    c.is_pkey,
                    pg_catalog.has_column_privilege(working_role, entity_, c.name, 'SELECT')
                )::realtime.wal_column
            )
            from
                unnest(columns) c;

        old_columns =
                array_agg(
                    (
                        c.name,
                        c.type_name,
                        c.type_oid,
                        c.value,
                        c.is_pkey,
                        pg_catalog.has_column_privilege(working_role, entity_, c.name, 'SELECT')
                    )::realtime.wal_column
                )
                from
                    unnest(old_columns) c;

        if action <> 'DELETE' and count(1) = 0 from unnest(columns) c where c.is_pkey then
            -- Fan out 400 error per distinct selected_columns for this role
            for cols_record in
                select selected_columns
                from (select distinct selected_columns from unnest(subscriptions) s where s.claims_role = working_role) t
                order by coalesce(array_to_string(selected_columns, ','), '')
            loop
                working_selected_columns := cols_record.selected_columns;
                return next (
                    jsonb_build_object(
                        'schema', wal ->> 'schema',
                        'table', wal ->> 'table',
                        'type', action
                    ),
                    is_rls_enabled,
                    (select array_agg(s.subscription_id) from unnest(subscriptions) as s where s.claims_role = working_role and (s.selected_columns is not distinct from working_selected_columns)),
                    array['Error 400: Bad Request, no primary key']
                )::realtime.wal_rls;
            end loop;

        -- The claims role does not have SELECT permission to the primary key of entity
        elsif action <> 'DELETE' and sum(c.is_selectable::int) <> count(1) from unnest(columns) c where c.is_pkey then
            -- Fan out 401 error per distinct selected_columns for this role
            for cols_record in
                select selected_columns
                from (select distinct selected_columns from unnest(subscriptions) s where s.claims_role = working_role) t
                order by coalesce(array_to_string(selected_columns, ','), '')
            loop
                working_selected_columns := cols_record.selected_columns;
                return next (
                    jsonb_build_object(
                        'schema', wal ->> 'schema',
                        'table', wal ->> 'table',
                        'type', action
                    ),
                    is_rls_enabled,
                    (select array_agg(s.subscription_id) from unnest(subscriptions) as s where s.claims_role = working_role and (s.selected_columns is not distinct from working_selected_columns)),
                    array['Error 401: Unauthorized']
                )::realtime.wal_rls;
            end loop;

        else
            -- Create the prepared statement (once per role)
            if is_rls_enabled and action <> 'DELETE' then
                if (select 1 from pg_prepared_statements where name = 'walrus_rls_stmt' limit 1) > 0 then
                    deallocate walrus_rls_stmt;
                end if;
                execute realtime.build_prepared_statement_sql('walrus_rls_stmt', entity_, columns);
            end if;

            -- Collect all visible subscription IDs for this role (filter check + RLS check)
            visible_role_sub_ids = '{}';

            for subscription_id, claims in (
                    select
                        subs.subscription_id,
                        subs.claims
                    from
                        unnest(subscriptions) subs
                    where
                        subs.entity = entity_
                        and subs.claims_role = working_role
                        and (
                            realtime.is_visible_through_filters(columns, subs.filters)
                            or (
                              action = 'DELETE'
                              and realtime.is_visible_through_filters(old_columns, subs.filters)
                            )
                        )
            ) loop

                if not is_rls_enabled or action = 'DELETE' then
                    visible_role_sub_ids = visible_role_sub_ids || subscription_id;
                else
                    -- Check if RLS allows the role to see the record
                    perform
                        -- Trim leading and trailing quotes from working_role because set_config
                        -- doesn't recognize the role as valid if they are included
                        set_config('role', trim(both '"' from working_role::text), true),
                        set_config('request.jwt.claims', claims::text, true);

                    execute 'execute walrus_rls_stmt' into subscription_has_access;

                    -- Reset the role on every FOR..LOOP batch execution.
                    -- The first batch of 10 rows is pre-fetched using the current connection role (PG internal behaviour)
                    -- then we have to reset it again otherwise it would use the role defined in the `set_config` above
                    -- to fetch the remaining rows when rows>10, which could be a user-defined role that lacks execution grants.
                    -- The flow is:
                    --   1. run batch with conn role
                    --   2. set_config working_role
                    --   3. execute walrus
                    --   4. reset role (revert)
                    --   5. repeat
                    perform set_config('role', null, true);

                    if subscription_has_access then
                        visible_role_sub_ids = visible_role_sub_ids || subscription_id;
                    end if;
                end if;
            end loop;

            perform set_config('role', null, true);

            -- Inner loop: per distinct selected_columns for this role
            for cols_record in
                select selected_columns
                from (select distinct selected_columns from unnest(subscriptions) s where s.claims_role = working_role) t
                order by coalesce(array_to_string(selected_columns, ','), '')
            loop
                working_selected_columns := cols_record.selected_columns;

                output = jsonb_build_object(
                    'schema', wal ->> 'schema',
                    'table', wal ->> 'table',
                    'type', action,
                    'commit_timestamp', to_char(
                        ((wal ->> 'timestamp')::timestamptz at time zone 'utc'),
                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
                    ),
                    'columns', (
                        select
                            jsonb_agg(
                                jsonb_build_object(
                                    'name', pa.attname,
                                    'type', pt.typname
                                )
                                order by pa.attnum asc
                            )
                        from
                            pg_attribute pa
                            join pg_type pt
                                on pa.atttypid = pt.oid
                            left join (
                                select unnest(conkey) as pkey_attnum
                                from pg_constraint
                                where conrelid = entity_ and contype = 'p'
                            ) pk on pk.pkey_attnum = pa.attnum
                        where
                            attrelid = entity_
                            and attnum > 0
                            and pg_catalog.has_column_privilege(working_role, entity_, pa.attname, 'SELECT')
                            and (working_selected_columns is null or pa.attname = any(working_selected_columns) or pk.pkey_attnum is not null)
                    )
                )
                -- Add "record" key for insert and update
                || case
                    when action in ('INSERT', 'UPDATE') then
                        jsonb_build_object(
                            'record',
                            (
                                select
                                    jsonb_object_agg(
                                        -- if unchanged toast, get column name and value from old record
                                        coalesce((c).name, (oc).name),
                                        case
                                            when (c).name is null then (oc).value
                                            else (c).value
                                        end
                                    )
                                from
                                    unnest(columns) c
                                    full outer join unnest(old_columns) oc
                                        on (c).name = (oc).name
                                where
                                    coalesce((c).is_selectable, (oc).is_selectable)
                                    and (working_selected_columns is null or coalesce((c).name, (oc).name) = any(working_selected_columns) or coalesce((c).is_pkey, (oc).is_pkey))
                                    and ( not error_record_exceeds_max_size or (octet_length((c).value::text) <= 64))
                            )
                        )
                    else '{}'::jsonb
                end
                -- Add "old_record" key for update and delete
                || case
                    when action = 'UPDATE' then
                        jsonb_build_object(
                                'old_record',
                                (
                                    select jsonb_object_agg((c).name, (c).value)
                                    from unnest(old_columns) c
                                    where
                                        (c).is_selectable
                                        and (working_selected_columns is null or (c).name = any(working_selected_columns) or (c).is_pkey)
                                        and ( not error_record_exceeds_max_size or (octet_length((c).value::text) <= 64))
                                )
                            )
                    when action = 'DELETE' then
                        jsonb_build_object(
                            'old_record',
                            (
                                select jsonb_object_agg((c).name, (c).value)
                                from unnest(old_columns) c
                                where
                                    (c).is_selectable
                                    and (working_selected_columns is null or (c).name = any(working_selected_columns) or (c).is_pkey)
                                    and ( not error_record_exceeds_max_size or (octet_length((c).value::text) <= 64))
                                    and ( not is_rls_enabled or (c).is_pkey ) -- if RLS enabled, we can't secure deletes so filter to pkey
                            )
                        )
                    else '{}'::jsonb
                end;

                -- Filter visible_role_sub_ids to those matching the current selected_columns group
                visible_to_subscription_ids = coalesce(
                    (
                        select array_agg(s.subscription_id)
                        from unnest(subscriptions) s
                        where s.claims_role = working_role
                          and (s.selected_columns is not distinct from working_selected_columns)
                          and s.subscription_id = any(visible_role_sub_ids)
                    ),
                    '{}'::uuid[]
                );

                return next (
                    output,
                    is_rls_enabled,
                    visible_to_subscription_ids,
                    case
                        when error_record_exceeds_max_size then array['Error 413: Payload Too Large']
                        else '{}'
                    end
                )::realtime.wal_rls;
            end loop;

        end if;
    end loop;

    perform set_config('role', null, true);
end;
$$;

CREATE OR REPLACE FUNCTION realtime.broadcast_changes(topic_name text, event_name text, operation text, table_name text, table_schema text, new record, old record, level text DEFAULT 'ROW'::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    -- Declare a variable to hold the JSONB representation of the row
    row_data jsonb := '{}'::jsonb;
BEGIN
    IF level = 'STATEMENT' THEN
        RAISE EXCEPTION 'function can only be triggered for each row, not for each statement';
    END IF;
    -- Check the operation type and handle accordingly
    IF operation = 'INSERT' OR operation = 'UPDATE' OR operation = 'DELETE' THEN
        row_data := jsonb_build_object('old_record', OLD, 'record', NEW, 'operation', operation, 'table', table_name, 'schema', table_schema);
        PERFORM realtime.send (row_data, event_name, topic_name);
    ELSE
        RAISE EXCEPTION 'Unexpected operation type: %', operation;
    END IF;
EXCEPTION
    WHEN OTHERS THEN
        RAISE EXCEPTION 'Failed to process the row: %', SQLERRM;
END;

$$;

CREATE OR REPLACE FUNCTION realtime.build_prepared_statement_sql(prepared_statement_name text, entity regclass, columns realtime.wal_column[]) RETURNS text
    LANGUAGE sql
    AS $$
      /*
      Builds a sql string that, if executed, creates a prepared statement to
      tests retrive a row from *entity* by its primary key columns.
      Example
          select realtime.build_prepared_statement_sql('public.notes', '{"id"}'::text[], '{"bigint"}'::text[])
      */
          select
      'prepare ' || prepared_statement_name || ' as
          select
              exists(
                  select
                      1
                  from
                      ' || entity || '
                  where
                      ' || string_agg(quote_ident(pkc.name) || '=' || quote_nullable(pkc.value #>> '{}') , ' and ') || '
              )'
          from
              unnest(columns) pkc
          where
              pkc.is_pkey
          group by
              entity
      $$;

CREATE OR REPLACE FUNCTION realtime."cast"(val text, type_ regtype) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
declare
  res jsonb;
begin
  if type_::text = 'bytea' then
    return to_jsonb(val);
  end if;
  execute format('select to_jsonb(%L::'|| type_::text || ')', val) into res;
  return res;
end
$$;

CREATE OR REPLACE FUNCTION realtime.check_equality_op(op realtime.equality_op, type_ regtype, val_1 text, val_2 text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    AS $$
/*
Casts *val_1* and *val_2* as type *type_* and check the *op* condition for truthiness
*/
declare
    op_symbol text = (
        case
            when op = 'eq' then '='
            when op = 'neq' then '!='
            when op = 'lt' then '<'
            when op = 'lte' then '<='
            when op = 'gt' then '>'
            when op = 'gte' then '>='
            when op = 'in' then '= any'
            else 'UNKNOWN OP'
        end
    );
    res boolean;
begin
    execute format(
        'select %L::'|| type_::text || ' ' || op_symbol
        || ' ( %L::'
        || (
            case
                when op = 'in' then type_::text || '[]'
                else type_::text end
        )
        || ')', val_1, val_2) into res;
    return res;
end;
$$;

CREATE OR REPLACE FUNCTION realtime.check_equality_op(op realtime.equality_op, type_ regtype, val_1 text, val_2 text, negate boolean) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
declare
    op_symbol text;
    res boolean;
begin
    -- IS DISTINCT FROM / IS NOT DISTINCT FROM: infix, both sides typed literals
    if op = 'isdistinct' then
        execute format(
            'select %L::%s %s %L::%s',
            val_1,
            type_::text,
            case when negate then 'IS NOT DISTINCT FROM' else 'IS DISTINCT FROM' end,
            val_2,
            type_::text
        ) into res;
        return res;
    end if;

    -- IS requires a keyword RHS (NULL, TRUE, FALSE, UNKNOWN), not a typed literal
    if op = 'is' then
        if val_2 not in ('null', 'true', 'false', 'unknown') then
            raise exception 'invalid value for is filter: must be null, true, false, or unknown';
        end if;
        execute format(
            'select %L::%s %s %s',
            val_1,
            type_::text,
            case when negate then 'IS NOT' else 'IS' end,
            upper(val_2)
        ) into res;
        return res;
    end if;

    op_symbol = case
        when op = 'eq'    then '='
        when op = 'neq'   then '!='
        when op = 'lt'    then '<'
        when op = 'lte'   then '<='
        when op = 'gt'    then '>'
        when op = 'gte'   then '>='
        when op = 'in'    then '= any'
        when op = 'like'   then 'LIKE'
        when op = 'ilike'  then 'ILIKE'
        when op = 'match'  then '~'
        when op = 'imatch' then '~*'
        else null
    end;

    if op_symbol is null then
        raise exception 'unsupported equality operator: %', op::text;
    end if;

    execute format(
        'select %L::%s %s (%L::%s)',
        val_1,
        type_::text,
        op_symbol,
        val_2,
        case when op = 'in' then type_::text || '[]' else type_::text end
    ) into res;

    return case when negate then not res else res end;
end;
$$;

CREATE OR REPLACE FUNCTION realtime.is_visible_through_filters(columns realtime.wal_column[], filters realtime.user_defined_filter[]) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    select
        filters is null
        or array_length(filters, 1) is null
        or coalesce(
            count(col.name) = count(1)
            and sum(
                realtime.check_equality_op(
                    op:=f.op,
                    type_:=coalesce(col.type_oid::regtype, col.type_name::regtype),
                    val_1:=col.value #>> '{}',
                    val_2:=f.value,
                    negate:=coalesce(f.negate, false)
                )::int
            ) filter (where col.name is not null) = count(col.name),
            false
        )
    from
        unnest(filters) f
        left join unnest(columns) col
            on f.column_name = col.name;
$$;

-- Strata: without Realtime's `SET log_min_messages TO 'fatal'` (only a superuser may set it, and
-- the database's owner installs the emulation): nothing here decodes WAL, the function is there
-- for migrations that name it.
CREATE OR REPLACE FUNCTION realtime.list_changes(publication name, slot_name name, max_changes integer, max_record_bytes integer) RETURNS TABLE(wal jsonb, is_rls_enabled boolean, subscription_ids uuid[], errors text[], slot_changes_count bigint)
    LANGUAGE sql
    AS $$
  WITH pub AS (
    SELECT
      concat_ws(
        ',',
        CASE WHEN bool_or(pubinsert) THEN 'insert' ELSE NULL END,
        CASE WHEN bool_or(pubupdate) THEN 'update' ELSE NULL END,
        CASE WHEN bool_or(pubdelete) THEN 'delete' ELSE NULL END
      ) AS w2j_actions,
      coalesce(
        string_agg(
          realtime.quote_wal2json(format('%I.%I', schemaname, tablename)::regclass),
          ','
        ) filter (WHERE ppt.tablename IS NOT NULL),
        ''
      ) AS w2j_add_tables
    FROM pg_publication pp
    LEFT JOIN pg_publication_tables ppt ON pp.pubname = ppt.pubname
    WHERE pp.pubname = publication
    GROUP BY pp.pubname
    LIMIT 1
  ),
  -- MATERIALIZED ensures pg_logical_slot_get_changes is called exactly once
  w2j AS MATERIALIZED (
    SELECT x.*, pub.w2j_add_tables
    FROM pub,
         pg_logical_slot_get_changes(
           slot_name, null, max_changes,
           'include-pk', 'true',
           'include-transaction', 'false',
           'include-timestamp', 'true',
           'include-type-oids', 'true',
           'format-version', '2',
           'actions', pub.w2j_actions,
           'add-tables', pub.w2j_add_tables
         ) x
  ),
  slot_count AS (
    SELECT count(*)::bigint AS cnt
    FROM w2j
    WHERE w2j.w2j_add_tables <> ''
  ),
  rls_filtered AS (
    SELECT xyz.wal, xyz.is_rls_enabled, xyz.subscription_ids, xyz.errors
    FROM w2j,
         realtime.apply_rls(
           wal := w2j.data::jsonb,
           max_record_bytes := max_record_bytes
         ) xyz(wal, is_rls_enabled, subscription_ids, errors)
    WHERE w2j.w2j_add_tables <> ''
      AND xyz.subscription_ids[1] IS NOT NULL
  )
  SELECT rf.wal, rf.is_rls_enabled, rf.subscription_ids, rf.errors, sc.cnt
  FROM rls_filtered rf, slot_count sc

  UNION ALL

  SELECT null, null, null, null, sc.cnt
  FROM slot_count sc
  WHERE NOT EXISTS (SELECT 1 FROM rls_filtered)
$$;

CREATE OR REPLACE FUNCTION realtime.quote_wal2json(entity regclass) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$
  SELECT
    realtime.wal2json_escape_identifier(nsp.nspname::text)
    || '.'
    || realtime.wal2json_escape_identifier(pc.relname::text)
  FROM pg_class pc
  JOIN pg_namespace nsp ON pc.relnamespace = nsp.oid
  WHERE pc.oid = entity
$$;

CREATE OR REPLACE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
  generated_id uuid;
  final_payload jsonb;
BEGIN
  BEGIN
    generated_id := gen_random_uuid();

    -- Check if payload has an 'id' key, if not, add the generated UUID
    IF payload ? 'id' THEN
      final_payload := payload;
    ELSE
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    END IF;

    -- Set the topic configuration
    EXECUTE format('SET LOCAL realtime.topic TO %L', topic);

    INSERT INTO realtime.messages (id, payload, event, topic, private, extension)
    VALUES (generated_id, final_payload, event, topic, private, 'broadcast');
  EXCEPTION
    WHEN OTHERS THEN
      RAISE WARNING 'WarnSendingBroadcastMessage: %', SQLERRM;
  END;
END;
$$;

CREATE OR REPLACE FUNCTION realtime.send_binary(payload bytea, event text, topic text, private boolean DEFAULT true) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
  generated_id uuid;
BEGIN
  BEGIN
    generated_id := gen_random_uuid();

    EXECUTE format('SET LOCAL realtime.topic TO %L', topic);

    INSERT INTO realtime.messages (id, binary_payload, event, topic, private, extension)
    VALUES (generated_id, payload, event, topic, private, 'broadcast');
  EXCEPTION
    WHEN OTHERS THEN
      RAISE WARNING 'WarnSendingBroadcastMessage: %', SQLERRM;
  END;
END;
$$;

CREATE OR REPLACE FUNCTION realtime.subscription_check_filters() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
    col_names text[] = coalesce(
            array_agg(a.attname order by a.attnum),
            '{}'::text[]
        )
        from
            pg_catalog.pg_attribute a
        where
            a.attrelid = new.entity
            and a.attnum > 0
            and not a.attisdropped
            and pg_catalog.has_column_privilege(
                (new.claims ->> 'role'),
                a.attrelid,
                a.attnum,
                'SELECT'
            );
    filter realtime.user_defined_filter;
    col_type regtype;
    in_val jsonb;
    selected_col text;
begin
    for filter in select * from unnest(new.filters) loop
        if not filter.column_name = any(col_names) then
            raise exception 'invalid column for filter %', filter.column_name;
        end if;

        col_type = (
            select atttypid::regtype
            from pg_catalog.pg_attribute
            where attrelid = new.entity
                  and attname = filter.column_name
        );
        if col_type is null then
            raise exception 'failed to lookup type for column %', filter.column_name;
        end if;

        if filter.op = 'in'::realtime.equality_op then
            in_val = realtime.cast(filter.value, (col_type::text || '[]')::regtype);
            if coalesce(jsonb_array_length(in_val), 0) > 100 then
                raise exception 'too many values for `in` filter. Maximum 100';
            end if;
        elsif filter.op = 'is'::realtime.equality_op then
            -- `is` requires a keyword RHS rather than a typed literal
            if filter.value not in ('null', 'true', 'false', 'unknown') then
                raise exception 'invalid value for is filter: must be null, true, false, or unknown';
            end if;
            -- IS NULL works for any type, but IS TRUE/FALSE/UNKNOWN require a boolean
            -- operand. Reject the non-null keywords on non-boolean columns here so they
            -- don't abort apply_rls at WAL time.
            if filter.value <> 'null' and col_type <> 'boolean'::regtype then
                raise exception 'is % filter requires a boolean column, got %', filter.value, col_type::text;
            end if;
        elsif filter.op in ('like'::realtime.equality_op, 'ilike'::realtime.equality_op) then
            -- like/ilike apply the text pattern operator (~~); reject column types that
            -- have no such operator instead of failing at WAL time
            if not exists (
                select 1 from pg_catalog.pg_operator
                where oprname = '~~' and oprleft = col_type
            ) then
                raise exception 'operator % requires a text-compatible column type, got %', filter.op::text, col_type::text;
            end if;
        elsif filter.op in ('match'::realtime.equality_op, 'imatch'::realtime.equality_op) then
            -- match/imatch apply the regex operators ~ / ~*; reject column types that have
            -- no such operator (e.g. integer) instead of failing at WAL time, mirroring the
            -- like/ilike guard above.
            if not exists (
                select 1 from pg_catalog.pg_operator
                where oprname = case when filter.op = 'imatch'::realtime.equality_op then '~*' else '~' end
                  and oprleft = col_type
                  and oprright = col_type
                  and oprresult = 'boolean'::regtype
            ) then
                raise exception 'operator % requires a text-compatible column type, got %', filter.op::text, col_type::text;
            end if;
            -- validate the regex eagerly so a bad pattern is rejected here, not inside
            -- apply_rls where it would abort the WAL stream for the entity
            begin
                perform '' ~ filter.value;
            exception when others then
                raise exception 'invalid regular expression for % filter: %', filter.op::text, sqlerrm;
            end;
        else
            -- eq/neq/lt/lte/gt/gte: value must be coercable to the type
            perform realtime.cast(filter.value, col_type);
        end if;
    end loop;

    if new.selected_columns is not null then
        for selected_col in select * from unnest(new.selected_columns) loop
            if not selected_col = any(col_names) then
                raise exception 'invalid column for select %', selected_col;
            end if;
        end loop;
    end if;

    -- Apply consistent order to filters so the unique constraint can't be tricked by a
    -- different filter order. negate is part of the sort key.
    new.filters = coalesce(
        array_agg(f order by f.column_name, f.op, f.value, f.negate),
        '{}'
    ) from unnest(new.filters) f;

    new.selected_columns = (
        select array_agg(c order by c)
        from unnest(new.selected_columns) c
    );

    return new;
end;
$$;

CREATE OR REPLACE FUNCTION realtime.to_regrole(role_name text) RETURNS regrole
    LANGUAGE sql IMMUTABLE
    AS $$ select role_name::regrole $$;

CREATE OR REPLACE FUNCTION realtime.topic() RETURNS text
    LANGUAGE sql STABLE
    AS $$
select nullif(current_setting('realtime.topic', true), '')::text;
$$;

CREATE OR REPLACE FUNCTION realtime.wal2json_escape_identifier(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$
  -- Prefix `\`, `,`, `.`, and any whitespace with `\`
  SELECT regexp_replace(name, '([\\,.[:space:]])', '\\\1', 'g')
$$;

CREATE TABLE IF NOT EXISTS realtime.messages (
    topic text NOT NULL,
    extension text NOT NULL,
    payload jsonb,
    event text,
    private boolean DEFAULT false,
    updated_at timestamp without time zone DEFAULT now() NOT NULL,
    inserted_at timestamp without time zone DEFAULT now() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    binary_payload bytea
);

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS topic text NOT NULL;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS extension text NOT NULL;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS payload jsonb;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS event text;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS private boolean DEFAULT false;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS updated_at timestamp without time zone DEFAULT now() NOT NULL;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS inserted_at timestamp without time zone DEFAULT now() NOT NULL;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS id uuid DEFAULT gen_random_uuid() NOT NULL;

ALTER TABLE realtime.messages ADD COLUMN IF NOT EXISTS binary_payload bytea;

CREATE TABLE IF NOT EXISTS realtime.schema_migrations (
    version bigint NOT NULL,
    inserted_at timestamp(0) without time zone
);

ALTER TABLE realtime.schema_migrations ADD COLUMN IF NOT EXISTS version bigint NOT NULL;

ALTER TABLE realtime.schema_migrations ADD COLUMN IF NOT EXISTS inserted_at timestamp(0) without time zone;

CREATE TABLE IF NOT EXISTS realtime.subscription (
    id bigint NOT NULL,
    subscription_id uuid NOT NULL,
    entity regclass NOT NULL,
    filters realtime.user_defined_filter[] DEFAULT '{}'::realtime.user_defined_filter[] NOT NULL,
    claims jsonb NOT NULL,
    claims_role regrole GENERATED ALWAYS AS (realtime.to_regrole((claims ->> 'role'::text))) STORED NOT NULL,
    created_at timestamp without time zone DEFAULT timezone('utc'::text, now()) NOT NULL,
    action_filter text DEFAULT '*'::text,
    selected_columns text[],
    CONSTRAINT subscription_action_filter_check CHECK ((action_filter = ANY (ARRAY['*'::text, 'INSERT'::text, 'UPDATE'::text, 'DELETE'::text])))
);

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS id bigint NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS subscription_id uuid NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS entity regclass NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS filters realtime.user_defined_filter[] DEFAULT '{}'::realtime.user_defined_filter[] NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS claims jsonb NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS claims_role regrole GENERATED ALWAYS AS (realtime.to_regrole((claims ->> 'role'::text))) STORED NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS created_at timestamp without time zone DEFAULT timezone('utc'::text, now()) NOT NULL;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS action_filter text DEFAULT '*'::text;

ALTER TABLE realtime.subscription ADD COLUMN IF NOT EXISTS selected_columns text[];

DO $strata$ BEGIN IF (SELECT attidentity FROM pg_catalog.pg_attribute WHERE attrelid = 'realtime.subscription'::regclass AND attname = 'id') = '' THEN
ALTER TABLE realtime.subscription ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME realtime.subscription_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'messages_payload_exclusive' AND conrelid = 'realtime.messages'::regclass) THEN
ALTER TABLE realtime.messages
    ADD CONSTRAINT messages_payload_exclusive CHECK (((payload IS NULL) OR (binary_payload IS NULL))) NOT VALID;
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'messages_pkey' AND conrelid = 'realtime.messages'::regclass) THEN
ALTER TABLE ONLY realtime.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id, inserted_at);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'pk_subscription' AND conrelid = 'realtime.subscription'::regclass) THEN
ALTER TABLE ONLY realtime.subscription
    ADD CONSTRAINT pk_subscription PRIMARY KEY (id);
END IF; END $strata$;

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'schema_migrations_pkey' AND conrelid = 'realtime.schema_migrations'::regclass) THEN
ALTER TABLE ONLY realtime.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);
END IF; END $strata$;

CREATE INDEX IF NOT EXISTS ix_realtime_subscription_entity ON realtime.subscription USING btree (entity);

CREATE INDEX IF NOT EXISTS messages_inserted_at_topic_index ON realtime.messages USING btree (inserted_at DESC, topic) WHERE ((extension = 'broadcast'::text) AND (private IS TRUE));

CREATE UNIQUE INDEX IF NOT EXISTS subscription_subscription_id_entity_filters_action_filter_selec ON realtime.subscription USING btree (subscription_id, entity, filters, action_filter, COALESCE(selected_columns, '{}'::text[]));

DO $strata$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgname = 'tr_check_filters' AND tgrelid = 'realtime.subscription'::regclass) THEN
CREATE TRIGGER tr_check_filters BEFORE INSERT OR UPDATE ON realtime.subscription FOR EACH ROW EXECUTE FUNCTION realtime.subscription_check_filters();
END IF; END $strata$;

ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;

ALTER TABLE realtime.schema_migrations ALTER COLUMN inserted_at SET DEFAULT now();

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116024918) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116045059) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116050929) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116051442) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116212300) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116213355) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116213934) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211116214523) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211122062447) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211124070109) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211202204204) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211202204605) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211210212804) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20211228014915) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220107221237) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220228202821) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220312004840) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220603231003) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220603232444) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220615214548) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220712093339) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220908172859) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20220916233421) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230119133233) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230128025114) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230128025212) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230227211149) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230228184745) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230308225145) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20230328144023) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20231018144023) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20231204144023) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20231204144024) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20231204144025) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240108234812) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240109165339) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240227174441) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240311171622) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240321100241) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240401105812) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240418121054) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240523004032) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240618124746) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240801235015) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240805133720) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240827160934) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240919163303) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20240919163305) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241019105805) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241030150047) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241108114728) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241121104152) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241130184212) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241220035512) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241220123912) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20241224161212) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250107150512) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250110162412) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250123174212) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250128220012) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250506224012) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250523164012) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250714121412) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20250905041441) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20251103001201) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20251120212548) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20251120215549) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260218120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260326120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260514120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260527120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260528120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260603120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260605120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260606110000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260616120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260624120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260626120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260706120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260707120000) ON CONFLICT DO NOTHING;

INSERT INTO realtime."schema_migrations" (version) VALUES (20260709120000) ON CONFLICT DO NOTHING;


GRANT SELECT, INSERT, UPDATE ON TABLE realtime.messages TO anon, authenticated, service_role;
GRANT SELECT ON TABLE realtime.schema_migrations TO anon, authenticated, service_role;
GRANT SELECT ON TABLE realtime.subscription TO anon, authenticated, service_role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA realtime TO anon, authenticated, service_role;

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

