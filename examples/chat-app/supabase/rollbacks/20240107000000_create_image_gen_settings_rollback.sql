-- Description: Roll back 20240107000000_create_image_gen_settings: drop image_gen_settings
-- Author: Strata examples
-- Date: 2024-01-07

-- ============================================
-- DOWN MIGRATION
-- ============================================

-- Dropping the table drops its policies and trigger.
DROP TABLE IF EXISTS public.image_gen_settings;
