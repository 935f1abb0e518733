-- Triggers and event triggers.
-- === a
create table public.docs (id int primary key, body text, updated timestamptz);
create function public.touch() returns trigger language plpgsql as $$ begin new.updated := now(); return new; end $$;
-- === b
create table public.docs (id int primary key, body text, updated timestamptz);
create function public.touch() returns trigger language plpgsql as $$ begin new.updated := now(); return new; end $$;
create trigger docs_touch before update on public.docs for each row when (old.body is distinct from new.body) execute function public.touch();
create function public.no_drops() returns event_trigger language plpgsql as $$ begin end $$;
create event trigger no_drops on sql_drop execute function public.no_drops();
