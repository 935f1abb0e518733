-- Description: Base schema: profiles (credits, free-message quota) and end-to-end encrypted chats, behind RLS
-- Author: Strata examples
-- Date: 2024-01-01

-- ============================================
-- UP MIGRATION
-- ============================================

-- Shared trigger function that keeps updated_at current. The seed's migrations use it but never
-- define it, so it is defined here, first. search_path is pinned so that no caller's search_path
-- can change what the function resolves (splinter: function_search_path_mutable); now() is in
-- pg_catalog, which is always searched.
CREATE OR REPLACE FUNCTION public.update_updated_at_column()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  NEW.updated_at := pg_catalog.now();
  RETURN NEW;
END;
$$;

-- Profiles table: one row per auth user (created by handle_new_user below).
CREATE TABLE IF NOT EXISTS public.profiles (
  id UUID PRIMARY KEY REFERENCES auth.users(id),
  display_name TEXT,
  credits DECIMAL(10,4) DEFAULT 0,
  free_messages_used INT DEFAULT 0,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Encrypted chats table: the client encrypts; the server only stores ciphertext.
CREATE TABLE IF NOT EXISTS public.encrypted_chats (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID REFERENCES auth.users(id) NOT NULL,
  encrypted_data TEXT NOT NULL,
  title TEXT,
  custom_name TEXT,
  is_starred BOOLEAN DEFAULT FALSE,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Indexes
-- The seed also creates idx_profiles_user_id ON profiles(id). It is left out on purpose:
-- profiles.id is the primary key, and its index (profiles_pkey) already serves every lookup by
-- id; an identical second index would only slow writes and take space (splinter: duplicate_index).
CREATE INDEX IF NOT EXISTS idx_encrypted_chats_user_id ON public.encrypted_chats(user_id);
CREATE INDEX IF NOT EXISTS idx_encrypted_chats_user_updated ON public.encrypted_chats(user_id, updated_at);

-- Enable RLS
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.profiles FORCE ROW LEVEL SECURITY;
ALTER TABLE public.encrypted_chats ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.encrypted_chats FORCE ROW LEVEL SECURITY;

-- All policies below differ from the seed in two ways:
--   * auth.uid() is written (select auth.uid()), so PostgreSQL evaluates it once per statement
--     (an InitPlan) instead of once per row (splinter: auth_rls_initplan);
--   * they apply TO authenticated: anon has no auth.uid(), so they never matched anon anyway,
--     and now they are not even evaluated for it.

-- profiles: the app needs SELECT and UPDATE of the user's own row.
--   No INSERT policy: rows are created by the handle_new_user trigger below.
--   No DELETE policy: a profile lives as long as its auth user.
DROP POLICY IF EXISTS "Users can view own profile" ON public.profiles;
CREATE POLICY "Users can view own profile"
ON public.profiles FOR SELECT
TO authenticated
USING ((select auth.uid()) = id);

DROP POLICY IF EXISTS "Users can update own profile" ON public.profiles;
CREATE POLICY "Users can update own profile"
ON public.profiles FOR UPDATE
TO authenticated
USING ((select auth.uid()) = id)
WITH CHECK ((select auth.uid()) = id);

-- Beyond the seed (its policy alone is unsafe): RLS decides which rows a user may update, not
-- which columns, so the policy above would let a user set their own credits and
-- free_messages_used. Column privileges close that: the API roles lose UPDATE on the table and
-- authenticated gets UPDATE on display_name only (updated_at is set by the trigger, which needs
-- no privilege). credits and free_messages_used change only through SECURITY DEFINER functions
-- (consume_free_message) or service_role.
REVOKE UPDATE ON public.profiles FROM anon, authenticated;
GRANT UPDATE (display_name) ON public.profiles TO authenticated;

-- encrypted_chats: the app needs SELECT, INSERT, UPDATE (rename, star) and DELETE of own chats.
DROP POLICY IF EXISTS "Users can view own chats" ON public.encrypted_chats;
CREATE POLICY "Users can view own chats"
ON public.encrypted_chats FOR SELECT
TO authenticated
USING ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "Users can insert own chats" ON public.encrypted_chats;
CREATE POLICY "Users can insert own chats"
ON public.encrypted_chats FOR INSERT
TO authenticated
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "Users can update own chats" ON public.encrypted_chats;
CREATE POLICY "Users can update own chats"
ON public.encrypted_chats FOR UPDATE
TO authenticated
USING ((select auth.uid()) = user_id)
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "Users can delete own chats" ON public.encrypted_chats;
CREATE POLICY "Users can delete own chats"
ON public.encrypted_chats FOR DELETE
TO authenticated
USING ((select auth.uid()) = user_id);

-- updated_at triggers
DROP TRIGGER IF EXISTS update_profiles_updated_at ON public.profiles;
CREATE TRIGGER update_profiles_updated_at
  BEFORE UPDATE ON public.profiles
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();

DROP TRIGGER IF EXISTS update_encrypted_chats_updated_at ON public.encrypted_chats;
CREATE TRIGGER update_encrypted_chats_updated_at
  BEFORE UPDATE ON public.encrypted_chats
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();

-- Beyond the seed: the seed never says where profile rows come from. As is usual on Supabase,
-- a trigger on auth.users creates one when a user signs up. SECURITY DEFINER because the
-- inserting role (the auth service) has no rights on public.profiles; search_path pinned and
-- names qualified so that the elevated function cannot be redirected. It relies on its owner
-- (the migrating role) bypassing RLS, as postgres does on Supabase and a superuser does locally:
-- profiles forces RLS and has no INSERT policy. Nobody needs to call it directly, so EXECUTE is
-- revoked from the API roles (the trigger still fires).
CREATE OR REPLACE FUNCTION public.handle_new_user()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  INSERT INTO public.profiles (id, display_name)
  VALUES (NEW.id, NEW.raw_user_meta_data ->> 'display_name')
  ON CONFLICT (id) DO NOTHING;
  RETURN NEW;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.handle_new_user() FROM PUBLIC, anon, authenticated;

DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;
CREATE TRIGGER on_auth_user_created
  AFTER INSERT ON auth.users
  FOR EACH ROW
  EXECUTE FUNCTION public.handle_new_user();
