-- Description: Roll back 20240102000000_create_projects: drop project_chats and projects
-- Author: Strata examples
-- Date: 2024-01-02

-- ============================================
-- DOWN MIGRATION
-- ============================================

-- Reverse dependency order, no CASCADE (later migrations must be rolled back first).
DROP TABLE IF EXISTS public.project_chats;
DROP TABLE IF EXISTS public.projects;
