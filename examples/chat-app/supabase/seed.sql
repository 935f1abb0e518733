-- Demo data for local development: two users (Alice and Bob), their profiles and one chat each.
-- Idempotent: every insert skips rows that already exist, so the file can run after every reset
-- or twice in a row. Runs as the database owner (RLS does not apply to it).
--
-- Both users sign in with the password "password123" (on a real local Supabase stack; the
-- Strata emulation has no auth service, but the rows are what RLS tests act as).

-- Users. Token columns are set to '' rather than left NULL because the Supabase auth service
-- cannot read NULL tokens. crypt()/gen_salt() come from pgcrypto, found through the database's
-- search_path (schema extensions on Supabase and in the Strata emulation).
INSERT INTO auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  confirmation_token, recovery_token, email_change_token_new, email_change,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
VALUES
  ('00000000-0000-0000-0000-000000000000', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   'authenticated', 'authenticated', 'alice@example.com',
   crypt('password123', gen_salt('bf')), now(),
   '', '', '', '',
   '{"provider": "email", "providers": ["email"]}', '{"display_name": "Alice"}', now(), now()),
  ('00000000-0000-0000-0000-000000000000', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'authenticated', 'authenticated', 'bob@example.com',
   crypt('password123', gen_salt('bf')), now(),
   '', '', '', '',
   '{"provider": "email", "providers": ["email"]}', '{"display_name": "Bob"}', now(), now())
ON CONFLICT (id) DO NOTHING;

-- Email identities, which a real Supabase auth service needs for password sign-in. The Strata
-- emulation has no auth.identities table, so this step is skipped there.
DO $$
BEGIN
  IF to_regclass('auth.identities') IS NOT NULL THEN
    INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
    SELECT u.id::text, u.id,
           jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true),
           'email', now(), now(), now()
      FROM auth.users u
     WHERE u.id IN ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')
    ON CONFLICT (provider_id, provider) DO NOTHING;
  END IF;
END
$$;

-- Profiles. The on_auth_user_created trigger has already created them from the users' metadata;
-- this covers a database where the users existed before the trigger did.
INSERT INTO public.profiles (id, display_name)
VALUES
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'Alice'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'Bob')
ON CONFLICT (id) DO NOTHING;

-- One chat each. encrypted_data is an opaque placeholder: real rows hold ciphertext produced by
-- the client, which the database never decrypts.
INSERT INTO public.encrypted_chats (id, user_id, encrypted_data, title)
VALUES
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   'demo-ciphertext:alice-1', 'Alice''s first chat'),
  ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'demo-ciphertext:bob-1', 'Bob''s first chat')
ON CONFLICT (id) DO NOTHING;
