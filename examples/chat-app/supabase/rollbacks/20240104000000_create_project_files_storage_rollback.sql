-- Description: Roll back 20240104000000_create_project_files_storage: drop the bucket policies, the "project-files" bucket and project_files
-- Author: Strata examples
-- Date: 2024-01-04

-- ============================================
-- DOWN MIGRATION
-- ============================================

DROP POLICY IF EXISTS "project_files_storage_delete" ON storage.objects;
DROP POLICY IF EXISTS "project_files_storage_update" ON storage.objects;
DROP POLICY IF EXISTS "project_files_storage_select" ON storage.objects;
DROP POLICY IF EXISTS "project_files_storage_insert" ON storage.objects;

-- The bucket row is deleted only when the bucket is empty (see the images rollback for why).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM storage.objects WHERE bucket_id = 'project-files') THEN
    RAISE EXCEPTION 'bucket "project-files" still holds objects'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Empty the bucket through the Storage API or the dashboard, then run the rollback again.';
  END IF;
  -- Supabase refuses direct deletes from its storage tables unless the transaction says so.
  PERFORM set_config('storage.allow_delete_query', 'true', true);
  DELETE FROM storage.buckets WHERE id = 'project-files';
END
$$;

-- Dropping the table drops its indexes, policies and trigger.
DROP TABLE IF EXISTS public.project_files;
