-- Views and materialized views: security_invoker, view on view, check option.
-- === a
create table public.posts (id int primary key, title text, published boolean);
create view public.published as select id, title from public.posts where published;
-- === b
create table public.posts (id int primary key, title text, published boolean);
create view public.published with (security_invoker = true) as select id, title from public.posts where published;
create view public.published_titles as select title from public.published;
create materialized view public.post_counts as select published, count(*) as n from public.posts group by published;
create view public.drafts as select id, title, published from public.posts where not published with local check option;
