-- Description: Add user settings table for app configuration
-- Author: Strata examples
-- Date: 2024-01-15

-- ============================================
-- UP MIGRATION
-- ============================================

-- The seed's template example, made re-runnable (IF NOT EXISTS, DROP ... IF EXISTS before each
-- CREATE POLICY / CREATE TRIGGER) and with the same policy changes as the other migrations.

-- Create table
CREATE TABLE IF NOT EXISTS public.user_settings (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID REFERENCES auth.users(id) UNIQUE NOT NULL,
  settings JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Create indexes
-- The seed's idx_user_settings_user_id ON user_settings(user_id) is left out on purpose: the
-- UNIQUE constraint on user_id already has an identical index (user_settings_user_id_key), so a
-- second one would only slow writes and take space (splinter: duplicate_index).

-- Enable RLS
ALTER TABLE public.user_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_settings FORCE ROW LEVEL SECURITY;

-- Create policies
-- user_settings: the app needs SELECT, INSERT and UPDATE of the user's own row (as in the
-- seed). No DELETE policy. (select auth.uid()) is evaluated once per statement; TO authenticated.
DROP POLICY IF EXISTS "Users can view own settings" ON public.user_settings;
CREATE POLICY "Users can view own settings"
ON public.user_settings FOR SELECT
TO authenticated
USING ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "Users can insert own settings" ON public.user_settings;
CREATE POLICY "Users can insert own settings"
ON public.user_settings FOR INSERT
TO authenticated
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "Users can update own settings" ON public.user_settings;
CREATE POLICY "Users can update own settings"
ON public.user_settings FOR UPDATE
TO authenticated
USING ((select auth.uid()) = user_id)
WITH CHECK ((select auth.uid()) = user_id);

-- Create trigger for updated_at
DROP TRIGGER IF EXISTS update_user_settings_updated_at ON public.user_settings;
CREATE TRIGGER update_user_settings_updated_at
  BEFORE UPDATE ON public.user_settings
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();
