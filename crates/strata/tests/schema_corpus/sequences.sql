-- Sequences: options and ownership.
-- === a
create sequence public.ticket_no start 100;
create table public.tickets (id int primary key, no bigint default nextval('public.ticket_no'));
-- === b
create sequence public.ticket_no start 100 increment 5 maxvalue 100000 cycle;
create table public.tickets (id int primary key, no bigint default nextval('public.ticket_no'));
alter sequence public.ticket_no owned by public.tickets.no;
create sequence public.other_no as integer;
