-- Constraints: unique, check, NOT VALID, deferrable, exclusion, foreign keys with actions.
-- === a
create extension if not exists btree_gist;
create table public.rooms (id int primary key, name text);
create table public.bookings (id int primary key, room_id int, during tsrange, qty int);
alter table public.bookings add constraint bookings_qty_check check (qty > 0);
-- === b
create extension if not exists btree_gist;
create table public.rooms (id int primary key, name text unique deferrable initially deferred);
create table public.bookings (id int primary key, room_id int references public.rooms (id) on delete cascade, during tsrange, qty int);
alter table public.bookings add constraint bookings_qty_check check (qty > 1) not valid;
alter table public.bookings add constraint bookings_no_overlap exclude using gist (room_id with =, during with &&);
