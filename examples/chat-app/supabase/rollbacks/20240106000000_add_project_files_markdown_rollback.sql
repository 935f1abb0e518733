-- Description: Roll back 20240106000000_add_project_files_markdown: drop the markdown_summary column
-- Author: Strata examples
-- Date: 2024-01-06

-- ============================================
-- DOWN MIGRATION
-- ============================================

-- Drops the summaries with the column; they can be generated again from the files.
ALTER TABLE public.project_files DROP COLUMN IF EXISTS markdown_summary;
