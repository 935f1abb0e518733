-- Description: Project files: the project_files table and the private "project-files" storage bucket, behind RLS
-- Author: Strata examples
-- Date: 2024-01-04

-- ============================================
-- UP MIGRATION
-- ============================================

-- One row per file attached to a project. The file itself is the object named storage_path in
-- the "project-files" bucket; storage paths are "<user id>/<project id>/<file name>".
CREATE TABLE IF NOT EXISTS public.project_files (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID NOT NULL REFERENCES public.projects(id) ON DELETE CASCADE,
  user_id UUID NOT NULL REFERENCES auth.users(id),
  name TEXT NOT NULL,
  storage_path TEXT NOT NULL UNIQUE,
  mime_type TEXT,
  size_bytes BIGINT CHECK (size_bytes >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes: both foreign keys (lists by project; cascades and per-user lookups by user).
CREATE INDEX IF NOT EXISTS idx_project_files_project_id ON public.project_files(project_id);
CREATE INDEX IF NOT EXISTS idx_project_files_user_id ON public.project_files(user_id);

-- Enable RLS
ALTER TABLE public.project_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.project_files FORCE ROW LEVEL SECURITY;

-- project_files: the app needs SELECT, INSERT (register an upload), UPDATE (rename, add a
-- summary) and DELETE of the user's own rows. Writes must also point into one of the user's
-- own projects and into the user's own storage folder, so a row can never attach a file to
-- someone else's project or claim someone else's object.
DROP POLICY IF EXISTS "project_files_select" ON public.project_files;
CREATE POLICY "project_files_select" ON public.project_files FOR SELECT
TO authenticated
USING ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "project_files_insert" ON public.project_files;
CREATE POLICY "project_files_insert" ON public.project_files FOR INSERT
TO authenticated
WITH CHECK (
  (select auth.uid()) = user_id
  AND EXISTS (
    SELECT 1 FROM public.projects p
    WHERE p.id = project_files.project_id AND p.user_id = (select auth.uid())
  )
  AND (storage.foldername(storage_path))[1] = (select auth.uid())::text
);

DROP POLICY IF EXISTS "project_files_update" ON public.project_files;
CREATE POLICY "project_files_update" ON public.project_files FOR UPDATE
TO authenticated
USING ((select auth.uid()) = user_id)
WITH CHECK (
  (select auth.uid()) = user_id
  AND EXISTS (
    SELECT 1 FROM public.projects p
    WHERE p.id = project_files.project_id AND p.user_id = (select auth.uid())
  )
  AND (storage.foldername(storage_path))[1] = (select auth.uid())::text
);

DROP POLICY IF EXISTS "project_files_delete" ON public.project_files;
CREATE POLICY "project_files_delete" ON public.project_files FOR DELETE
TO authenticated
USING ((select auth.uid()) = user_id);

-- updated_at trigger
DROP TRIGGER IF EXISTS update_project_files_updated_at ON public.project_files;
CREATE TRIGGER update_project_files_updated_at
  BEFORE UPDATE ON public.project_files
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();

-- Create bucket: private, 50 MiB per file (documents and attachments are larger than chat
-- images); any MIME type, since projects hold arbitrary files.
INSERT INTO storage.buckets (id, name, public, file_size_limit)
VALUES ('project-files', 'project-files', false, 52428800)
ON CONFLICT (id) DO NOTHING;

-- Storage policies: the same per-user folder rule as the images bucket - the first folder of
-- the object name is the owner's user id. INSERT, SELECT, UPDATE (upsert, move; checked before
-- and after) and DELETE.
DROP POLICY IF EXISTS "project_files_storage_insert" ON storage.objects;
CREATE POLICY "project_files_storage_insert" ON storage.objects FOR INSERT
TO authenticated
WITH CHECK (
  bucket_id = 'project-files' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);

DROP POLICY IF EXISTS "project_files_storage_select" ON storage.objects;
CREATE POLICY "project_files_storage_select" ON storage.objects FOR SELECT
TO authenticated
USING (
  bucket_id = 'project-files' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);

DROP POLICY IF EXISTS "project_files_storage_update" ON storage.objects;
CREATE POLICY "project_files_storage_update" ON storage.objects FOR UPDATE
TO authenticated
USING (
  bucket_id = 'project-files' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
)
WITH CHECK (
  bucket_id = 'project-files' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);

DROP POLICY IF EXISTS "project_files_storage_delete" ON storage.objects;
CREATE POLICY "project_files_storage_delete" ON storage.objects FOR DELETE
TO authenticated
USING (
  bucket_id = 'project-files' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);
