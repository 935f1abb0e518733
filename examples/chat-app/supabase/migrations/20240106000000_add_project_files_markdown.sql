-- Description: Add a markdown summary column to project_files
-- Author: Strata examples
-- Date: 2024-01-06

-- ============================================
-- UP MIGRATION
-- ============================================

-- A markdown rendering/summary of the file's content, for use as model context. Nullable: it is
-- filled in after the upload, and adding a nullable column without a default is a catalog-only
-- change (no table rewrite, brief lock). The existing project_files policies already cover it:
-- owners read it and may update it on their own rows.
ALTER TABLE public.project_files ADD COLUMN IF NOT EXISTS markdown_summary TEXT;

COMMENT ON COLUMN public.project_files.markdown_summary IS
  'Markdown summary of the file content, generated after upload; NULL until then.';
