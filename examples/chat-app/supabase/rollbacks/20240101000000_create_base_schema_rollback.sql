-- Description: Roll back 20240101000000_create_base_schema: drop profiles, encrypted_chats and their functions
-- Author: Strata examples
-- Date: 2024-01-01

-- ============================================
-- DOWN MIGRATION
-- ============================================

-- Reverse dependency order. No CASCADE: if a later migration's objects still depend on these
-- (roll those back first), the rollback fails loudly instead of dropping them silently.
-- Dropping a table drops its indexes, policies, triggers and grants with it.
DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;
DROP FUNCTION IF EXISTS public.handle_new_user();
DROP TABLE IF EXISTS public.encrypted_chats;
DROP TABLE IF EXISTS public.profiles;
DROP FUNCTION IF EXISTS public.update_updated_at_column();
