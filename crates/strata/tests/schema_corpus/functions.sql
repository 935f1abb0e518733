-- Functions and procedures: overloads, SECURITY DEFINER, search_path, volatility, bodies.
-- === a
create function public.add(a int, b int) returns int language sql immutable as $$ select a + b $$;
create function public.greet(name text) returns text language plpgsql as $$ begin return 'hi ' || name; end $$;
-- === b
create function public.add(a int, b int) returns int language sql immutable as $$ select a + b $$;
create function public.add(a numeric, b numeric) returns numeric language sql immutable as $$ select a + b $$;
create function public.greet(name text) returns text language plpgsql security definer set search_path = '' as $$ begin return 'hello ' || name; end $$;
create procedure public.tidy() language sql as $$ select 1 $$;
