-- Partitions: a partitioned table and its partitions.
-- === a
create table public.events (id bigint, at date not null) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
-- === b
create table public.events (id bigint, at date not null) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
create table public.events_2025 partition of public.events for values from ('2025-01-01') to ('2026-01-01');
create table public.events_default partition of public.events default;
