-- Description: Roll back 20240105000000_add_free_messages: drop consume_free_message() and the limit table
-- Author: Strata examples
-- Date: 2024-01-05

-- ============================================
-- DOWN MIGRATION
-- ============================================

-- profiles.free_messages_used belongs to the base schema and stays.
DROP FUNCTION IF EXISTS public.consume_free_message();
DROP TABLE IF EXISTS public.free_message_config;
