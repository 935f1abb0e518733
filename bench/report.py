#!/usr/bin/env python3
"""Print bench/run.sh's results as a markdown table.

    report.py ROWS_TSV RESULTS_DIR

ROWS_TSV has one line per table row, tab-separated:
    label  case  name  baseline_case  baseline_name  baseline_label  target_kind  target
where case/name pick a command out of RESULTS_DIR/<case>.json (hyperfine's --export-json
format, or bench/timeit.py's), baseline_* is `-` when there is none, target_kind is
`ratio` (strata median / baseline median must be at most target), `ms` (strata median must
be under target milliseconds) or `-` (reported only). A case that failed has
RESULTS_DIR/<case>.err instead of its JSON; its first line is shown.
"""

import json
import os
import sys


def fmt(seconds):
    ms = seconds * 1e3
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def load(results_dir, case, name):
    path = os.path.join(results_dir, f"{case}.json")
    if not os.path.exists(path):
        err = os.path.join(results_dir, f"{case}.err")
        msg = "not run"
        if os.path.exists(err):
            with open(err, encoding="utf-8", errors="replace") as f:
                lines = [l.strip() for l in f if l.strip()]
            msg = "failed: " + (lines[-1] if lines else "no output")
        return None, msg
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for r in data["results"]:
        if r["command"] == name:
            return r, None
    return None, f"no result named {name}"


def main():
    rows_tsv, results_dir = sys.argv[1], sys.argv[2]
    out = [
        "| Case | strata median | Baseline | Baseline median | Ratio | Target | Met |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    with open(rows_tsv, encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    for label, case, name, bcase, bname, blabel, kind, target in rows:
        r, err = load(results_dir, case, name)
        if r is None:
            tgt = {"ratio": f"≤ {target}×", "ms": f"< {target} ms"}.get(kind, "report")
            out.append(f"| {label} | {err.replace('|', '/')} | {blabel if bname != '-' else '–'} "
                       f"| – | – | {tgt} | {'not met' if kind != '-' else '–'} |")
            continue
        n = len(r["times"])
        strata = f"{fmt(r['median'])} (n={n})"
        base, bmed, ratio = "–", "–", None
        if bname != "-":
            b, berr = load(results_dir, bcase, bname)
            base = blabel
            if b is None:
                bmed = berr
            else:
                bmed = f"{fmt(b['median'])} (n={len(b['times'])})"
                ratio = r["median"] / b["median"]
        ratio_s = f"{ratio:.2f}×" if ratio is not None else "–"
        if kind == "ratio":
            tgt = f"≤ {target}×"
            met = "–" if ratio is None else ("met" if ratio <= float(target) else "**not met**")
        elif kind == "ms":
            tgt = f"< {target} ms"
            met = "met" if r["median"] * 1e3 < float(target) else "**not met**"
        else:
            tgt, met = "report", "–"
        out.append(f"| {label} | {strata} | {base} | {bmed} | {ratio_s} | {tgt} | {met} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
