#!/usr/bin/env python3
"""Generate a realistic migration corpus for the lint benchmark (bench/lint.sh).

COUNT files of about 3 KB each (1,000 files: about 3 MB), named <14-digit version>_<action>_
<subject>.sql, in the style of a Supabase project's history: tables with indexes, row-level
security, policies and triggers; functions and views; setup rows; and, in later files, changes
to tables created earlier and to "legacy" tables the set never creates (columns added, backfilled,
renamed, retyped, made NOT NULL, dropped). Most files follow the seed's practices; a
deterministic share does not (no header, no IF NOT EXISTS, unguarded policies, mixed schema and
data, nested BEGIN, CREATE INDEX CONCURRENTLY inside BEGIN …), so both linters have something to
find.

Usage: gen_lint_corpus.py COUNT OUT_DIR
"""

import datetime
import os
import sys

HEADER = "-- Description: {desc}\n-- Author: Bench Generator\n-- Date: {date}\n\n"

TABLE = """-- Table
CREATE TABLE {ine}public.{t} (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID REFERENCES auth.users(id) NOT NULL,
  project_id UUID,
  name TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'deleted')),
  position INT DEFAULT 0,
  metadata JSONB DEFAULT '{{}}'::jsonb,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Indexes
CREATE INDEX {ine}idx_{t}_user_id ON public.{t}(user_id);
CREATE INDEX {ine}idx_{t}_user_status ON public.{t}(user_id, status, updated_at DESC);

-- Row level security
ALTER TABLE public.{t} ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.{t} FORCE ROW LEVEL SECURITY;

{guard}CREATE POLICY "{t}_select" ON public.{t} FOR SELECT
USING ((select auth.uid()) = user_id);

{guard2}CREATE POLICY "{t}_insert" ON public.{t} FOR INSERT
WITH CHECK ((select auth.uid()) = user_id);

{guard3}CREATE POLICY "{t}_update" ON public.{t} FOR UPDATE
USING ((select auth.uid()) = user_id)
WITH CHECK ((select auth.uid()) = user_id);

DROP POLICY IF EXISTS "{t}_delete" ON public.{t};
CREATE POLICY "{t}_delete" ON public.{t} FOR DELETE
USING ((select auth.uid()) = user_id);

COMMENT ON TABLE public.{t} IS 'Items owned by a user; soft-deleted through status';
COMMENT ON COLUMN public.{t}.metadata IS 'Free-form client metadata (JSON object)';

DROP TRIGGER IF EXISTS update_{t}_updated_at ON public.{t};
CREATE TRIGGER update_{t}_updated_at
  BEFORE UPDATE ON public.{t}
  FOR EACH ROW
  EXECUTE FUNCTION public.update_updated_at_column();
"""

FUNCTION = """
-- Helper: count a user's rows
CREATE {orr}FUNCTION public.count_{t}(p_user UUID)
RETURNS BIGINT
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
  n BIGINT;
BEGIN
  SELECT count(*) INTO n FROM public.{t} WHERE user_id = p_user AND status <> 'deleted';
  RETURN n;
END;
$$;

CREATE OR REPLACE VIEW public.{t}_active WITH (security_invoker = true) AS
  SELECT id, user_id, name, updated_at FROM public.{t} WHERE status = 'active';
"""

SETUP = """
-- Setup rows
INSERT INTO public.{t}_kinds (code, label) VALUES ('a', 'Alpha'), ('b', 'Beta'){conflict};
"""

KINDS = """
CREATE TABLE IF NOT EXISTS public.{t}_kinds (
  code TEXT PRIMARY KEY,
  label TEXT NOT NULL
);
ALTER TABLE public.{t}_kinds ENABLE ROW LEVEL SECURITY;
"""

CHANGES = [
    # (name, sql) on an earlier table {p} or a legacy table {l}
    ("add", "ALTER TABLE public.{p} ADD COLUMN IF NOT EXISTS note_{n} TEXT;\n"),
    ("add", "ALTER TABLE public.{l} ADD COLUMN note_{n} TEXT;\n"),
    ("backfill", "ALTER TABLE public.{l} ADD COLUMN IF NOT EXISTS score_{n} INT;\nUPDATE public.{l} SET score_{n} = 0 WHERE score_{n} IS NULL;\n"),
    ("require", "ALTER TABLE public.{l} ALTER COLUMN email SET NOT NULL;\n"),
    ("rename", "ALTER TABLE public.{l} RENAME COLUMN title TO title_{n};\n"),
    ("retype", "ALTER TABLE public.{l} ALTER COLUMN amount TYPE NUMERIC(12,2);\n"),
    ("drop", "ALTER TABLE public.{l} DROP COLUMN IF EXISTS legacy_{n};\n"),
    ("required", "ALTER TABLE public.{l} ADD COLUMN IF NOT EXISTS tenant_{n} UUID NOT NULL;\n"),
    ("index", "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_{l}_{n} ON public.{l}(created_at);\n"),
    ("fk", "ALTER TABLE public.{p} ADD CONSTRAINT fk_{p}_{n} FOREIGN KEY (project_id) REFERENCES public.{l}(id) NOT VALID;\n"),
    ("tx", "BEGIN;\nALTER TABLE public.{p} ADD COLUMN IF NOT EXISTS flag_{n} BOOLEAN DEFAULT false;\nCOMMIT;\n"),
    ("nested", "BEGIN;\nBEGIN;\nALTER TABLE public.{p} ADD COLUMN IF NOT EXISTS extra_{n} TEXT;\nCOMMIT;\nCOMMIT;\n"),
    ("inblock", "BEGIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_{p}_{n} ON public.{p}(name);\nCOMMIT;\n"),
    ("droptable", "DROP TABLE IF EXISTS public.{l}_archive_{n};\n"),
]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    count, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    total = 0
    for n in range(1, count + 1):
        ts = start + datetime.timedelta(minutes=n)
        version = ts.strftime("%Y%m%d%H%M%S")
        t = f"items_{n:05d}"
        p = f"items_{max(1, n - 7):05d}"
        legacy = f"legacy_{n % 13:02d}"
        sql = ""
        if n % 17 != 0:
            sql += HEADER.format(desc=f"Items {n}: table, policies, helpers", date=ts.date())
        ine = "" if n % 11 == 0 else "IF NOT EXISTS "
        guard = "" if n % 9 == 0 else f'DROP POLICY IF EXISTS "{t}_select" ON public.{t};\n'
        guard2 = f'DROP POLICY IF EXISTS "{t}_insert" ON public.{t};\n'
        guard3 = f'DROP POLICY IF EXISTS "{t}_update" ON public.{t};\n'
        sql += TABLE.format(t=t, ine=ine, guard=guard, guard2=guard2, guard3=guard3)
        sql += FUNCTION.format(t=t, orr="" if n % 23 == 0 else "OR REPLACE ")
        sql += KINDS.format(t=t)
        sql += SETUP.format(t=t, conflict="" if n % 5 == 0 else " ON CONFLICT (code) DO NOTHING")
        change_name, change = CHANGES[n % len(CHANGES)]
        sql += "\n-- Change to an earlier table\n" + change.format(p=p, l=legacy, n=n)
        if n % 29 == 0:
            sql += f"DROP INDEX idx_{p}_user_id;\n"
        name = f"{version}_create_{t}.sql" if n % 31 else f"{version}_{t}_and_more.sql"
        with open(os.path.join(out, name), "w") as f:
            f.write(sql)
        total += len(sql.encode())
    print(f"{count} files, {total} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
