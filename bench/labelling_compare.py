#!/usr/bin/env python
"""The labelling bench on an earlier commit and on this tree, in turns, under the same conditions
(a script, not a test).

Absolute figures drift with whatever else the machine runs, so "within 10 % of before" is measured
here as a ratio: the earlier commit is checked out into a temporary git worktree (using this tree's
virtualenv), and `bench/labelling_loop.py` runs there and here alternately, `--pairs` times, with
the same scale and duration (this tree with CONCORD_PREPARED_SQL on, and once off at the end). It
prints each run, then the median operations per second and p95 of each side and their ratio.

    .venv/bin/python bench/labelling_compare.py --ref b107303              # 3 pairs, 10,000 artefacts
    .venv/bin/python bench/labelling_compare.py --ref b107303 --pairs 5 --duration 15
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", required=True, help="the earlier commit (e.g. the main before a change)")
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs of each side")
    parser.add_argument("--scale", type=int, default=10_000, help="artefacts (large enough not to run dry)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    return parser.parse_args(argv)


def run_bench(tree: Path, args, extra=()) -> dict:
    """One run of the labelling bench in `tree`; its JSON summary (the last line it prints)."""
    command = [sys.executable, "bench/labelling_loop.py", "--scales", str(args.scale)]
    command += ["--duration", str(args.duration), *extra]
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, env=os.environ.copy())
    summaries = [line for line in done.stdout.splitlines() if line.startswith("[{")]
    if done.returncode != 0 or not summaries:
        sys.exit(f"the bench failed in {tree} (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(summaries[-1])[0]


def line(side: str, result: dict) -> str:
    cpu = result["cpu_ms_per_op"]
    return (
        f"{side:>22}: {result['ops_per_second']:7.1f} ops/s, p95 {result['p95_ms']:7.1f} ms, "
        f"CPU/op gunicorn {cpu['gunicorn']} ms + PostgreSQL {cpu['postgres']} ms, "
        f"queries per kind {sorted(int(q) for q in result['queries_per_submit'])}, load {result['load_average']}"
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(before), args.ref], cwd=ROOT, check=True)
        try:
            (before / ".venv").symlink_to(ROOT / ".venv")
            print(f"labelling bench, {args.scale:,} artefacts, {args.duration:g} s a run: {args.ref} against now")
            runs = {"before": [], "now": []}
            for _ in range(args.pairs):
                runs["before"].append(run_bench(before, args))
                print(line(f"{args.ref}", runs["before"][-1]), flush=True)
                runs["now"].append(run_bench(ROOT, args, ("--prepared-sql", "on")))
                print(line("now, prepared SQL on", runs["now"][-1]), flush=True)
            off = run_bench(ROOT, args, ("--prepared-sql", "off"))
            print(line("now, prepared SQL off", off))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)
    medians = {
        side: (statistics.median(r["ops_per_second"] for r in rs), statistics.median(r["p95_ms"] for r in rs))
        for side, rs in runs.items()
    }
    (ops_b, p95_b), (ops_n, p95_n) = medians["before"], medians["now"]
    print(f"median {args.ref}: {ops_b:.1f} ops/s, p95 {p95_b:.1f} ms")
    print(f"median now (prepared SQL on): {ops_n:.1f} ops/s, p95 {p95_n:.1f} ms")
    print(f"now / before: {100 * ops_n / ops_b:.0f} % of the operations per second, p95 {100 * p95_n / p95_b:.0f} %")
    verdict = "within" if ops_n >= 0.9 * ops_b else "NOT within"
    print(f"target (operations per second within 10 % of before, prepared SQL on): {verdict}")


if __name__ == "__main__":
    main()
