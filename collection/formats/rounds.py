"""Turning another tool's ratings into the round spreadsheet layout Concord's round import reads.

The round import (labelling) reads a first sheet with `Link, Evaluator1, Tag1, Evaluator2,
Tag2, …`; `ratings_round_sheet` lays the kept ratings out that way, one row per task
with at least one rating, evaluators in the order they first appear on the task. The
imported round then holds the other tool's answers as annotations of their evaluators —
never as tags or any other field of the artefact.
"""

from __future__ import annotations

from collections import Counter

from .common import ExchangeFile, Rating


def label_fields(exchange: ExchangeFile, *, source: str = "annotation") -> list[str]:
    """The control tags (Label Studio's from_name, doccano's `label`) that hold ratings, most used first."""
    counts = Counter(r.field_name for r in exchange.ratings if r.source == source and not r.cancelled)
    return [name for name, _ in counts.most_common()]


def ratings_round_sheet(
    exchange: ExchangeFile,
    *,
    field_name: str | None = None,
    include_predictions: bool = False,
) -> tuple[list[str], list[list[str]], list[dict]]:
    """(header, rows, problems) in the round layout.

    `field_name`: which control tag's answers are the label (default: the most used one).
    Cancelled annotations are left out; a rating with several labels keeps the first and is
    reported; predictions are kept only when asked, as the evaluator `model:<version>`."""
    fields = label_fields(exchange)
    chosen = field_name if field_name is not None else (fields[0] if fields else None)
    problems: list[dict] = []
    per_link: dict[str, list[Rating]] = {}
    for rating in exchange.ratings:
        if rating.cancelled or (chosen is not None and rating.field_name != chosen):
            continue
        if rating.source == "prediction" and not include_predictions:
            continue
        per_link.setdefault(rating.link, []).append(rating)
    width = 0
    body: list[tuple[str, list[tuple[str, str]]]] = []
    number_of = {row.link: row.number for row in exchange.rows}
    for row in exchange.rows:
        ratings = per_link.get(row.link)
        if not ratings:
            continue
        slots: list[tuple[str, str]] = []
        seen: set[str] = set()
        for rating in ratings:
            evaluator = rating.evaluator if rating.source == "annotation" else f"model:{rating.evaluator}"
            if evaluator.casefold() in seen:
                problems.append(
                    {"row": number_of[row.link], "problem": f"{evaluator} answered twice; the first answer is kept"}
                )
                continue
            seen.add(evaluator.casefold())
            if len(rating.labels) > 1:
                kept = f"the first ({rating.labels[0]!r}) is kept"
                problems.append(
                    {"row": number_of[row.link], "problem": f"{evaluator} gave {len(rating.labels)} labels; {kept}"}
                )
            slots.append((evaluator, rating.labels[0]))
        width = max(width, len(slots))
        body.append((row.link, slots))
    header = ["Link"]
    for order in range(1, width + 1):
        header += [f"Evaluator{order}", f"Tag{order}"]
    rows = []
    for link, slots in body:
        cells = [link]
        for evaluator, label in slots:
            cells += [evaluator, label]
        cells += [""] * (len(header) - len(cells))
        rows.append(cells)
    return header, rows, problems
