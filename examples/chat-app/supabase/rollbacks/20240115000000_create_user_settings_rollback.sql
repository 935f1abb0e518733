-- Description: Roll back 20240115000000_create_user_settings: drop user_settings
-- Author: Strata examples
-- Date: 2024-01-15

-- ============================================
-- DOWN MIGRATION
-- ============================================

-- Dropping the table drops its policies and trigger.
DROP TABLE IF EXISTS public.user_settings;
