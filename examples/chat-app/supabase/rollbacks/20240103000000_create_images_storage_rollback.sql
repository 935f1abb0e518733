-- Description: Roll back 20240103000000_create_images_storage: drop the policies and the "images" bucket
-- Author: Strata examples
-- Date: 2024-01-03

-- ============================================
-- DOWN MIGRATION
-- ============================================

DROP POLICY IF EXISTS "images_delete" ON storage.objects;
DROP POLICY IF EXISTS "images_update" ON storage.objects;
DROP POLICY IF EXISTS "images_select" ON storage.objects;
DROP POLICY IF EXISTS "images_insert" ON storage.objects;

-- The bucket row is deleted only when the bucket is empty. Deleting rows of storage.objects in
-- SQL would leave the stored files behind (and Supabase refuses direct deletes from its storage
-- tables), so a bucket that still holds objects stops the rollback with an explanation.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM storage.objects WHERE bucket_id = 'images') THEN
    RAISE EXCEPTION 'bucket "images" still holds objects'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Empty the bucket through the Storage API or the dashboard, then run the rollback again.';
  END IF;
  -- Supabase refuses direct deletes from its storage tables unless the transaction says so.
  PERFORM set_config('storage.allow_delete_query', 'true', true);
  DELETE FROM storage.buckets WHERE id = 'images';
END
$$;
