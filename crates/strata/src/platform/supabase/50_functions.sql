-- ---------------------------------------------------------------------------------------------
-- Database webhooks: schema supabase_functions (supabase/supabase docker/volumes/db/webhooks.sql)
-- with its hooks table and the http_request() trigger function that "Database Webhooks" create
-- triggers with, and — when the server has no pg_net extension — pg_net's SQL interface in schema
-- net as a recording stand-in: net.http_get/http_post/http_delete queue the request in
-- net.http_request_queue and return its id; nothing is sent. Where pg_net is installable, the
-- schema is left to it (a project's `create extension pg_net` would otherwise collide).
-- ---------------------------------------------------------------------------------------------
DO $net$
BEGIN
  IF pg_catalog.to_regnamespace('net') IS NOT NULL
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_net') THEN
    RETURN;
  END IF;
  CREATE SCHEMA net;
  CREATE TYPE net.request_status AS ENUM ('PENDING', 'SUCCESS', 'ERROR');
  CREATE TYPE net.http_response AS (status_code integer, headers jsonb, body text);
  CREATE TYPE net.http_response_result AS (
    status net.request_status, message text, response net.http_response);
  CREATE TABLE net.http_request_queue (
    id bigserial NOT NULL,
    method text NOT NULL,
    url text NOT NULL,
    headers jsonb NOT NULL,
    body bytea,
    timeout_milliseconds integer NOT NULL
  );
  CREATE UNLOGGED TABLE net._http_response (
    id bigint,
    status_code integer,
    content_type text,
    headers jsonb,
    content text,
    timed_out boolean,
    error_msg text,
    created timestamptz NOT NULL DEFAULT pg_catalog.now()
  );
  COMMENT ON SCHEMA net IS
    'Strata: a recording stand-in for pg_net (not installed on this server): requests are queued in net.http_request_queue and never sent.';
  EXECUTE $f$
    CREATE FUNCTION net.http_get(url text, params jsonb DEFAULT '{}'::jsonb,
        headers jsonb DEFAULT '{}'::jsonb, timeout_milliseconds integer DEFAULT 5000)
    RETURNS bigint LANGUAGE sql AS $$
      INSERT INTO net.http_request_queue (method, url, headers, timeout_milliseconds)
      VALUES ('GET', url, headers, timeout_milliseconds) RETURNING id
    $$ $f$;
  EXECUTE $f$
    CREATE FUNCTION net.http_post(url text, body jsonb DEFAULT '{}'::jsonb,
        params jsonb DEFAULT '{}'::jsonb,
        headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb,
        timeout_milliseconds integer DEFAULT 5000)
    RETURNS bigint LANGUAGE sql AS $$
      INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
      VALUES ('POST', url, headers, pg_catalog.convert_to(body::text, 'utf8'), timeout_milliseconds)
      RETURNING id
    $$ $f$;
  EXECUTE $f$
    CREATE FUNCTION net.http_delete(url text, params jsonb DEFAULT '{}'::jsonb,
        headers jsonb DEFAULT '{}'::jsonb, timeout_milliseconds integer DEFAULT 5000)
    RETURNS bigint LANGUAGE sql AS $$
      INSERT INTO net.http_request_queue (method, url, headers, timeout_milliseconds)
      VALUES ('DELETE', url, headers, timeout_milliseconds) RETURNING id
    $$ $f$;
  EXECUTE $f$
    CREATE FUNCTION net._http_collect_response(request_id bigint, async boolean DEFAULT true)
    RETURNS net.http_response_result LANGUAGE sql AS $$
      SELECT ROW('PENDING', 'Strata: pg_net is emulated; no request was sent', NULL)::net.http_response_result
    $$ $f$;
  GRANT USAGE ON SCHEMA net TO anon, authenticated, service_role;
END
$net$;

CREATE SCHEMA IF NOT EXISTS supabase_functions;
GRANT USAGE ON SCHEMA supabase_functions TO anon, authenticated, service_role;

CREATE TABLE IF NOT EXISTS supabase_functions.migrations (
  version text PRIMARY KEY,
  inserted_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
INSERT INTO supabase_functions.migrations (version)
VALUES ('initial'), ('20210809183423_update_grants'), ('20240115163000_add_retry_to_http_request')
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS supabase_functions.hooks (
  id bigserial PRIMARY KEY,
  hook_table_id integer NOT NULL,
  hook_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  request_id bigint
);
CREATE INDEX IF NOT EXISTS supabase_functions_hooks_request_id_idx
  ON supabase_functions.hooks USING btree (request_id);
CREATE INDEX IF NOT EXISTS supabase_functions_hooks_h_table_id_h_name_idx
  ON supabase_functions.hooks USING btree (hook_table_id, hook_name);
COMMENT ON TABLE supabase_functions.hooks IS
  'Supabase Functions Hooks: Audit trail for triggered hooks.';

-- The trigger function "Database Webhooks" use: arguments url, method, headers, params,
-- timeout_ms (, max_retries). Records the request through net.http_get/http_post and the hook
-- in supabase_functions.hooks. (Supabase's retries wait on the response; with the stand-in there
-- is none to wait for, so each request is queued once.)
CREATE OR REPLACE FUNCTION supabase_functions.http_request()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = supabase_functions
AS $function$
DECLARE
  local_request_id bigint;
  payload jsonb;
  url text := TG_ARGV[0]::text;
  method text := TG_ARGV[1]::text;
  headers jsonb DEFAULT '{}'::jsonb;
  params jsonb DEFAULT '{}'::jsonb;
  timeout_ms integer;
BEGIN
  IF url IS NULL OR url = 'null' THEN
    RAISE EXCEPTION 'url argument is missing';
  END IF;
  IF method IS NULL OR method = 'null' THEN
    RAISE EXCEPTION 'method argument is missing';
  END IF;
  IF TG_ARGV[2] IS NULL OR TG_ARGV[2] = 'null' THEN
    headers = '{"Content-Type": "application/json"}'::jsonb;
  ELSE
    headers = TG_ARGV[2]::jsonb;
  END IF;
  IF TG_ARGV[3] IS NULL OR TG_ARGV[3] = 'null' THEN
    params = '{}'::jsonb;
  ELSE
    params = TG_ARGV[3]::jsonb;
  END IF;
  IF TG_ARGV[4] IS NOT NULL AND TG_ARGV[4] <> 'null' THEN
    timeout_ms = TG_ARGV[4]::integer;
  END IF;
  CASE
    WHEN method = 'GET' THEN
      SELECT net.http_get(url, params, headers, timeout_ms) INTO local_request_id;
    WHEN method = 'POST' THEN
      payload = pg_catalog.jsonb_build_object(
        'old_record', OLD, 'record', NEW, 'type', TG_OP,
        'table', TG_TABLE_NAME, 'schema', TG_TABLE_SCHEMA);
      SELECT net.http_post(url, payload, params, headers, timeout_ms) INTO local_request_id;
    ELSE
      RAISE EXCEPTION 'method argument % is invalid', method;
  END CASE;
  INSERT INTO supabase_functions.hooks (hook_table_id, hook_name, request_id)
  VALUES (TG_RELID, TG_NAME, local_request_id);
  RETURN NEW;
END
$function$;
REVOKE ALL ON FUNCTION supabase_functions.http_request() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION supabase_functions.http_request() TO anon, authenticated, service_role;
