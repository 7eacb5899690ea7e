#!/usr/bin/env python
"""Speed of the agreement report (issue 10) — a script, not a test. Goal: under 2 s.

Pure mode (now): generates in memory ROUNDS rounds over 100,000 items with 3 ratings each
(evaluators drawn from a pool of 8, labels from a three-level taxonomy of a few thousand
labels, a share of verdicts), then times `agreement_report` over all rounds × all levels ×
pairs, with the 1,000-resample bootstrap of alpha for each row.

    .venv/bin/python bench/agreement.py [--items 100000] [--rounds 6] [--repeat 3]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.agreement import Ratings, agreement_report  # noqa: E402

VERDICTS = ("false positive", "generic", "unclear")


def taxonomy(rng: np.random.Generator, n_labels: int) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Labels and their placements: 8 categories × 6 subcategories × 10 inner nodes; a tenth unplaced."""
    labels = [f"label {i}" for i in range(n_labels)]
    paths = {}
    for label in labels:
        if rng.random() < 0.1:
            continue
        a, b, c = int(rng.integers(8)), int(rng.integers(6)), int(rng.integers(10))
        depth = int(rng.integers(1, 4))
        paths[label] = (f"C{a}", f"C{a}.{b}", f"C{a}.{b}.{c}")[:depth]
    return labels, paths


def generate_round(rng: np.random.Generator, n_items: int, n_values: int, n_raters: int = 8) -> Ratings:
    """n_items × 3 ratings: each item has a 'true' value that each rater keeps with probability 0.6."""
    items = np.repeat(np.arange(n_items), 3)
    raters = np.argsort(rng.random((n_items, n_raters)), axis=1)[:, :3].ravel()
    truth = np.repeat(rng.integers(0, n_values, n_items), 3)
    noise = rng.integers(0, n_values, 3 * n_items)
    values = np.where(rng.random(3 * n_items) < 0.6, truth, noise)
    return Ratings(items, raters, values, [], [f"evaluator{i}" for i in range(n_raters)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="items in all (split over the rounds)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--labels", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(10)
    labels, paths = taxonomy(rng, args.labels)
    value_names = labels + list(VERDICTS)
    per_round = args.items // args.rounds
    rounds = []
    for number in range(1, args.rounds + 1):
        r = generate_round(rng, per_round, len(value_names))
        rounds.append((number, Ratings(r.items, r.raters, r.values, value_names, r.rater_names)))

    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = agreement_report(rounds, paths=paths)
        timings.append(time.perf_counter() - start)
    ratings = sum(len(r) for _, r in rounds)
    levels = len(report["rows"]) // args.rounds
    print(
        f"{args.items:,} items, {ratings:,} ratings, {args.rounds} rounds × {levels} levels,"
        f" {len(report['pairs'])} pairs: report in {statistics.median(timings):.3f} s"
        f" (median of {args.repeat}; min {min(timings):.3f} s)"
    )
    leaf = [r for r in report["rows"] if r["level"] == "leaf"]
    print("leaf alpha per round:", ", ".join(f"{r['round']}: {r['krippendorff_alpha']}" for r in leaf))


if __name__ == "__main__":
    main()
