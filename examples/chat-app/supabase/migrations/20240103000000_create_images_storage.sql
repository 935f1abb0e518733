-- Description: Private "images" storage bucket (10 MiB per file) with per-user folder policies
-- Author: Strata examples
-- Date: 2024-01-03

-- ============================================
-- UP MIGRATION
-- ============================================

-- Create bucket (private: objects are served only through signed URLs or the user's own token)
INSERT INTO storage.buckets (id, name, public, file_size_limit)
VALUES ('images', 'images', false, 10485760)
ON CONFLICT (id) DO NOTHING;

-- RLS policies on storage.objects. Object names are "<user id>/<file name>": the first folder
-- of the path is the owner's user id. The app needs INSERT (upload), SELECT (download, list),
-- DELETE, and - beyond the seed - UPDATE, which the Storage API uses to overwrite (upsert) and
-- to move/rename objects. UPDATE checks the folder both before (USING) and after
-- (WITH CHECK) the change, so a user can neither touch another user's objects nor move their
-- own object into another user's folder.
-- (select auth.uid()) is evaluated once per statement; the policies apply TO authenticated.
DROP POLICY IF EXISTS "images_insert" ON storage.objects;
CREATE POLICY "images_insert" ON storage.objects FOR INSERT
TO authenticated
WITH CHECK (
  bucket_id = 'images' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);

DROP POLICY IF EXISTS "images_select" ON storage.objects;
CREATE POLICY "images_select" ON storage.objects FOR SELECT
TO authenticated
USING (
  bucket_id = 'images' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);

DROP POLICY IF EXISTS "images_update" ON storage.objects;
CREATE POLICY "images_update" ON storage.objects FOR UPDATE
TO authenticated
USING (
  bucket_id = 'images' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
)
WITH CHECK (
  bucket_id = 'images' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);

DROP POLICY IF EXISTS "images_delete" ON storage.objects;
CREATE POLICY "images_delete" ON storage.objects FOR DELETE
TO authenticated
USING (
  bucket_id = 'images' AND
  (select auth.uid())::text = (storage.foldername(name))[1]
);
