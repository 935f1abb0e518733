#!/usr/bin/env bash
# Fleet push benchmark: N databases on one server, M migrations each, pushed three ways in the
# same run — `strata push --fleet` (one process, the files read once, pushes in parallel), a
# sequential shell loop of single pushes, and `xargs -P` of single pushes — at several degrees
# of parallelism. Prints a markdown table of targets per second (docs/BENCHMARKS.md).
#
#   bench/fleet.sh [--databases 200] [--migrations 5] [--parallel "1 2 4 8 16"]
#                  [--db-url postgresql://postgres@127.0.0.1:5432] [--strata PATH]
#
# Every database is dropped and created again before each timed push, so each push applies all
# M migrations to an empty database. The databases (fleetbench_<pid>_<n>) are dropped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
N_DB=200
N_MIG=5
PARALLEL="1 2 4 8 16"
BASE_URL="postgresql://postgres@127.0.0.1:5432"
S="$ROOT/target/release/strata"

while [ $# -gt 0 ]; do
  case "$1" in
    --databases) N_DB="$2"; shift 2 ;;
    --migrations) N_MIG="$2"; shift 2 ;;
    --parallel) PARALLEL="$2"; shift 2 ;;
    --db-url) BASE_URL="${2%/}"; shift 2 ;;
    --strata) S="$2"; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$S" ] || { echo "error: $S is missing: cargo build --release -p strata-cli (or pass --strata)" >&2; exit 1; }
PSQL="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)"
[ -n "$PSQL" ] || PSQL="$(command -v psql)"

PREFIX="fleetbench_$$"
WORK="$(mktemp -d)"
cleanup() {
  {
    for i in $(seq 1 "$N_DB"); do echo "drop database if exists ${PREFIX}_$i with (force);"; done
  } | "$PSQL" -X -q "$BASE_URL/postgres" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/migrations"
for i in $(seq 1 "$N_MIG"); do
  v=$(printf '202401%02d000000' "$i")
  cat >"$WORK/migrations/${v}_create_things_$i.sql" <<SQL
create table things_$i (id bigint generated always as identity primary key, name text not null, created timestamptz not null default now());
create index things_${i}_name on things_$i (name);
insert into things_$i (name) values ('a'), ('b'), ('c');
SQL
done
cat >"$WORK/strata.toml" <<TOML
migrations_dir = "migrations"
[fleets.bench]
server = "$BASE_URL/postgres"
databases = "$(echo "${PREFIX}_" | sed 's/_/\\\\_/g')%"
TOML
URLS="$WORK/urls"
for i in $(seq 1 "$N_DB"); do echo "$BASE_URL/${PREFIX}_$i"; done >"$URLS"

recreate() {
  {
    for i in $(seq 1 "$N_DB"); do
      echo "drop database if exists ${PREFIX}_$i with (force);"
      echo "create database ${PREFIX}_$i;"
    done
  } | "$PSQL" -X -q -v ON_ERROR_STOP=1 "$BASE_URL/postgres" >/dev/null
}

# time_it CMD: seconds (3 decimals) the command took; fails if it fails.
time_it() {
  local t0 t1
  t0=$(date +%s.%N)
  bash -c "$1" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

per_second() { python3 -c "print(f'{$N_DB / $1:.1f}')"; }

check() { # every database has every migration
  local n
  n=$("$PSQL" -X -At "$BASE_URL/${PREFIX}_$N_DB" -c "select count(*) from supabase_migrations.schema_migrations")
  [ "$n" = "$N_MIG" ] || { echo "error: ${PREFIX}_$N_DB has $n of $N_MIG migrations" >&2; exit 1; }
}

cd "$WORK"
echo "fleet bench: $N_DB databases x $N_MIG migrations on $BASE_URL; strata $("$S" --version | awk '{print $2}'), $(nproc) cores" >&2
recreate
SEQ=$(time_it "while read -r u; do '$S' push -q --db-url \"\$u\" --dir migrations; done <'$URLS'")
check
echo "sequential loop: ${SEQ}s" >&2
ROWS=()
for p in $PARALLEL; do
  recreate
  FLEET=$(time_it "'$S' push -q --fleet bench --parallel $p")
  check
  recreate
  XARGS=$(time_it "xargs -P $p -I{} '$S' push -q --db-url {} --dir migrations <'$URLS'")
  check
  echo "N=$p: fleet ${FLEET}s, xargs ${XARGS}s" >&2
  ROWS+=("| $p | $(per_second "$FLEET") ($FLEET s) | $(per_second "$XARGS") ($XARGS s) |")
done

echo
echo "$N_DB databases × $N_MIG migrations, one server ($BASE_URL), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'); targets per second (wall time). Sequential loop of single pushes: $(per_second "$SEQ") targets/s ($SEQ s)."
echo
echo "| N | \`strata push --fleet --parallel N\` | \`xargs -P N strata push --db-url\` |"
echo "|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
