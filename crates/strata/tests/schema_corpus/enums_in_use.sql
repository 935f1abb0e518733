-- An enum label removed while rows still hold it: the change must be refused (the rebuild's
-- cast fails on the seeded rows), never written. The other direction adds the label.
-- === a
create type public.phase as enum ('draft', 'review', 'done');
create table public.tasks (id int primary key, phase public.phase default 'draft');
-- === b
create type public.phase as enum ('draft', 'done');
create table public.tasks (id int primary key, phase public.phase default 'draft');
-- === seed
insert into public.tasks values (1, 'draft'), (2, 'review');
