-- Description: Projects feature: projects and the project-chat junction, behind RLS
-- Author: Strata examples
-- Date: 2024-01-02

-- ============================================
-- UP MIGRATION
-- ============================================

-- Projects table
CREATE TABLE IF NOT EXISTS public.projects (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID REFERENCES auth.users(id) NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  system_prompt TEXT,
  is_archived BOOLEAN DEFAULT FALSE,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Project-chat junction
CREATE TABLE IF NOT EXISTS public.project_chats (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID REFERENCES public.projects(id) ON DELETE CASCADE,
  chat_id UUID REFERENCES public.encrypted_chats(id) ON DELETE CASCADE,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  UNIQUE(project_id, chat_id)
);

-- Indexes
CREATE INDEX IF NOT EXISTS idx_projects_user_id ON public.projects(user_id);
CREATE INDEX IF NOT EXISTS idx_projects_archived ON public.projects(user_id, is_archived);
CREATE INDEX IF NOT EXISTS idx_project_chats_project ON public.project_chats(project_id);
CREATE INDEX IF NOT EXISTS idx_project_chats_chat ON public.project_chats(chat_id);

-- Enable RLS
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.projects FORCE ROW LEVEL SECURITY;
ALTER TABLE public.project_chats ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.project_chats FORCE ROW LEVEL SECURITY;

-- Policies: as in the seed, with (select auth.uid()) evaluated once per statement and
-- TO authenticated (see the base schema migration).

-- projects: the app needs SELECT, INSERT, UPDATE (rename, archive, edit prompt) and DELETE of the
-- user's own projects (standard pattern).
DROP POLICY IF EXISTS "projects_select" ON public.projects;
CREATE POLICY "projects_select" ON public.projects FOR SELECT
TO authenticated
USING ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "projects_insert" ON public.projects;
CREATE POLICY "projects_insert" ON public.projects FOR INSERT
TO authenticated
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "projects_update" ON public.projects;
CREATE POLICY "projects_update" ON public.projects FOR UPDATE
TO authenticated
USING ((select auth.uid()) = user_id)
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "projects_delete" ON public.projects;
CREATE POLICY "projects_delete" ON public.projects FOR DELETE
TO authenticated
USING ((select auth.uid()) = user_id);

-- project_chats: the app needs SELECT, INSERT (add a chat to a project) and DELETE (remove it),
-- decided by who owns the project (join-based). No UPDATE policy: a link is never edited;
-- moving a chat is a delete plus an insert, and both checks below apply to it.
-- The INSERT check requires that the user owns BOTH the project and the chat, so a user can
-- neither link someone else's chat into their own project nor their own chat into someone
-- else's project. The subqueries run under the caller's RLS on projects and encrypted_chats,
-- which shows them only their own rows anyway.
DROP POLICY IF EXISTS "project_chats_select" ON public.project_chats;
CREATE POLICY "project_chats_select" ON public.project_chats FOR SELECT
TO authenticated
USING (EXISTS (
  SELECT 1 FROM public.projects p
  WHERE p.id = project_chats.project_id AND p.user_id = (select auth.uid())
));

DROP POLICY IF EXISTS "project_chats_insert" ON public.project_chats;
CREATE POLICY "project_chats_insert" ON public.project_chats FOR INSERT
TO authenticated
WITH CHECK (
  EXISTS (
    SELECT 1 FROM public.projects p
    WHERE p.id = project_chats.project_id AND p.user_id = (select auth.uid())
  )
  AND EXISTS (
    SELECT 1 FROM public.encrypted_chats c
    WHERE c.id = project_chats.chat_id AND c.user_id = (select auth.uid())
  )
);

DROP POLICY IF EXISTS "project_chats_delete" ON public.project_chats;
CREATE POLICY "project_chats_delete" ON public.project_chats FOR DELETE
TO authenticated
USING (EXISTS (
  SELECT 1 FROM public.projects p
  WHERE p.id = project_chats.project_id AND p.user_id = (select auth.uid())
));

-- updated_at trigger (project_chats has no updated_at column)
DROP TRIGGER IF EXISTS update_projects_updated_at ON public.projects;
CREATE TRIGGER update_projects_updated_at
  BEFORE UPDATE ON public.projects
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();
