#!/usr/bin/env python3
"""A small stand-in for hyperfine, used by bench/run.sh when hyperfine is not installed.

    timeit.py --runs N --warmup W [--prepare CMD] --export-json FILE \
              -n NAME CMD [-n NAME CMD ...]

Each CMD is split like a shell would (shlex) and run without a shell, stdout and stderr
discarded, exactly like `hyperfine -N`. --prepare is run through `sh -c` before every run
(warmups included) and is not timed. Unlike hyperfine, the commands are interleaved: run i
of every command happens before run i+1 of any, and the order rotates from run to run, so
a machine whose load drifts (a shared build box) disturbs all commands alike.

Writes the subset of hyperfine's --export-json format that bench/report.py reads:
{"results": [{"command", "mean", "stddev", "median", "min", "max", "user", "system",
"times", "exit_codes"}]} (seconds). Exits 1 if any run of any command fails.
"""

import argparse
import json
import resource
import shlex
import statistics
import subprocess
import sys
import time


def run_prepare(cmd):
    if cmd:
        subprocess.run(["sh", "-c", cmd], check=True, stdout=subprocess.DEVNULL)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime


def time_once(argv):
    u0, s0 = children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    u1, s1 = children_cpu()
    return elapsed, u1 - u0, s1 - s0, proc.returncode


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--prepare", default=None)
    p.add_argument("--export-json", required=True)
    p.add_argument("-n", "--command-name", action="append", default=[])
    p.add_argument("commands", nargs="+")
    a = p.parse_intermixed_args()
    names = a.command_name + a.commands[len(a.command_name):]
    if len(a.command_name) > len(a.commands):
        p.error("more names than commands")
    argvs = [shlex.split(c) for c in a.commands]
    samples = [{"times": [], "user": [], "system": [], "exit_codes": []} for _ in argvs]
    failed = None
    total = a.warmup + a.runs
    for i in range(total):
        order = list(range(len(argvs)))
        k = i % len(order)
        order = order[k:] + order[:k]
        for j in order:
            run_prepare(a.prepare)
            elapsed, user, system, code = time_once(argvs[j])
            if code != 0:
                failed = (names[j], code)
                break
            if i >= a.warmup:
                s = samples[j]
                s["times"].append(elapsed)
                s["user"].append(user)
                s["system"].append(system)
                s["exit_codes"].append(code)
        if failed:
            break
        if sys.stderr.isatty():
            print(f"  run {i + 1}/{total}" + (" (warmup)" if i < a.warmup else ""),
                  file=sys.stderr, end="\r", flush=True)
    if sys.stderr.isatty():
        print(" " * 40, file=sys.stderr, end="\r")
    if failed:
        print(f"Command terminated with non-zero exit code {failed[1]}: {failed[0]}",
              file=sys.stderr)
        return 1
    results = []
    for name, cmd, s in zip(names, a.commands, samples):
        t = s["times"]
        results.append({
            "command": name,
            "command_line": cmd,
            "mean": statistics.fmean(t),
            "stddev": statistics.stdev(t) if len(t) > 1 else 0.0,
            "median": statistics.median(t),
            "min": min(t),
            "max": max(t),
            "user": statistics.fmean(s["user"]),
            "system": statistics.fmean(s["system"]),
            "times": t,
            "exit_codes": s["exit_codes"],
        })
    with open(a.export_json, "w", encoding="utf-8") as f:
        json.dump({"results": results, "tool": "bench/timeit.py"}, f, indent=1)
    for r in results:
        print(f"  {r['command']}: median {r['median'] * 1e3:.1f} ms "
              f"(min {r['min'] * 1e3:.1f}, max {r['max'] * 1e3:.1f}, n={len(r['times'])})",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
