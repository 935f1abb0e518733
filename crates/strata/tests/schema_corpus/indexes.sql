-- Indexes: partial, expression, INCLUDE, unique, method.
-- === a
create table public.users (id int primary key, email text, active boolean, created timestamptz);
create index users_email on public.users (email);
-- === b
create table public.users (id int primary key, email text, active boolean, created timestamptz);
create unique index users_email on public.users (lower(email));
create index users_active on public.users (created) include (email) where active;
create index users_created_brin on public.users using brin (created);
-- === seed
insert into public.users values (1, 'A@x', true, now()), (2, 'b@x', false, now());
