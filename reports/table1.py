"""Table 1 of the reference study — round statistics — for any project, labelled in Concord or imported.

Per round: analysed artefacts, disagreements, conflicts, relevant, new inner
categories per level (first, second, third …) and new leaf categories; then a
subtotal over the artefact rounds; when interviews exist, their row and the total.

    {"rows": [{"round": "1", "analysed": 29, "disagreements": 10, "conflicts": 3, "relevant": 5,
               "new_inner": [4, 4, 2], "new_leaves": 5}, …,
              {"round": "subtotal", …}, {"round": "interviews", …, "final": F, "removed": R},
              {"round": "total", …}]}

Definitions:
- analysed: the round's artefacts; in a round labelled in Concord only those past
  labelling (decided or with the moderators); in an imported round every row.
- disagreements: artefacts whose first two annotations differed; conflicts:
  artefacts that reached the moderators; relevant: artefacts whose current
  taxonomy tag is set.
- new inner categories: nodes whose `round_created` is the round, by level —
  a node with a code is at the level its code says (4.2.1 → third), other nodes
  at their depth in the tree; new leaves likewise by `round_created`.
- null, never 0, for a figure the round never recorded: an imported spreadsheet
  without the second evaluator's tags recorded no disagreements, one without any
  taxonomy tag no relevance (see RoundImport.recorded). Subtotals and totals add
  the recorded figures and are null only when no row recorded the figure.

Everything is aggregated in the database: one grouped query over round items, one
over nodes, one over leaves — the cost does not grow with Python loops over rows.

Extra rows (the interviews) plug in through `ROW_PROVIDERS`: callables taking the
project and returning a row dict or None. By default that is the interviews row
(`interviews.stats.interview_row`).
Its row may carry the extra keys `final` and `removed`, kept as given; other keys are
dropped so that the JSON stays in the documented format.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db.models import Case, Count, IntegerField, Max, Q, Value, When

from core import tables
from core.models import Project
from interviews.stats import interview_row
from labelling.models import Round, RoundImport, RoundItem
from taxonomy.models import Leaf, Node

FIGURES = ("analysed", "disagreements", "conflicts", "relevant")
EXTRA_KEYS = ("final", "removed")
MAX_DEPTH = 8
LEVEL_NAMES = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


ROW_PROVIDERS: list[Callable[[Project], dict | None]] = [interview_row]


def node_depth():
    """SQL expression: the level of a node, its depth in the tree (1 = top level).

    The taxonomy page counts levels the same way (taxonomy.selectors.node_depths);
    a code's dots say where a node was meant to go, its depth where it is."""
    whens = []
    path = "parent"
    for depth in range(1, MAX_DEPTH):
        whens.append(When(**{f"{path}__isnull": True}, then=Value(depth)))
        path += "__parent"
    chain = Case(*whens, default=Value(MAX_DEPTH), output_field=IntegerField())
    return chain


def _round_rows(project: Project) -> tuple[list[dict], int]:
    rounds = list(
        Round.objects.filter(project=project)
        .order_by("number")
        .annotate(
            n_items=Count("items"),
            n_past=Count("items", filter=~Q(items__status=RoundItem.Status.LABELLING)),
            n_disagreements=Count("items", filter=Q(items__had_disagreement=True)),
            n_conflicts=Count("items", filter=Q(items__is_conflict=True)),
            n_relevant=Count("items", filter=Q(items__taxonomy_label__isnull=False)),
        )
        .values("id", "number", "source", "n_items", "n_past", "n_disagreements", "n_conflicts", "n_relevant")
    )
    recorded = dict(RoundImport.objects.filter(round__project=project).values_list("round_id", "recorded"))
    depth = node_depth()
    levels = Node.objects.filter(project=project).annotate(depth=depth).aggregate(m=Max("depth"))["m"] or 0
    inner: dict[tuple[int, int], int] = {}
    for round_id, level, n in (
        Node.objects.filter(project=project, round_created__isnull=False)
        .annotate(depth=depth)
        .values("round_created_id", "depth")
        .annotate(n=Count("id"))
        .values_list("round_created_id", "depth", "n")
    ):
        inner[(round_id, level)] = n
    leaves = dict(
        Leaf.objects.filter(node__project=project, round_created__isnull=False)
        .values("round_created_id")
        .annotate(n=Count("id"))
        .values_list("round_created_id", "n")
    )
    rows = []
    for r in rounds:
        imported = r["source"] == Round.Source.IMPORT
        said = recorded.get(r["id"]) or {}

        def figure(name, value, imported=imported, said=said):
            return None if imported and said.get(name) is False else value

        rows.append(
            {
                "round": str(r["number"]),
                "analysed": r["n_items"] if imported else r["n_past"],
                "disagreements": figure("disagreements", r["n_disagreements"]),
                "conflicts": figure("conflicts", r["n_conflicts"]),
                "relevant": figure("relevant", r["n_relevant"]),
                "new_inner": [inner.get((r["id"], level), 0) for level in range(1, levels + 1)],
                "new_leaves": leaves.get(r["id"], 0),
            }
        )
    return rows, levels


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _sum_rows(name: str, rows: list[dict], levels: int) -> dict:
    out = {"round": name}
    for key in FIGURES:
        value = None
        for row in rows:
            value = _add(value, row.get(key))
        out[key] = value
    inner = None
    for row in rows:
        if row.get("new_inner") is not None:
            inner = [_add(x, y) for x, y in zip(inner or [None] * levels, row["new_inner"], strict=True)]
    out["new_inner"] = inner
    value = None
    for row in rows:
        value = _add(value, row.get("new_leaves"))
    out["new_leaves"] = value
    return out


def _normalise_extra(row: dict, name: str, levels: int) -> dict:
    out = {"round": name}
    for key in FIGURES:
        out[key] = row.get(key)
    inner = row.get("new_inner")
    if inner is not None:
        inner = list(inner)[:levels] + [0] * max(0, levels - len(inner))
    out["new_inner"] = inner
    out["new_leaves"] = row.get("new_leaves")
    for key in EXTRA_KEYS:  # only the documented extras: the JSON format is fixed
        if key in row:
            out[key] = row[key]
    return out


def table1(project: Project) -> dict:
    """Table 1 of `project` as {"rows": [...]} (see the module docstring)."""
    rows, levels = _round_rows(project)
    extras = []
    for provider in ROW_PROVIDERS:
        row = provider(project)
        if row:
            extras.append(row)
    for row in extras:  # an interview row may know deeper levels than the rounds
        levels = max(levels, len(row.get("new_inner") or []))
    for row in rows:
        row["new_inner"] += [0] * (levels - len(row["new_inner"]))
    subtotal = _sum_rows("subtotal", rows, levels)
    out = [*rows, subtotal]
    if extras:
        extra_rows = [_normalise_extra(row, str(row.get("round") or "interviews"), levels) for row in extras]
        out += extra_rows
        out.append(_sum_rows("total", [subtotal, *extra_rows], levels))
    return {"rows": out}


# --- rendering ----------------------------------------------------------------------------


def columns(table: dict) -> list[tuple[str, str]]:
    """[(key, heading)] for the table's rows; new_inner expands to one column per level."""
    rows = table["rows"]
    levels = max((len(r.get("new_inner") or []) for r in rows), default=0)
    cols = [
        ("round", "Round"),
        ("analysed", "Analysed"),
        ("disagreements", "Disagreements"),
        ("conflicts", "Conflicts"),
        ("relevant", "Relevant"),
    ]
    cols += [
        (f"new_inner.{i}", f"New inner ({LEVEL_NAMES[i] if i < len(LEVEL_NAMES) else i + 1} level)")
        for i in range(levels)
    ]
    cols.append(("new_leaves", "New leaves"))
    for extra in ("final", "removed"):
        if any(extra in r for r in rows):
            cols.append((extra, extra.capitalize()))
    return cols


def round_label(value: str) -> str:
    return value.capitalize() if not value.isdigit() else f"Round {value}"


def cells(table: dict) -> tuple[list[str], list[list]]:
    """Headings and rows of plain values (None for null) in column order."""
    cols = columns(table)
    out = []
    for row in table["rows"]:
        line = []
        for key, _ in cols:
            if key.startswith("new_inner."):
                inner = row.get("new_inner")
                index = int(key.split(".")[1])
                line.append(inner[index] if inner is not None and index < len(inner) else None)
            elif key == "round":
                line.append(round_label(row["round"]))
            else:
                line.append(row.get(key))
        out.append(line)
    return [heading for _, heading in cols], out


def render_text(table: dict) -> str:
    return tables.render_text(*cells(table))


def render_csv(table: dict) -> str:
    return tables.render_csv(*cells(table))


def render_markdown(table: dict) -> str:
    return tables.render_markdown(*cells(table))


def render_latex(table: dict) -> str:
    """A booktabs table (needs \\usepackage{booktabs}); the subtotal and total set off by rules."""
    headings, rows = cells(table)
    totals = [n for n, row in enumerate(table["rows"]) if row["round"] in ("subtotal", "total")]
    return tables.render_latex(
        headings, rows, caption="Statistics of the labelling rounds", label="tab:rounds", rules_before=totals
    )


def render_xlsx(table: dict) -> bytes:
    headings, rows = cells(table)
    return tables.render_xlsx("Table 1", headings, rows, widths=[max(10, len(h) + 2) for h in headings])


FORMATS = {
    # format: (renderer, content type, file extension)
    "csv": (render_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": (render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "latex": (render_latex, "application/x-latex; charset=utf-8", "tex"),
    "markdown": (render_markdown, "text/markdown; charset=utf-8", "md"),
    "table": (render_text, "text/plain; charset=utf-8", "txt"),
}


def render(table: dict, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, extension) of the table in `fmt` (json, csv, xlsx, latex, markdown, table)."""

    if fmt == "json":
        return json.dumps(table, indent=2).encode(), "application/json", "json"
    renderer, content_type, extension = FORMATS[fmt]
    content = renderer(table)
    return (content.encode() if isinstance(content, str) else content), content_type, extension


# --- chart ------------------------------------------------------------------------------------


def nice_ticks(top: int, *, most: int = 6) -> list[int]:
    """Whole-number y ticks from 0 to at least `top` in steps of 1, 2 or 5 × 10^k, at most `most` of them."""
    top = max(1, int(top))
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if -(-top // step) + 1 <= most:
                return list(range(0, -(-top // step) * step + 1, step))
        magnitude *= 10


def chart(table: dict, *, width: int = 640, height: int = 280) -> dict | None:
    """Geometry of a line chart of cumulative inner and leaf categories per round (and interviews).

    Returned as numbers for the template to draw as inline SVG; None when there is nothing to draw."""
    points = [r for r in table["rows"] if r["round"] not in ("subtotal", "total")]
    if not points:
        return None
    left, right, top, bottom = 48, 48, 24, 40
    inner_total = leaf_total = 0
    series = []
    for row in points:
        inner_total += sum(x or 0 for x in (row.get("new_inner") or []))
        leaf_total += row.get("new_leaves") or 0
        series.append((round_label(row["round"]), inner_total, leaf_total))
    ticks = nice_ticks(max(max(s[1], s[2]) for s in series))
    top_value = ticks[-1]
    step = (width - left - right) / max(1, len(series) - 1)

    def x(i):
        return round(left + (i * step if len(series) > 1 else (width - left - right) / 2), 1)

    def y(v):
        return round(top + (height - top - bottom) * (1 - v / top_value), 1)

    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": height - bottom,
        "top": top,
        "points": [
            {
                "label": label,
                "x": x(i),
                "inner": inner,
                "leaves": leaves,
                "y_inner": y(inner),
                "y_leaves": y(leaves),
                "box_x": round(x(i) - 6, 1),  # the leaves' marker: a 12-unit hollow square centred on the point
                "box_y": round(y(leaves) - 6, 1),
                "same": inner == leaves,  # the leaves' marker (a hollow square) then frames the inner dot
            }
            for i, (label, inner, leaves) in enumerate(series)
        ],
        "inner_path": " ".join(f"{x(i)},{y(s[1])}" for i, s in enumerate(series)),
        "leaf_path": " ".join(f"{x(i)},{y(s[2])}" for i, s in enumerate(series)),
        "ticks": [{"value": t, "y": y(t)} for t in ticks],
        "label_y": height - bottom + 18,
    }


def table1_for_project_id(project_id: int) -> dict:
    return table1(Project.objects.get(id=project_id))
