-- Grants and revokes, column grants, default privileges.
-- === a
create table public.ledger (id int primary key, amount int, memo text);
grant select on public.ledger to public;
-- === b
create table public.ledger (id int primary key, amount int, memo text);
revoke all on public.ledger from public;
grant select (id, amount) on public.ledger to public;
grant update (memo) on public.ledger to public;
alter default privileges in schema public grant select on tables to public;
