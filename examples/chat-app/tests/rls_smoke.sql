-- RLS smoke test for the chat-app example, as two real users.
--
-- Run after the migrations and seed.sql (on Supabase or on the Strata emulation), as the
-- database owner:
--   psql -X -v ON_ERROR_STOP=1 -f examples/chat-app/tests/rls_smoke.sql
-- Every check is an ASSERT or an expected error inside a DO block; the first failure stops the
-- script with a message. Everything runs in one transaction that is rolled back at the end, so
-- the database is left as it was.
--
-- A request is emulated the way PostgREST makes one: the JWT claims go into the transaction
-- setting request.jwt.claims and the role is switched to authenticated (SET LOCAL ROLE).

BEGIN;

-- Fixtures, as the owner: Alice (A) and Bob (B) from seed.sql, a project each, an object each.
INSERT INTO public.projects (id, user_id, name) VALUES
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'Alice project'),
  ('bbbbbbbb-0000-4000-8000-0000000000b1', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'Bob project');
INSERT INTO storage.objects (bucket_id, name) VALUES
  ('images', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb/bob.png'),
  ('project-files', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb/bbbbbbbb-0000-4000-8000-0000000000b1/notes.md');
INSERT INTO public.project_files (project_id, user_id, name, storage_path) VALUES
  ('bbbbbbbb-0000-4000-8000-0000000000b1', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'notes.md',
   'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb/bbbbbbbb-0000-4000-8000-0000000000b1/notes.md');
INSERT INTO public.image_gen_settings (user_id) VALUES ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
INSERT INTO public.user_settings (user_id) VALUES ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
UPDATE public.free_message_config SET free_message_limit = 3;

-- ---------------------------------------------------------------------------------------------
-- As Alice.
-- ---------------------------------------------------------------------------------------------
SELECT set_config('request.jwt.claims',
  '{"sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "role": "authenticated"}', true);
SET LOCAL ROLE authenticated;

DO $$
DECLARE
  a constant uuid := 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  b constant uuid := 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
  n integer;
  left_ integer;
BEGIN
  ASSERT auth.uid() = a, 'auth.uid() is Alice';

  -- profiles: only her own row; display_name is updatable, credits and quota are not.
  SELECT count(*) INTO n FROM public.profiles;
  ASSERT n = 1, format('profiles: Alice sees %s rows, expected 1', n);
  ASSERT (SELECT id FROM public.profiles) = a, 'profiles: the visible row is Alice''s';
  UPDATE public.profiles SET display_name = 'Alice A.' WHERE id = a;
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 1, 'profiles: Alice can rename herself';
  UPDATE public.profiles SET display_name = 'hacked' WHERE id = b;
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 0, 'profiles: Alice cannot rename Bob';
  BEGIN
    UPDATE public.profiles SET credits = 1000 WHERE id = a;
    RAISE EXCEPTION 'profiles: Alice could set her own credits';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    UPDATE public.profiles SET free_messages_used = 0 WHERE id = a;
    RAISE EXCEPTION 'profiles: Alice could reset her own free message count';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    INSERT INTO public.profiles (id) VALUES (gen_random_uuid());
    RAISE EXCEPTION 'profiles: Alice could insert a profile';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;

  -- encrypted_chats: only her own; cannot write one for Bob.
  SELECT count(*) INTO n FROM public.encrypted_chats;
  ASSERT n = 1, format('encrypted_chats: Alice sees %s rows, expected 1', n);
  ASSERT NOT EXISTS (SELECT 1 FROM public.encrypted_chats WHERE user_id <> a), 'encrypted_chats: only Alice''s';
  BEGIN
    INSERT INTO public.encrypted_chats (user_id, encrypted_data) VALUES (b, 'x');
    RAISE EXCEPTION 'encrypted_chats: Alice could create a chat for Bob';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    UPDATE public.encrypted_chats SET user_id = b WHERE user_id = a;
    RAISE EXCEPTION 'encrypted_chats: Alice could hand her chat to Bob';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  DELETE FROM public.encrypted_chats WHERE user_id = b;
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 0, 'encrypted_chats: Alice cannot delete Bob''s chat';

  -- projects: only her own.
  SELECT count(*) INTO n FROM public.projects;
  ASSERT n = 1, format('projects: Alice sees %s rows, expected 1', n);

  -- project_chats: her chat into her project works; Bob's chat into her project and her chat
  -- into Bob's project do not.
  INSERT INTO public.project_chats (project_id, chat_id)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000a1', 'aaaaaaaa-0000-4000-8000-000000000001');
  BEGIN
    INSERT INTO public.project_chats (project_id, chat_id)
    VALUES ('aaaaaaaa-0000-4000-8000-0000000000a1', 'bbbbbbbb-0000-4000-8000-000000000001');
    RAISE EXCEPTION 'project_chats: Alice linked Bob''s chat into her project';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    INSERT INTO public.project_chats (project_id, chat_id)
    VALUES ('bbbbbbbb-0000-4000-8000-0000000000b1', 'aaaaaaaa-0000-4000-8000-000000000001');
    RAISE EXCEPTION 'project_chats: Alice linked her chat into Bob''s project';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    UPDATE public.project_chats SET project_id = 'bbbbbbbb-0000-4000-8000-0000000000b1';
    GET DIAGNOSTICS n = ROW_COUNT;
    ASSERT n = 0, 'project_chats: Alice could move a link';
  END;

  -- images bucket: her folder only, including renames.
  INSERT INTO storage.objects (bucket_id, name) VALUES ('images', a::text || '/cat.png');
  BEGIN
    INSERT INTO storage.objects (bucket_id, name) VALUES ('images', b::text || '/planted.png');
    RAISE EXCEPTION 'images: Alice uploaded into Bob''s folder';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    UPDATE storage.objects SET name = b::text || '/moved.png'
     WHERE bucket_id = 'images' AND name = a::text || '/cat.png';
    RAISE EXCEPTION 'images: Alice moved her object into Bob''s folder';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  UPDATE storage.objects SET name = a::text || '/renamed.png'
   WHERE bucket_id = 'images' AND name = a::text || '/cat.png';
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 1, 'images: Alice can rename within her folder';
  SELECT count(*) INTO n FROM storage.objects;
  ASSERT n = 1, format('storage.objects: Alice sees %s objects, expected 1', n);
  -- As the Storage API deletes: Supabase refuses direct deletes from storage tables otherwise.
  PERFORM set_config('storage.allow_delete_query', 'true', true);
  DELETE FROM storage.objects WHERE name LIKE b::text || '/%';
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 0, 'storage.objects: Alice cannot delete Bob''s objects';

  -- project_files: own rows, own project, own folder.
  INSERT INTO public.project_files (project_id, user_id, name, storage_path, size_bytes)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000a1', a, 'spec.pdf',
          a::text || '/aaaaaaaa-0000-4000-8000-0000000000a1/spec.pdf', 1234);
  BEGIN
    INSERT INTO public.project_files (project_id, user_id, name, storage_path)
    VALUES ('bbbbbbbb-0000-4000-8000-0000000000b1', a, 'x', a::text || '/x');
    RAISE EXCEPTION 'project_files: Alice attached a file to Bob''s project';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    INSERT INTO public.project_files (project_id, user_id, name, storage_path)
    VALUES ('aaaaaaaa-0000-4000-8000-0000000000a1', a, 'x', b::text || '/x');
    RAISE EXCEPTION 'project_files: Alice claimed an object in Bob''s folder';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    INSERT INTO public.project_files (project_id, user_id, name, storage_path, size_bytes)
    VALUES ('aaaaaaaa-0000-4000-8000-0000000000a1', a, 'neg', a::text || '/neg', -1);
    RAISE EXCEPTION 'project_files: negative size accepted';
  EXCEPTION WHEN check_violation THEN NULL;
  END;
  UPDATE public.project_files SET markdown_summary = '# Spec' WHERE name = 'spec.pdf';
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 1, 'project_files: Alice can set the markdown summary of her file';
  SELECT count(*) INTO n FROM public.project_files;
  ASSERT n = 1, format('project_files: Alice sees %s rows, expected 1', n);

  -- image_gen_settings and user_settings: own row only, values checked.
  INSERT INTO public.image_gen_settings (user_id, quality) VALUES (a, 'hd');
  SELECT count(*) INTO n FROM public.image_gen_settings;
  ASSERT n = 1, format('image_gen_settings: Alice sees %s rows, expected 1', n);
  BEGIN
    UPDATE public.image_gen_settings SET quality = 'ultra' WHERE user_id = a;
    RAISE EXCEPTION 'image_gen_settings: invalid quality accepted';
  EXCEPTION WHEN check_violation THEN NULL;
  END;
  BEGIN
    INSERT INTO public.image_gen_settings (user_id) VALUES (b);
    RAISE EXCEPTION 'image_gen_settings: Alice wrote Bob''s settings';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  INSERT INTO public.user_settings (user_id, settings) VALUES (a, '{"theme": "dark"}');
  SELECT count(*) INTO n FROM public.user_settings;
  ASSERT n = 1, format('user_settings: Alice sees %s rows, expected 1', n);

  -- free messages: the limit is readable, not writable; the quota stops at the limit (3 here).
  ASSERT (SELECT free_message_limit FROM public.free_message_config) = 3, 'free_message_config readable';
  UPDATE public.free_message_config SET free_message_limit = 1000;
  GET DIAGNOSTICS n = ROW_COUNT;
  ASSERT n = 0, 'free_message_config: Alice changed the limit';
  left_ := public.consume_free_message();
  ASSERT left_ = 2, format('consume_free_message: %s left after 1, expected 2', left_);
  left_ := public.consume_free_message();
  left_ := public.consume_free_message();
  ASSERT left_ = 0, format('consume_free_message: %s left after 3, expected 0', left_);
  BEGIN
    PERFORM public.consume_free_message();
    RAISE EXCEPTION 'consume_free_message: a 4th message was allowed with a limit of 3';
  EXCEPTION WHEN SQLSTATE 'PT402' THEN NULL;
  END;
  ASSERT (SELECT free_messages_used FROM public.profiles WHERE id = a) = 3, 'quota stayed at the limit';
END
$$;

RESET ROLE;

-- ---------------------------------------------------------------------------------------------
-- As Bob: none of Alice's rows; his quota untouched.
-- ---------------------------------------------------------------------------------------------
SELECT set_config('request.jwt.claims',
  '{"sub": "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "role": "authenticated"}', true);
SET LOCAL ROLE authenticated;

DO $$
DECLARE
  a constant uuid := 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  b constant uuid := 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
BEGIN
  ASSERT auth.uid() = b, 'auth.uid() is Bob';
  ASSERT NOT EXISTS (SELECT 1 FROM public.profiles WHERE id <> b), 'profiles: Bob sees only his';
  ASSERT NOT EXISTS (SELECT 1 FROM public.encrypted_chats WHERE user_id <> b), 'chats: Bob sees only his';
  ASSERT NOT EXISTS (SELECT 1 FROM public.projects WHERE user_id <> b), 'projects: Bob sees only his';
  ASSERT NOT EXISTS (SELECT 1 FROM public.project_chats), 'project_chats: Bob sees none of Alice''s links';
  ASSERT NOT EXISTS (SELECT 1 FROM public.project_files WHERE user_id <> b), 'project_files: only his';
  ASSERT NOT EXISTS (SELECT 1 FROM public.image_gen_settings WHERE user_id <> b), 'image_gen_settings: only his';
  ASSERT NOT EXISTS (SELECT 1 FROM public.user_settings WHERE user_id <> b), 'user_settings: only his';
  ASSERT NOT EXISTS (SELECT 1 FROM storage.objects WHERE name NOT LIKE b::text || '/%'), 'objects: only his';
  ASSERT (SELECT count(*) FROM storage.objects) = 2, 'objects: Bob sees his two objects';
  ASSERT (SELECT coalesce(free_messages_used, 0) FROM public.profiles WHERE id = b) = 0, 'Bob''s quota untouched';
  ASSERT public.consume_free_message() = 2, 'Bob has his own quota';
END
$$;

RESET ROLE;

-- ---------------------------------------------------------------------------------------------
-- As an anonymous visitor: nothing visible, no quota function, no auth.users.
-- ---------------------------------------------------------------------------------------------
SELECT set_config('request.jwt.claims', '{"role": "anon"}', true);
SET LOCAL ROLE anon;

DO $$
BEGIN
  ASSERT auth.uid() IS NULL, 'anon has no uid';
  ASSERT NOT EXISTS (SELECT 1 FROM public.profiles), 'anon sees no profiles';
  ASSERT NOT EXISTS (SELECT 1 FROM public.encrypted_chats), 'anon sees no chats';
  ASSERT NOT EXISTS (SELECT 1 FROM public.free_message_config), 'anon does not read the config';
  ASSERT NOT EXISTS (SELECT 1 FROM storage.objects), 'anon sees no objects';
  BEGIN
    PERFORM public.consume_free_message();
    RAISE EXCEPTION 'anon could call consume_free_message';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  BEGIN
    PERFORM 1 FROM auth.users;
    RAISE EXCEPTION 'anon could read auth.users';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
END
$$;

RESET ROLE;

SELECT 'rls smoke test: all checks passed' AS result;

ROLLBACK;
