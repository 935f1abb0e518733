-- Description: Image generation preferences: one row of settings per user, behind RLS
-- Author: Strata examples
-- Date: 2024-01-07

-- ============================================
-- UP MIGRATION
-- ============================================

-- One row per user (user_id is the primary key). The defaults are what a user gets before
-- changing anything; the checks keep values the image API accepts, so a bad client cannot store
-- settings that fail every later request.
CREATE TABLE IF NOT EXISTS public.image_gen_settings (
  user_id UUID PRIMARY KEY REFERENCES auth.users(id),
  model TEXT NOT NULL DEFAULT 'dall-e-3'
    CHECK (char_length(model) BETWEEN 1 AND 100),
  size TEXT NOT NULL DEFAULT '1024x1024'
    CHECK (size ~ '^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$'),
  quality TEXT NOT NULL DEFAULT 'standard'
    CHECK (quality IN ('standard', 'hd')),
  style TEXT NOT NULL DEFAULT 'vivid'
    CHECK (style IN ('vivid', 'natural')),
  images_per_request SMALLINT NOT NULL DEFAULT 1
    CHECK (images_per_request BETWEEN 1 AND 4),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- No extra index: the primary key's index serves the only lookup (by user_id).

-- Enable RLS
ALTER TABLE public.image_gen_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.image_gen_settings FORCE ROW LEVEL SECURITY;

-- image_gen_settings: the app needs SELECT, INSERT and UPDATE of the user's own row (an upsert
-- needs all three). No DELETE policy: "reset to defaults" is an update.
DROP POLICY IF EXISTS "image_gen_settings_select" ON public.image_gen_settings;
CREATE POLICY "image_gen_settings_select" ON public.image_gen_settings FOR SELECT
TO authenticated
USING ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "image_gen_settings_insert" ON public.image_gen_settings;
CREATE POLICY "image_gen_settings_insert" ON public.image_gen_settings FOR INSERT
TO authenticated
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "image_gen_settings_update" ON public.image_gen_settings;
CREATE POLICY "image_gen_settings_update" ON public.image_gen_settings FOR UPDATE
TO authenticated
USING ((select auth.uid()) = user_id)
WITH CHECK ((select auth.uid()) = user_id);

-- updated_at trigger
DROP TRIGGER IF EXISTS update_image_gen_settings_updated_at ON public.image_gen_settings;
CREATE TRIGGER update_image_gen_settings_updated_at
  BEFORE UPDATE ON public.image_gen_settings
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();
