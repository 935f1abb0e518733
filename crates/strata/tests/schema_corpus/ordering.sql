-- Dependency order: a function whose signature changes while a default, a view and a policy use
-- it; a view on a changed table; a foreign-key cycle.
-- === a
create function public.tenant() returns text language sql stable as $$ select 'a' $$;
create table public.accounts (id int primary key, tenant text default public.tenant());
create view public.account_tenants as select id, tenant from public.accounts;
-- === b
create function public.tenant(fallback text default 'a') returns text language sql stable as $$ select fallback $$;
create table public.accounts (id int primary key, tenant text default public.tenant(), parent_id int);
create table public.owners (id int primary key, account_id int references public.accounts (id));
alter table public.accounts add constraint accounts_parent_fkey foreign key (parent_id) references public.owners (id);
create view public.account_tenants as select id, tenant, parent_id from public.accounts;
alter table public.accounts enable row level security;
create policy accounts_tenant on public.accounts using (tenant = public.tenant());
