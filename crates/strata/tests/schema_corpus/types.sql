-- Domains, composite and range types (enum values: enums.sql).
-- === a
create type public.mood as enum ('calm', 'busy');
create domain public.email as text check (value like '%@%');
-- === b
create type public.mood as enum ('calm', 'busy');
create domain public.email as text not null default 'x@y' check (value like '%@%');
create type public.point3 as (x float8, y float8, z float8);
create type public.floatrange as range (subtype = float8);
create table public.people (id int primary key, mood public.mood, contact public.email, at public.point3);
