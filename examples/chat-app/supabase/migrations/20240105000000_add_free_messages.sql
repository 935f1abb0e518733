-- Description: Free message quota: the configured limit and consume_free_message()
-- Author: Strata examples
-- Date: 2024-01-05

-- ============================================
-- UP MIGRATION
-- ============================================

-- profiles.free_messages_used (base schema) counts the free messages a user has used. The limit
-- lives in a one-row configuration table rather than as a constant inside the function: it can
-- be changed with one UPDATE (by service_role or in the SQL editor) without redefining the
-- function, and the client can read it to show "n of N free messages left". The boolean primary
-- key with CHECK (id) allows exactly one row.
CREATE TABLE IF NOT EXISTS public.free_message_config (
  id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
  free_message_limit INT NOT NULL CHECK (free_message_limit >= 0),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- The default limit; a value changed later is kept when this file runs again.
INSERT INTO public.free_message_config (id, free_message_limit)
VALUES (TRUE, 10)
ON CONFLICT (id) DO NOTHING;

-- Enable RLS
ALTER TABLE public.free_message_config ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.free_message_config FORCE ROW LEVEL SECURITY;

-- free_message_config: the app needs SELECT only (any signed-in user may read the limit). No
-- INSERT/UPDATE/DELETE policies: the limit is changed by service_role (which bypasses RLS) or
-- by the database owner.
DROP POLICY IF EXISTS "free_message_config_select" ON public.free_message_config;
CREATE POLICY "free_message_config_select" ON public.free_message_config FOR SELECT
TO authenticated
USING (true);

-- updated_at trigger
DROP TRIGGER IF EXISTS update_free_message_config_updated_at ON public.free_message_config;
CREATE TRIGGER update_free_message_config_updated_at
  BEFORE UPDATE ON public.free_message_config
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();

-- Uses one free message of the calling user and returns how many are left afterwards.
--
-- Atomic: the check and the increment are one UPDATE, so concurrent calls by the same user
-- serialize on the profile row and can never take the count past the limit.
-- SECURITY DEFINER: users have no UPDATE privilege on free_messages_used (see the base schema),
-- so this function is the only way for them to change it, and only by one, only for
-- themselves (auth.uid()), only within the limit. search_path is empty and every name is
-- qualified, so the elevated function cannot be redirected. Like handle_new_user it relies on
-- its owner bypassing RLS (postgres on Supabase, a superuser locally).
-- Errors:
--   42501 not signed in (no sub claim);
--   P0002 the user has no profile row;
--   55000 the limit is not configured;
--   PT402 no free messages left - PostgREST answers SQLSTATE PTxyz with HTTP status xyz, so the
--         client receives 402 Payment Required with the message and hint.
CREATE OR REPLACE FUNCTION public.consume_free_message()
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_user_id uuid := auth.uid();
  v_limit integer;
  v_used integer;
BEGIN
  IF v_user_id IS NULL THEN
    RAISE EXCEPTION 'consume_free_message: not signed in'
      USING ERRCODE = '42501',
            HINT = 'Call it with a signed-in user''s access token.';
  END IF;

  SELECT c.free_message_limit INTO v_limit
    FROM public.free_message_config c
   WHERE c.id;
  IF v_limit IS NULL THEN
    RAISE EXCEPTION 'consume_free_message: the free message limit is not configured'
      USING ERRCODE = '55000',
            HINT = 'Insert the row into public.free_message_config.';
  END IF;

  UPDATE public.profiles p
     SET free_messages_used = COALESCE(p.free_messages_used, 0) + 1
   WHERE p.id = v_user_id
     AND COALESCE(p.free_messages_used, 0) < v_limit
  RETURNING p.free_messages_used INTO v_used;

  IF NOT FOUND THEN
    IF NOT EXISTS (SELECT 1 FROM public.profiles p WHERE p.id = v_user_id) THEN
      RAISE EXCEPTION 'consume_free_message: no profile for user %', v_user_id
        USING ERRCODE = 'P0002',
              HINT = 'Profiles are created by the on_auth_user_created trigger on auth.users.';
    END IF;
    RAISE EXCEPTION 'No free messages left: all % have been used', v_limit
      USING ERRCODE = 'PT402',
            HINT = 'Add credits to keep sending messages.';
  END IF;

  RETURN v_limit - v_used;
END;
$$;

-- Supabase's default privileges let anon (and PUBLIC) execute every new function in public;
-- only signed-in users may call this one.
REVOKE EXECUTE ON FUNCTION public.consume_free_message() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.consume_free_message() TO authenticated;
