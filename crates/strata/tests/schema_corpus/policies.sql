-- Row-level security: enabled/forced, policies (command, roles, USING, WITH CHECK, restrictive).
-- === a
create table public.notes (id int primary key, owner text, body text);
alter table public.notes enable row level security;
create policy notes_read on public.notes for select using (owner = current_user);
-- === b
create table public.notes (id int primary key, owner text, body text);
alter table public.notes enable row level security;
alter table public.notes force row level security;
create policy notes_read on public.notes for select to public using (owner = current_user or owner = 'shared');
create policy notes_write on public.notes for insert with check (owner = current_user);
create policy notes_not_archived on public.notes as restrictive for all using (body is not null);
