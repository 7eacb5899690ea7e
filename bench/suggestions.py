#!/usr/bin/env python
"""Leaf suggestions (issue 15): leave-one-round-out recall and time per suggestion
(a script, not a test).

1. Builds six synthetic rounds in the study's spreadsheet layout (sheet 1: EntityType,
   Link, Conflict, EvaluatorN/TagN, Final Tag, Taxonomy Tag; sheet 2: the relevant
   artefacts with their Taxonomy Category code), writes them as .xlsx to a temporary
   folder and reads them back with the same reader as the real files.
2. For each round, history = the other rounds' decided items (every evaluator tag and
   the final tag placed under the artefact's taxonomy leaf); prints recall@1 and
   recall@5 of the leaf over every evaluator tag of the held-out round, for the
   baseline (rapidfuzz) and, when the optional extra is installed, the semantic
   (all-MiniLM-L6-v2 + nearest-wordings vote) and hybrid scorers.
3. With --real DIR (default: the shared replication folder when present), the same
   on the study's own round_*.xlsx (read at run time, never copied).
4. Time per suggestion with a history of --labels distinct wordings (goal < 20 ms at 5,000).

    .venv/bin/python bench/suggestions.py
    .venv/bin/python bench/suggestions.py --labels 5000 --no-semantic
"""

import argparse
import csv
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taxonomy.suggestions.baseline import BaselineScorer  # noqa: E402
from taxonomy.suggestions.model import Placement, Target  # noqa: E402
from taxonomy.suggestions.semantic import (  # noqa: E402
    CachedEmbedder,
    HybridScorer,
    SemanticScorer,
    load_embedder,
    semantic_available,
)

REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "replication"
for candidate in (Path("/work/shared/fixtures/replication"),):
    if not REAL_DIR.exists() and candidate.exists():
        REAL_DIR = candidate

NONE_VALUES = {"", "-", "none", "n/a", "na"}
VERDICTS = {"false positive", "generic", "unclear", "fp", "false-positive"}
UNCATEGORISED = "Uncategorised"


# ---------------------------------------------------------------- the round layout


@dataclass
class Row:
    link: str
    tags: list[str]
    final: str
    leaf: str  # the taxonomy tag, qualifiers dropped; "" when none
    code: str = ""


@dataclass
class Study:
    rounds: dict[int, list[Row]] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)  # code -> name


def _cell(value) -> str:
    text = "" if value is None else str(value).strip()
    text = re.split(r"\s*->\s*", text)[-1].strip()
    return "" if text.casefold() in NONE_VALUES else text


def _code(value) -> str:
    text = _cell(value)
    return text[:-2] if text.endswith(".0") else text


def _leaf_name(text: str) -> str:
    """A taxonomy tag's leaf: its qualifiers in parentheses dropped."""
    text = re.sub(r"\s*\([^)]*\)", "", _cell(text)).strip()
    return "" if text.casefold() in VERDICTS or "deleted" in text.casefold() else text


def _header(ws) -> tuple[list[str], list]:
    rows = ws.iter_rows(values_only=True)
    header = [re.sub(r"\s+", " ", str(h or "")).strip().casefold() for h in next(rows, ())]
    return header, rows


def read_round(path: Path) -> list[Row]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    header, rows = _header(wb.worksheets[0])
    tag_cols = [i for i, h in enumerate(header) if re.fullmatch(r"tags? ?\d+", h)]
    col = {h: i for i, h in enumerate(header)}
    final_col = next((col[h] for h in ("final tag", "final tags", "final label") if h in col), None)
    leaf_col = next((col[h] for h in ("taxonomy tag", "taxonomy tags", "taxonomy label") if h in col), None)
    link_col = col.get("link", 1)
    out = []
    for row in rows:
        if not row or link_col >= len(row) or not _cell(row[link_col]):
            continue
        cells = list(row) + [None] * len(header)
        tags = [_cell(cells[i]) for i in tag_cols]
        out.append(
            Row(
                link=_cell(cells[link_col]),
                tags=[t for t in tags if t and t.casefold() not in VERDICTS],
                final=_cell(cells[final_col]) if final_col is not None else "",
                leaf=_leaf_name(cells[leaf_col]) if leaf_col is not None else "",
            )
        )
    if len(wb.worksheets) > 1:
        header, rows = _header(wb.worksheets[1])
        code_col = next((i for i, h in enumerate(header) if h.startswith("taxonomy cat")), None)
        link_col = header.index("link") if "link" in header else 1
        codes = {}
        for row in rows:
            if row and code_col is not None and code_col < len(row) and _cell(row[link_col]):
                codes[_cell(row[link_col])] = _code(row[code_col])
        for r in out:
            r.code = codes.get(r.link, "")
    return out


def read_study(folder: Path) -> Study:
    study = Study()
    for path in sorted(folder.glob("round_*.xlsx")):
        number = int(re.search(r"(\d+)", path.stem).group(1))
        study.rounds[number] = read_round(path)
    outline = folder / "taxonomy_outline.csv"
    if outline.exists():
        with outline.open(newline="", encoding="utf-8") as f:
            study.categories = {row["code"]: row["name"] for row in csv.DictReader(f)}
    return study


# ---------------------------------------------------------------- synthetic rounds

CATEGORIES = {
    "1": "Architecture",
    "1.1": "Layers",
    "1.2": "Activations",
    "2": "Data",
    "2.1": "Tensor shapes",
    "2.2": "Input types",
    "2.3": "Preprocessing",
    "3": "Optimisation",
    "3.1": "Hyperparameters",
    "3.2": "Loss",
    "3.3": "Optimiser",
    "4": "Hardware",
    "5": "Library usage",
}
OBJECTS = {
    "1.1": ["dense layer", "pooling layer", "dropout layer", "batch normalisation", "flatten layer", "embedding layer"],
    "1.2": ["softmax activation", "relu activation", "sigmoid output", "activation function"],
    "2.1": ["input shape", "tensor dimensions", "output shape", "reshape operation"],
    "2.2": ["input data type", "label encoding", "image format", "tensor dtype"],
    "2.3": ["normalisation of inputs", "data augmentation", "train test split", "shuffling of data"],
    "3.1": ["learning rate", "batch size", "number of epochs", "dropout rate", "weight decay"],
    "3.2": ["loss function", "class weights", "regularisation term"],
    "3.3": ["optimiser choice", "gradient clipping", "momentum value"],
    "4": ["gpu device", "gpu memory", "cuda version"],
    "5": ["api argument", "deprecated api", "session initialisation", "variable scope", "checkpoint restore"],
}
QUALIFIERS = ["wrong", "missing", "suboptimal", "redundant", "too high", "too low"]
QUALIFIER_WORDS = {
    "wrong": ["wrong", "incorrect", "bad", "invalid", "erroneous", "faulty"],
    "missing": ["missing", "absent", "no", "lack of", "forgot", "omitted"],
    "suboptimal": ["suboptimal", "poorly chosen", "inappropriate", "not optimal", "badly tuned"],
    "redundant": ["redundant", "unnecessary", "extra", "superfluous", "duplicated"],
    "too high": ["too high", "too large", "too big", "excessive", "very high"],
    "too low": ["too low", "too small", "insufficient", "very low", "not enough"],
}
OBJECT_WORDS = {
    "learning rate": ["learning rate", "lr", "learning-rate", "step size"],
    "batch size": ["batch size", "minibatch size", "batch"],
    "number of epochs": ["number of epochs", "epochs", "training epochs", "epoch count"],
    "input shape": ["input shape", "input dimensions", "shape of input", "input size"],
    "tensor dimensions": ["tensor dimensions", "tensor shape", "tensor rank", "dims of tensor"],
    "gpu device": ["gpu device", "gpu id", "device placement", "cuda device"],
    "loss function": ["loss function", "loss", "objective function", "cost function"],
    "softmax activation": ["softmax activation", "softmax", "softmax output"],
    "label encoding": ["label encoding", "one hot labels", "target encoding"],
    "normalisation of inputs": ["normalisation of inputs", "input normalization", "scaling of data"],
}
CONTEXT = ["", "", "", "in keras", "for sgd optimizer", "during training", "in the model", "for images", "(tf)"]
TEMPLATES = ["{q} {o}", "{q} {o}", "{o} {q}", "{o} is {q}", "use of {q} {o}", "{q} {o} value", "{o} set {q}"]


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def synthetic_leaves(rng: random.Random) -> list[tuple[str, str, str]]:
    """(leaf name, category code, concept) where concept = qualifier|object."""
    leaves = []
    for code, objects in OBJECTS.items():
        for obj in objects:
            for qual in rng.sample(QUALIFIERS, 3):
                leaves.append((f"{qual} {obj}", code, f"{qual}|{obj}"))
    rng.shuffle(leaves)
    return leaves


def wording(rng: random.Random, concept: str) -> str:
    qual, obj = concept.split("|")
    q = rng.choice(QUALIFIER_WORDS[qual])
    o = rng.choice(OBJECT_WORDS.get(obj, [obj]))
    text = rng.choice(TEMPLATES).format(q=q, o=o)
    ctx = rng.choice(CONTEXT)
    text = f"{text} {ctx}".strip()
    if rng.random() < 0.15:
        text = _typo(rng, text)
    return text


def write_synthetic(folder: Path, *, rounds: int = 6, seed: int = 15) -> None:
    """Six rounds like the study's: 30, 110 then 150 artefacts each, about 40%
    relevant, two evaluators (a third on disagreement), new leaves every round."""
    rng = random.Random(seed)
    leaves = synthetic_leaves(rng)
    evaluators = [f"E{i}" for i in range(1, 6)]
    sizes = [30, 110] + [150] * (rounds - 2)
    with (folder / "taxonomy_outline.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "name"])
        writer.writerows(sorted(CATEGORIES.items()))
    for number, size in enumerate(sizes, start=1):
        available = leaves[: int(len(leaves) * number / rounds)]
        weights = [1 / (i + 1) ** 0.7 for i in range(len(available))]
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = f"Round {number} All"
        ws.append(
            ["EntityType", "Link", "Conflict", "Evaluator1", "Tag1", "Evaluator2", "Tag2", "Evaluator3", "Tag3"]
            + ["Final Tag", "Taxonomy Tag"]
        )
        relevant = wb.create_sheet(f"Round {number} Relevant")
        relevant.append(["EntityType", "Link", "Final Tag", "Taxonomy Tag", "Taxonomy Category"])
        for i in range(size):
            link = f"https://stackoverflow.com/questions/{number}{i:05d}"
            who = rng.sample(evaluators, 3)
            if rng.random() < 0.6:
                ws.append(
                    ["so-keras", link, 0, who[0], "false positive", who[1], "false positive", None, None]
                    + ["false positive", "-"]
                )
                continue
            name, code, concept = rng.choices(available, weights)[0]
            tags = [wording(rng, concept), wording(rng, concept)]
            third = [who[2], wording(rng, concept)] if rng.random() < 0.3 else [None, None]
            leaf = name + (" (training)" if rng.random() < 0.1 else "")
            ws.append(
                ["so-keras", link, int(third[0] is not None), who[0], tags[0], who[1], tags[1], *third]
                + [tags[0], leaf]
            )
            relevant.append(["so-keras", link, tags[0], leaf, code])
        wb.save(folder / f"round_{number}.xlsx")


# ---------------------------------------------------------------- evaluation


def _path(study: Study, code: str) -> tuple[str, ...]:
    parts = code.split(".") if code else []
    names = [study.categories.get(".".join(parts[: i + 1])) for i in range(len(parts))]
    names = [n for n in names if n]
    return tuple(names) or (UNCATEGORISED,)


def history_of(study: Study, numbers) -> tuple[list[Target], list[Placement]]:
    """Targets (every category of the outline, every leaf seen) and placements from
    the decided rows of rounds `numbers`."""
    leaves: dict[str, Target] = {}
    placements = []
    for number in numbers:
        for row in study.rounds[number]:
            if not row.leaf:
                continue
            key = f"leaf:{row.leaf.casefold()}"
            if key not in leaves or (row.code and leaves[key].path[0] == UNCATEGORISED):
                path = _path(study, row.code)
                leaves[key] = Target(key=key, name=row.leaf, path=(*path, row.leaf), parent=f"node:{row.code}")
            for text in {*row.tags, row.final}:
                if text and text.casefold() not in VERDICTS:
                    placements.append(Placement(text=text, target=key, round=number))
    nodes = [
        Target(
            key=f"node:{code}",
            name=name,
            path=_path(study, code),
            kind="category",
            parent=f"node:{code.rpartition('.')[0]}" if "." in code else None,
        )
        for code, name in study.categories.items()
    ]
    return nodes + list(leaves.values()), placements


def queries_of(study: Study, number: int) -> list[tuple[str, str]]:
    """(evaluator tag, key of the right leaf) for every evaluator tag of a decided row."""
    return [(tag, f"leaf:{row.leaf.casefold()}") for row in study.rounds[number] if row.leaf for tag in row.tags]


def evaluate(study: Study, make_scorers, *, held_out=None, earlier_only=False) -> dict:
    results: dict[str, dict] = defaultdict(lambda: {"n": 0, "known": 0, "at1": 0, "at5": 0, "at5_known": 0})
    for number in held_out or sorted(study.rounds):
        others = [n for n in study.rounds if n != number and (n < number or not earlier_only)]
        if not others:
            continue
        targets, history = history_of(study, others)
        known = {t.key for t in targets}
        for name, scorer in make_scorers(targets, history).items():
            r = results[name]
            for text, truth in queries_of(study, number):
                keys = [s.key for s in scorer.suggest(text, top=5)]
                r["n"] += 1
                r["known"] += truth in known
                r["at1"] += bool(keys) and keys[0] == truth
                r["at5"] += truth in keys
                r["at5_known"] += truth in keys and truth in known
    return dict(results)


def print_results(title: str, results: dict) -> None:
    print(f"\n{title}")
    print(f"  {'scorer':<10} {'tags':>5} {'recall@1':>9} {'recall@5':>9} {'recall@5 (leaf already in history)':>36}")
    for name, r in results.items():
        n, k = max(r["n"], 1), max(r["known"], 1)
        print(
            f"  {name:<10} {r['n']:>5} {r['at1'] / n:>9.3f} {r['at5'] / n:>9.3f}"
            f" {r['at5_known'] / k:>12.3f} ({r['at5_known']}/{r['known']})"
        )


def scorer_factory(embedder, variants: bool):
    def make(targets, history):
        scorers = {"baseline": BaselineScorer(targets, history)}
        if variants:
            for name in ("token_set", "wratio"):
                scorers[f"base-{name}"] = BaselineScorer(targets, history, scorer=name)
        if embedder is not None:
            semantic = SemanticScorer(targets, history, embedder=embedder)
            scorers["semantic"] = semantic
            scorers["hybrid"] = HybridScorer(scorers["baseline"], semantic)
        return scorers

    return make


def timing(embedder, n_labels: int, rng: random.Random) -> None:
    leaves = synthetic_leaves(rng)
    targets = [Target(key=f"leaf:{i}", name=name, path=(code, name)) for i, (name, code, _) in enumerate(leaves)]
    texts: set[str] = set()
    history = []
    while len(texts) < n_labels:
        i = rng.randrange(len(leaves))
        text = f"{wording(rng, leaves[i][2])} {rng.randrange(10**6)}"
        texts.add(text)
        history.append(Placement(text=text, target=f"leaf:{i}"))
    scorers = {"baseline": BaselineScorer(targets, history)}
    if embedder is not None:
        started = time.perf_counter()
        scorers["semantic"] = SemanticScorer(targets, history, embedder=embedder)
        print(f"  semantic: {n_labels} wordings embedded once in {time.perf_counter() - started:.1f} s (cached after)")
        scorers["hybrid"] = HybridScorer(scorers["baseline"], scorers["semantic"])
    for name, scorer in scorers.items():
        # fresh texts for every scorer: no query vector comes from the cache
        queries = [f"{wording(rng, leaves[rng.randrange(len(leaves))][2])} {name} {i}" for i in range(200)]
        per = []
        for q in queries:
            started = time.perf_counter()
            scorer.suggest(q, top=5)
            per.append((time.perf_counter() - started) * 1000)
        per.sort()
        print(
            f"  {name:<10} {len(scorer.baseline.docs if name == 'hybrid' else scorer.docs)} documents:"
            f" mean {statistics.mean(per):.2f} ms, p95 {per[int(len(per) * 0.95)]:.2f} ms per suggestion"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=int, default=5000, help="distinct wordings in the timing history")
    parser.add_argument("--real", type=Path, default=REAL_DIR, help="folder with the study's round_*.xlsx")
    parser.add_argument("--no-semantic", action="store_true")
    parser.add_argument("--variants", action="store_true", help="also the other rapidfuzz scorers")
    args = parser.parse_args()

    embedder = None
    if not args.no_semantic and semantic_available():
        embedder = CachedEmbedder(load_embedder())
    elif not args.no_semantic:
        print("semantic scorer: optional extra not installed (pip install -r requirements-semantic.txt)")
    make = scorer_factory(embedder, args.variants)

    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic(Path(tmp))
        study = read_study(Path(tmp))
    print_results("Synthetic rounds, leave-one-round-out (history = the 5 other rounds)", evaluate(study, make))
    print_results("Synthetic rounds: round 6 with history from rounds 1-5", evaluate(study, make, held_out=[6]))

    if args.real and any(args.real.glob("round_*.xlsx")):
        real = read_study(args.real)
        numbers = sorted(real.rounds)
        print_results(
            f"The study's rounds {numbers} (real, read from {args.real}), leave-one-round-out",
            evaluate(real, make),
        )
        last = numbers[-1]
        print_results(
            f"The study's round {last} with history from rounds {numbers[:-1]}",
            evaluate(real, make, held_out=[last], earlier_only=True),
        )

    print(f"\nTime per suggestion, history of {args.labels} distinct wordings:")
    timing(embedder, args.labels, random.Random(5))


if __name__ == "__main__":
    main()
