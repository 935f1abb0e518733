#!/usr/bin/env bash
# The lint benchmark: `strata lint` against squawk on the same generated migrations, in the
# same run, and where their findings differ.
#
#   bench/lint.sh [--count N] [--runs N] [--strata PATH]
#
# Generates COUNT realistic migration files (bench/gen_lint_corpus.py; 1,000 files ≈ 3 MB) into
# a temporary directory, times `strata lint --dir DIR --format json` and
# `squawk --reporter json 'DIR/*.sql'` (hyperfine if installed, else bench/timeit.py, which
# interleaves the two), then prints both medians and the findings per rule family. Both tools
# exit non-zero when they find something, so each is run through `sh -c '…; true'` (the same
# shell overhead for both). Installs squawk (PyPI squawk-cli) with pip if it is missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
COUNT=1000
RUNS=10
STRATA="$ROOT/target/release/strata"

while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --strata) STRATA="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -x "$STRATA" ]; then
  echo "building $STRATA (cargo build --release -p strata-cli)" >&2
  (cd "$ROOT" && cargo build --release -p strata-cli >&2)
fi
STRATA="$(realpath "$STRATA")"
if ! command -v squawk >/dev/null; then
  echo "installing squawk (pip install squawk-cli)" >&2
  python3 -m pip install --quiet squawk-cli >&2
fi
# Time squawk's own binary, not a wrapper: `squawk` on PATH may be a Python version manager's
# shim (pyenv, asdf) whose start-up (tens of ms per call) would be counted as squawk's. The
# PyPI wheel installs the real executable in the interpreter's scripts directory.
SQUAWK="$(command -v squawk)"
if ! head -c 4 "$SQUAWK" | grep -q 'ELF'; then
  for candidate in "$(pyenv which squawk 2>/dev/null || true)" \
      "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/squawk"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && head -c 4 "$candidate" | grep -q 'ELF'; then
      SQUAWK="$candidate"
      break
    fi
  done
fi
if ! head -c 4 "$SQUAWK" | grep -q 'ELF'; then
  echo "cannot find squawk's executable (only $SQUAWK, which is not one)" >&2
  exit 1
fi
echo "squawk: $SQUAWK" >&2

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
DIR="$WORK/migrations"
python3 "$HERE/gen_lint_corpus.py" "$COUNT" "$DIR"
BYTES=$(cat "$DIR"/*.sql | wc -c)

S_CMD="$STRATA lint --dir $DIR --format json > /dev/null; true"
Q_CMD="$SQUAWK --reporter json '$DIR/*.sql' > /dev/null; true"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$WORK/times.json" \
    -n strata "sh -c \"$S_CMD\"" -n squawk "sh -c \"$Q_CMD\"" >&2
else
  python3 "$HERE/timeit.py" --runs "$RUNS" --warmup 1 --export-json "$WORK/times.json" \
    -n strata "sh -c \"$S_CMD\"" -n squawk "sh -c \"$Q_CMD\"" >&2
fi

(cd "$WORK" && "$STRATA" lint --dir "$DIR" --format json > "$WORK/strata.json") || true
"$SQUAWK" --reporter json "$DIR/*.sql" > "$WORK/squawk.json" || true
# strata's rule → category, from the registry (SARIF carries it).
"$STRATA" lint --dir "$DIR" --format sarif 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin)["runs"][0]["tool"]["driver"]["rules"]:
    print(r["id"], r["properties"]["category"])' > "$WORK/categories.txt" || true

python3 - "$WORK/times.json" "$COUNT" "$BYTES" "$("$STRATA" --version)" "$("$SQUAWK" --version)" <<'PY'
import json, sys
times = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
def med(name):
    for k, r in times.items():
        if k == name or name in k:
            return r["median"]
s, q = med("strata"), med("squawk")
print(f"{sys.argv[2]} files, {int(sys.argv[3]) / 1e6:.2f} MB; {sys.argv[4]} vs {sys.argv[5]}\n")
print("| Tool | median | ratio | target |")
print("|---|---:|---:|---|")
print(f"| `strata lint --format json` | {s * 1000:.0f} ms | {s / q:.2f}× | < 1 s: {'met' if s < 1 else '**not met**'} |")
print(f"| `squawk --reporter json` | {q * 1000:.0f} ms | 1.00× | – |")
print()
PY
python3 "$HERE/lint_compare.py" "$WORK/strata.json" "$WORK/squawk.json" "$WORK/categories.txt"
