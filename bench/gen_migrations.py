#!/usr/bin/env python3
"""Generate N small Strata migrations for the benchmark (bench/run.sh).

Each migration creates one table, one index, enables row level security and adds one
policy, so that it is typical of a Supabase-style project:

    create table public.bench_00001 (...);
    create index bench_00001_owner_idx on public.bench_00001 (owner_id);
    alter table public.bench_00001 enable row level security;
    create policy bench_00001_owner on public.bench_00001 for all using (...);

Files are named <version>_<name>.sql with 14-digit versions (one minute apart, starting
2024-01-01 00:00:00 UTC), the Supabase CLI's layout that `strata push --dir` reads.

Usage: gen_migrations.py COUNT OUT_DIR [--concat FILE]

--concat FILE also writes every migration, in order, into FILE: the same SQL as one
script, for the `psql -1 -f FILE` baseline.
"""

import argparse
import datetime
import os
import sys

TEMPLATE = """\
-- Benchmark migration {n} of {count}: one table, one index, RLS, one policy.
create table public.bench_{n:05d} (
    id bigint generated always as identity primary key,
    owner_id uuid not null,
    title text not null,
    body text,
    created_at timestamptz not null default now()
);

create index bench_{n:05d}_owner_idx on public.bench_{n:05d} (owner_id, created_at desc);

alter table public.bench_{n:05d} enable row level security;

create policy bench_{n:05d}_owner on public.bench_{n:05d}
    for all
    using (owner_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (owner_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out_dir")
    parser.add_argument("--concat", metavar="FILE")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("COUNT must be at least 1")

    os.makedirs(args.out_dir, exist_ok=True)
    base = datetime.datetime(2024, 1, 1)
    concat = open(args.concat, "w", encoding="utf-8") if args.concat else None
    try:
        for n in range(1, args.count + 1):
            version = (base + datetime.timedelta(minutes=n - 1)).strftime("%Y%m%d%H%M%S")
            sql = TEMPLATE.format(n=n, count=args.count)
            path = os.path.join(args.out_dir, f"{version}_create_bench_{n:05d}.sql")
            with open(path, "w", encoding="utf-8") as f:
                f.write(sql)
            if concat:
                concat.write(sql)
                concat.write("\n")
    finally:
        if concat:
            concat.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
