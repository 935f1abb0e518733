#!/usr/bin/env bash
# Strata's benchmark: one command measures everything and prints a markdown table.
#
#   bench/run.sh [--runs N] [--slow-runs N] [--tool auto|hyperfine|builtin] ...
#
# Every strata figure is compared with a psql baseline measured in the same run on the same
# server (see docs/BENCHMARKS.md for what is measured and why):
#   - apply N small migrations to an empty database  vs  psql -X -q -1 -f all.sql
#   - a push with nothing to do (N and LARGE applied) vs  psql -X -c 'select 1'
#   - migration list (LARGE applied)                 vs  psql -X -c 'select 1'
#   - strata --version                               (absolute: under 5 ms)
#   - db start / db reset of the chat-app example    (reported only)
#   - schema diff of the chat-app example            (absolute: under a second)
#
# It generates the migrations into a temporary directory, creates and drops its own databases
# (strata_bench_<pid>_*), runs the local-cluster cases in a temporary copy of
# examples/chat-app, and removes all of it on exit, also when interrupted.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

RUNS=30          # fast cases (no-op push, list, db start while running); --version runs 5x this
SLOW_RUNS=9      # apply, db start of a stopped cluster, db reset
N_APPLY=1000
N_LARGE=10000
TOOL=auto
BASE_URL="postgresql://postgres@127.0.0.1:5432"
STRATA_SRC="$ROOT/target/release/strata"
PSQL=""
LOCAL=1
RAW=""

usage() {
  cat <<EOF
Usage: bench/run.sh [options]

  --runs N          runs of each fast case (default $RUNS; strata --version runs 5x as many)
  --slow-runs N     runs of the apply, db start (stopped cluster) and db reset cases (default $SLOW_RUNS)
  --quick           --runs 5 --slow-runs 2: a smoke test of the script, not figures to quote
  --apply-count N   migrations in the apply and first no-op case (default $N_APPLY)
  --large-count N   migrations in the large no-op and list cases (default $N_LARGE)
  --tool T          auto (default): hyperfine for the fast cases if installed, else the
                    built-in loop; the apply case always with the built-in loop, which
                    interleaves psql and strata runs. hyperfine or builtin: that for all.
  --db-url URL      server to use, without a database name (default $BASE_URL)
  --strata PATH     strata binary (default target/release/strata; build it with
                    cargo build --release -p strata-cli)
  --psql PATH       psql binary (default the newest /usr/lib/postgresql/*/bin/psql, not
                    Debian's Perl wrapper /usr/bin/psql)
  --no-local        skip the db start / db reset cases
  --raw FILE        also write every sample (JSON) to FILE
  -h, --help        this help

The table goes to stdout, progress to stderr.
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --slow-runs) SLOW_RUNS="$2"; shift 2 ;;
    --quick) RUNS=5; SLOW_RUNS=2; shift ;;
    --apply-count) N_APPLY="$2"; shift 2 ;;
    --large-count) N_LARGE="$2"; shift 2 ;;
    --tool) TOOL="$2"; shift 2 ;;
    --db-url) BASE_URL="${2%/}"; shift 2 ;;
    --strata) STRATA_SRC="$2"; shift 2 ;;
    --psql) PSQL="$2"; shift 2 ;;
    --no-local) LOCAL=0; shift ;;
    --raw) RAW="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in RUNS SLOW_RUNS N_APPLY N_LARGE; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive integer" >&2; exit 2; }
done
[ "$SLOW_RUNS" -ge 2 ] && [ "$RUNS" -ge 2 ] || { echo "--runs and --slow-runs must be at least 2" >&2; exit 2; }

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
commas() { printf '%d' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# ---- prerequisites ------------------------------------------------------------------------
# FAST_TOOL times the short cases; SLOW_TOOL the apply case, where one run takes seconds and
# the load of a shared machine drifts between hyperfine's blocks of runs: the built-in loop
# interleaves psql and strata runs instead.
case "$TOOL" in
  auto) if command -v hyperfine >/dev/null; then FAST_TOOL=hyperfine; else FAST_TOOL=builtin; fi
        SLOW_TOOL=builtin ;;
  hyperfine) command -v hyperfine >/dev/null || die "hyperfine is not installed (apt-get install -y hyperfine), or use --tool builtin"
             FAST_TOOL=hyperfine; SLOW_TOOL=hyperfine ;;
  builtin) FAST_TOOL=builtin; SLOW_TOOL=builtin ;;
  *) die "--tool must be auto, hyperfine or builtin" ;;
esac
command -v python3 >/dev/null || die "python3 is required"
[ -x "$STRATA_SRC" ] || die "$STRATA_SRC is missing: run cargo build --release -p strata-cli (or pass --strata)"
if [ -z "$PSQL" ]; then
  PSQL="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$PSQL" ] || PSQL="$(command -v psql || true)"
fi
[ -x "$PSQL" ] || die "no psql found (pass --psql)"
if head -c 2 "$PSQL" | grep -q '#!'; then
  log "warning: $PSQL is a script (Debian's wrapper adds ~15 ms per start); pass --psql /usr/lib/postgresql/<version>/bin/psql"
fi

# ---- workspace and cleanup ----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")"
# The local cluster runs as `nobody` when we are root: it must be able to traverse WORK.
chmod 755 "$WORK"
RES="$WORK/results"; mkdir "$RES"
ROWS="$WORK/rows.tsv"; : >"$ROWS"
PROJ="$WORK/chat-app"
PREFIX="strata_bench_$$"
# A private copy, so a concurrent `cargo build` cannot swap the binary mid-run.
S="$WORK/strata"
cp "$STRATA_SRC" "$S"
# Strata runs from WORK: its checksum cache (.strata/checksums-*) is WORK's, not the caller's.
[ -z "$RAW" ] || RAW="$(cd "$(dirname "$RAW")" && pwd)/$(basename "$RAW")"
cd "$WORK"

admin() { PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@" "$BASE_URL/postgres"; }

cleanup() {
  set +e
  if [ -f "$PROJ/.strata/local/cluster.json" ]; then
    (cd "$PROJ" && "$S" db stop -q >/dev/null 2>&1)
    data_root="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("data_root") or "")' \
      "$PROJ/.strata/local/cluster.json" 2>/dev/null)"
    case "$data_root" in /var/tmp/strata-*|/tmp/strata-*) rm -rf "$data_root" ;; esac
  fi
  # Every database of this run: strata_bench_<pid>_*.
  for db in $(admin -At -c "select datname from pg_database where datname like '${PREFIX}\_%'" 2>/dev/null); do
    admin -c "drop database if exists $db with (force)" >/dev/null 2>&1
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

new_db() { # name: (re)create an empty database (cleanup drops it)
  admin -c "drop database if exists $1 with (force)" -c "create database $1" >/dev/null
}

# ---- measuring ----------------------------------------------------------------------------
# measure CASE RUNS WARMUP PREPARE NAME CMD [NAME CMD ...]   (timed with $MTOOL, else $FAST_TOOL)
# Writes $RES/CASE.json (hyperfine's format); on failure $RES/CASE.err with the failing
# command's own error output. Returns 0 either way: the table reports the failure.
measure() {
  local case="$1" runs="$2" warmup="$3" prepare="$4"; shift 4
  local -a named=() pairs=("$@")
  local tool="${MTOOL:-$FAST_TOOL}"
  while [ $# -gt 0 ]; do named+=(-n "$1" "$2"); shift 2; done
  log ""
  log "== $case ($runs runs, $warmup warmup, $tool)"
  local rc=0
  if [ "$tool" = hyperfine ]; then
    hyperfine -N --style basic --runs "$runs" --warmup "$warmup" \
      ${prepare:+--prepare "$prepare"} --export-json "$RES/$case.json" "${named[@]}" >&2 || rc=$?
  else
    python3 "$HERE/timeit.py" --runs "$runs" --warmup "$warmup" \
      ${prepare:+--prepare "$prepare"} --export-json "$RES/$case.json" "${named[@]}" || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    rm -f "$RES/$case.json"
    # Run each command once more to record why it failed.
    local i out
    for ((i = 0; i < ${#pairs[@]}; i += 2)); do
      if [ -n "$prepare" ]; then bash -c "$prepare" >/dev/null 2>&1 || true; fi
      if ! out="$(bash -c "${pairs[i + 1]}" 2>&1)"; then
        printf '%s\n%s: %s\n' "$out" "${pairs[i]}" "$(printf '%s\n' "$out" | grep -v '^\s*$' | tail -n 1)" >>"$RES/$case.err"
      fi
    done
    [ -s "$RES/$case.err" ] || echo "the timing tool failed (exit $rc)" >"$RES/$case.err"
    log "   FAILED: $(tail -n 1 "$RES/$case.err")"
  fi
  return 0
}

# once CASE NAME CMD: a single timed run (setup steps, first start), always the built-in loop.
once() {
  log ""
  log "== $1 (1 run)"
  python3 "$HERE/timeit.py" --runs 1 --export-json "$RES/$1.json" -n "$2" "$3" \
    || { rm -f "$RES/$1.json"; bash -c "$3" >"$RES/$1.err" 2>&1 || true; log "   FAILED"; }
}

# row LABEL CASE NAME BASELINE_CASE BASELINE_NAME BASELINE_LABEL TARGET_KIND TARGET
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }

q() { printf '%q' "$1"; }   # quote a path for a command string

count_applied() {
  "$PSQL" -X -At -c "select count(*) from supabase_migrations.schema_migrations" "$BASE_URL/$1"
}

# ---- the run ------------------------------------------------------------------------------
SERVER_VERSION="$(admin -At -c 'show server_version')" || die "cannot connect to $BASE_URL/postgres"
SERVER_SETTINGS="$(admin -At -F= -c "select string_agg(name || '=' || setting, ', ' order by name) from pg_settings where name in ('fsync','synchronous_commit','ssl','shared_buffers')")"
log "strata:  $("$S" --version) ($STRATA_SRC)"
log "psql:    $PSQL ($("$PSQL" --version))"
log "server:  $BASE_URL, PostgreSQL $SERVER_VERSION ($SERVER_SETTINGS)"
log "timing:  $FAST_TOOL (apply: $SLOW_TOOL); work dir $WORK"

A="$WORK/apply/migrations"
L="$WORK/large/migrations"
python3 "$HERE/gen_migrations.py" "$N_APPLY" "$A" --concat "$WORK/apply-all.sql"
python3 "$HERE/gen_migrations.py" "$N_LARGE" "$L"
NA="$(commas "$N_APPLY")"; NL="$(commas "$N_LARGE")"
SELECT1_LABEL="psql -c 'select 1'"

# strata --version
measure version "$((RUNS * 5))" 10 "" "strata --version" "$(q "$S") --version"
row "\`strata --version\`" version "strata --version" - - - ms 5

# Apply N migrations to an empty database, against psql -1 of the same SQL: the prepare step
# recreates the database before every run of either command.
DB_APPLY="${PREFIX}_apply"
# The previous run's database is renamed aside, not dropped: on the reference machine a DROP
# DATABASE of 1,000 tables slowed the next few seconds of work on the server 2-3x (see
# docs/BENCHMARKS.md). The renamed ones are dropped on exit. (A script, since hyperfine -N
# runs --prepare without a shell too.)
cat >"$WORK/recreate-apply-db" <<SCRIPT
#!/usr/bin/env bash
set -e
n=\$(( \$(cat $(q "$WORK/apply-db-count") 2>/dev/null || echo 0) + 1 ))
echo "\$n" >$(q "$WORK/apply-db-count")
PGOPTIONS="-c client_min_messages=warning" exec $(q "$PSQL") -X -q -v ON_ERROR_STOP=1 \\
  -c "do \\\$\\\$ begin if exists (select from pg_database where datname = '$DB_APPLY') then
        execute 'alter database $DB_APPLY rename to ${DB_APPLY}_old\$n'; end if; end \\\$\\\$" \\
  -c 'create database $DB_APPLY' $BASE_URL/postgres
SCRIPT
chmod +x "$WORK/recreate-apply-db"
MTOOL="$SLOW_TOOL" measure apply "$SLOW_RUNS" 1 "$(q "$WORK/recreate-apply-db")" \
  "psql -1" "$(q "$PSQL") -X -q -v ON_ERROR_STOP=1 -1 -f $(q "$WORK/apply-all.sql") $BASE_URL/$DB_APPLY" \
  "strata push" "$(q "$S") push -q --db-url $BASE_URL/$DB_APPLY --dir $(q "$A")"
row "apply $NA migrations to an empty database" apply "strata push" apply "psql -1" "\`psql -1 -f all.sql\`" ratio 1.0

# A push with nothing to do, N applied.
DB_1K="${PREFIX}_n${N_APPLY}"
new_db "$DB_1K"
once setup_apply "push $NA" "$(q "$S") push -q --db-url $BASE_URL/$DB_1K --dir $(q "$A")"
[ "$(count_applied "$DB_1K")" = "$N_APPLY" ] || die "setup: $DB_1K does not have $N_APPLY migrations applied"
measure noop_apply "$RUNS" 3 "" \
  "select 1" "$(q "$PSQL") -X -c 'select 1' $BASE_URL/$DB_1K" \
  "strata push" "$(q "$S") push -q --db-url $BASE_URL/$DB_1K --dir $(q "$A")"
row "push, nothing to do, $NA applied" noop_apply "strata push" noop_apply "select 1" "$SELECT1_LABEL" ratio 1.5

# A push with nothing to do and migration list, LARGE applied.
DB_LARGE="${PREFIX}_n${N_LARGE}"
new_db "$DB_LARGE"
once setup_large "push $NL" "$(q "$S") push -q --db-url $BASE_URL/$DB_LARGE --dir $(q "$L")"
[ "$(count_applied "$DB_LARGE")" = "$N_LARGE" ] || die "setup: $DB_LARGE does not have $N_LARGE migrations applied"
# Warm: the warmup runs fill the checksum cache (.strata/checksums-*), as a second push on the
# same checkout does. Cold: without it (STRATA_NO_CHECKSUM_CACHE=1), as in a fresh clone in CI,
# where every file is read and hashed. The floor: what any no-op push must at least do here —
# connect and run one query, and stat every file (find's -size stats each one and prints none).
cat >"$WORK/floor" <<SCRIPT
#!/usr/bin/env bash
$(q "$PSQL") -X -c 'select 1' $BASE_URL/$DB_LARGE >/dev/null && exec find $(q "$L") -maxdepth 1 -type f -size -0c
SCRIPT
chmod +x "$WORK/floor"
measure noop_large "$RUNS" 3 "" \
  "select 1" "$(q "$PSQL") -X -c 'select 1' $BASE_URL/$DB_LARGE" \
  "stat" "find $(q "$L") -maxdepth 1 -type f -size -0c" \
  "floor" "$(q "$WORK/floor")" \
  "strata push" "$(q "$S") push -q --db-url $BASE_URL/$DB_LARGE --dir $(q "$L")" \
  "strata push (cold)" "env STRATA_NO_CHECKSUM_CACHE=1 $(q "$S") push -q --db-url $BASE_URL/$DB_LARGE --dir $(q "$L")" \
  "strata migration list" "$(q "$S") migration list --db-url $BASE_URL/$DB_LARGE --dir $(q "$L")"
row "push, nothing to do, $NL applied (warm: second push on the checkout)" noop_large "strata push" noop_large "select 1" "$SELECT1_LABEL" ratio 1.5
row "push, nothing to do, $NL applied (warm), against the floor" noop_large "strata push" noop_large "floor" "\`select 1\` + stat of $NL files" ratio 1.2
row "push, nothing to do, $NL applied (cold: fresh clone, no checksum cache)" noop_large "strata push (cold)" noop_large "select 1" "$SELECT1_LABEL" - -
row "(floor) stat of $NL files, \`find -size\`" noop_large "stat" - - - - -
row "\`migration list\`, $NL applied (warm)" noop_large "strata migration list" noop_large "select 1" "$SELECT1_LABEL" ratio 2.0
row "(setup, 1 run) apply $NL migrations to an empty database" setup_large "push $NL" - - - - -

# The local cluster, in a copy of the chat-app example (Supabase platform emulation on).
if [ "$LOCAL" = 1 ]; then
  cp -r "$ROOT/examples/chat-app" "$PROJ"
  rm -rf "$PROJ/.strata"
  chmod -R a+rX "$PROJ"
  SP="$(q "$S")"
  pushd "$PROJ" >/dev/null
  once db_first_start "db start" "$SP db start -q"
  measure db_start_running "$RUNS" 3 "" "db start" "$SP db start -q"
  measure db_start_stopped "$SLOW_RUNS" 1 "$SP db stop -q" "db start" "$SP db start -q"
  measure db_reset "$SLOW_RUNS" 1 "" "db reset" "$SP db reset -q --dir supabase/migrations"
  # Schema as code: the chat app's migrations against schema files dumped from them (two
  # scratch databases built in parallel, one catalog capture each).
  "$S" schema dump -q --force >/dev/null
  measure schema_diff "$SLOW_RUNS" 1 "" "schema diff" "$SP schema diff -q"
  "$S" db stop -q || true
  popd >/dev/null
  row "\`db start\`, existing cluster, stopped" db_start_stopped "db start" - - - - -
  row "\`db start\`, existing cluster, already running" db_start_running "db start" - - - - -
  row "\`db reset\`, chat-app example" db_reset "db reset" - - - - -
  row "\`schema diff\`, chat-app example against its dumped schema files" schema_diff "schema diff" - - - ms 1000
  row "(1 run) \`db start\`, first time (initdb)" db_first_start "db start" - - - - -
fi

# ---- the table ----------------------------------------------------------------------------
if [ -n "$RAW" ]; then
  python3 - "$RES" "$RAW" <<'EOF'
import json, os, sys
res, out = sys.argv[1], sys.argv[2]
data = {}
for f in sorted(os.listdir(res)):
    if f.endswith(".json"):
        data[f[:-5]] = json.load(open(os.path.join(res, f)))["results"]
json.dump(data, open(out, "w"), indent=1)
EOF
fi

echo
echo "strata $("$S" --version | awk '{print $2}'), PostgreSQL $SERVER_VERSION at $BASE_URL ($SERVER_SETTINGS), $(nproc) cores, $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), timed with $FAST_TOOL (apply case: $SLOW_TOOL$([ "$SLOW_TOOL" = builtin ] && echo ", interleaved")), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
python3 "$HERE/report.py" "$ROWS" "$RES"
