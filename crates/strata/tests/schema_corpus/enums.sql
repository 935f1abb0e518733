-- Enum values added: PostgreSQL cannot remove an enum value, so neither direction has an exact
-- rollback or change (see KNOWN_UNPROVEN).
-- === a
create type public.status as enum ('open', 'closed');
create table public.tickets (id int primary key, status public.status);
-- === b
create type public.status as enum ('open', 'pending', 'closed');
create table public.tickets (id int primary key, status public.status);
-- === seed
insert into public.tickets values (1, 'open'), (2, 'closed');
