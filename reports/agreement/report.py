"""The agreement report (issue 10): rows per round × level, pairs, top disagreements —
built from ratings, and rendered as table, CSV, JSON, LaTeX or Markdown.

JSON shape::

    {"rows": [{"round": 1, "level": "leaf", "items": 40, "ratings": 84, "percent": 0.83,
               "cohen_kappa_mean": 0.79, "fleiss_kappa": null, "krippendorff_alpha": 0.8,
               "alpha_ci95": [0.69, 0.9]}, …],
     "pairs": [{"round": 1, "a": "ana", "b": "ben", "items": 20, "cohen_kappa": 0.81}, …],
     "disagreements": [{"round": 1, "level": "leaf", "value_a": "…", "value_b": "…", "count": 3}, …]}

One row per round and level asked; pairs at the first level asked (leaf when all);
disagreements per round and level, most frequent first. Figures are rounded to four
decimals; an undefined figure is null (None), never NaN.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Hashable, Mapping, Sequence

from core import csv_safe, tables

from .levels import level_table, levels_of, parse_level
from .measures import RESAMPLES, SEED, Ratings, summarise

DIGITS = 4
TOP = 10
FORMATS = ("table", "csv", "json", "latex", "markdown")


def _figure(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), DIGITS)


def _interval(interval):
    if interval is None:
        return None
    lo, hi = (_figure(v) for v in interval)
    return None if lo is None or hi is None else [lo, hi]


def _text(value) -> str:
    return value if isinstance(value, str) else str(value)


def agreement_report(
    rounds: Sequence[tuple[Hashable, Ratings]],
    *,
    paths: Mapping[Hashable, Sequence[Hashable]],
    levels: Sequence[str] | None = None,
    top: int = TOP,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict:
    """The report of `rounds` ((round, ratings) in order) at `levels` (all levels of `paths`
    by default); values are mapped to each level with `paths` (see levels.py)."""
    levels = [parse_level(level) for level in levels] if levels else levels_of(paths)
    rows, pairs, disagreements = [], [], []
    tables: dict = {}  # rounds usually share their value names: map them once per level
    for round_key, ratings in rounds:
        ratings = ratings.laid_out()
        for index, level in enumerate(levels):
            cache_key = (id(ratings.value_names), level)
            if cache_key not in tables:
                tables[cache_key] = level_table(ratings.value_names, level, paths)
            table, names = tables[cache_key]
            summary = summarise(ratings.relabelled(table, names), top=top, resamples=resamples, seed=seed)
            rows.append(
                {
                    "round": round_key,
                    "level": level,
                    "items": summary.items,
                    "ratings": summary.ratings,
                    "percent": _figure(summary.percent),
                    "cohen_kappa_mean": _figure(summary.cohen_kappa_mean),
                    "fleiss_kappa": _figure(summary.fleiss_kappa),
                    "krippendorff_alpha": _figure(summary.krippendorff_alpha),
                    "alpha_ci95": _interval(summary.alpha_ci95),
                }
            )
            if index == 0:
                pairs += [
                    {
                        "round": round_key,
                        "a": _text(p.a),
                        "b": _text(p.b),
                        "items": p.items,
                        "cohen_kappa": _figure(p.cohen_kappa),
                    }
                    for p in summary.pairs
                ]
            disagreements += [
                {
                    "round": round_key,
                    "level": level,
                    "value_a": _text(d.value_a),
                    "value_b": _text(d.value_b),
                    "count": d.count,
                }
                for d in summary.disagreements
            ]
    return {"rows": rows, "pairs": pairs, "disagreements": disagreements}


# --------------------------------------------------------------------------- tables

ROW_HEADINGS = ("Round", "Level", "Items", "Ratings", "Percent", "Cohen κ (mean)", "Fleiss κ", "Kripp. α", "α 95% CI")
PAIR_HEADINGS = ("Round", "Evaluator A", "Evaluator B", "Items", "Cohen κ")
DISAGREEMENT_HEADINGS = ("Round", "Level", "Value A", "Value B", "Count")


def _ci_text(interval) -> str | None:
    return None if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def report_tables(report: dict, *, decimals: int | None = 3) -> list[tuple[str, Sequence[str], list[list]]]:
    """(title, headings, rows) of the three tables; figures rounded to `decimals` (None: as they are)."""

    def fig(value):
        return value if value is None or decimals is None else f"{value:.{decimals}f}"

    rows = [
        [
            r["round"],
            r["level"],
            r["items"],
            r["ratings"],
            fig(r["percent"]),
            fig(r["cohen_kappa_mean"]),
            fig(r["fleiss_kappa"]),
            fig(r["krippendorff_alpha"]),
            _ci_text(r["alpha_ci95"]),
        ]
        for r in report["rows"]
    ]
    pairs = [[p["round"], p["a"], p["b"], p["items"], fig(p["cohen_kappa"])] for p in report["pairs"]]
    disagreements = [[d["round"], d["level"], d["value_a"], d["value_b"], d["count"]] for d in report["disagreements"]]
    return [
        ("Agreement per round and level", ROW_HEADINGS, rows),
        ("Cohen's kappa per pair of evaluators", PAIR_HEADINGS, pairs),
        ("Most frequent disagreements", DISAGREEMENT_HEADINGS, disagreements),
    ]


def render_json(report: dict) -> str:
    """Strict JSON (NaN or infinity would raise: the report holds None instead)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_csv(report: dict) -> str:
    """The rows as CSV (the interval as two columns), full precision; pairs and disagreements
    follow, each after a blank line with its own header."""
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, lineterminator="\n")
    keys = ("round", "level", "items", "ratings", "percent", "cohen_kappa_mean", "fleiss_kappa", "krippendorff_alpha")
    writer.writerow([*keys, "alpha_ci95_low", "alpha_ci95_high"])
    for r in report["rows"]:
        ci = r["alpha_ci95"] or [None, None]
        writer.writerow(["" if v is None else v for v in [*(r[k] for k in keys), *ci]])
    for name, keys in (
        ("pairs", ("round", "a", "b", "items", "cohen_kappa")),
        ("disagreements", ("round", "level", "value_a", "value_b", "count")),
    ):
        writer.writerow([])
        writer.writerow(keys)
        for entry in report[name]:
            writer.writerow(["" if entry[k] is None else entry[k] for k in keys])
    return buffer.getvalue()


def _cell(value) -> str:
    return "–" if value is None or value == "" else " ".join(str(value).split())


def render_text(report: dict) -> str:
    """Plain-text tables: columns padded to their widest cell, a rule under the headings."""
    out = []
    for title, headings, rows in report_tables(report):
        data = [list(headings)] + [[_cell(v) for v in row] for row in rows]
        widths = [max(len(row[i]) for row in data) for i in range(len(headings))]
        lines = [title, ""]
        for n, row in enumerate(data):
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _markdown_cell(value) -> str:
    return _cell(value).replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(report: dict) -> str:
    out = []
    for title, headings, rows in report_tables(report):
        lines = [f"### {title}", "", "| " + " | ".join(_markdown_cell(h) for h in headings) + " |"]
        lines.append("|" + "|".join(":---" if i < 2 else "---:" for i in range(len(headings))) + "|")
        lines += ["| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in rows]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


_GREEK = {"κ": r"$\kappa$", "α": r"$\alpha$"}  # the measures' symbols in headings


def latex_escape(text) -> str:
    return tables.latex_escape(text, extra=_GREEK)


def render_latex(report: dict) -> str:
    """Three booktabs tables (\\usepackage{booktabs}); empty cells are --."""
    out = []
    for n, (title, headings, rows) in enumerate(report_tables(report)):
        spec = "ll" + "r" * (len(headings) - 2) if n != 1 else "lll" + "r" * (len(headings) - 3)
        lines = [
            r"\begin{table}",
            r"  \centering",
            rf"  \caption{{{latex_escape(title)}}}",
            rf"  \label{{tab:agreement-{('rows', 'pairs', 'disagreements')[n]}}}",
            rf"  \begin{{tabular}}{{{spec}}}",
            r"    \toprule",
            "    " + " & ".join(latex_escape(h) for h in headings) + r" \\",
            r"    \midrule",
        ]
        lines += [
            "    " + " & ".join("--" if v is None else latex_escape(_cell(v)) for v in row) + r" \\" for row in rows
        ]
        lines += [r"    \bottomrule", r"  \end{tabular}", r"\end{table}"]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


RENDERERS = {
    "table": render_text,
    "csv": render_csv,
    "json": render_json,
    "latex": render_latex,
    "markdown": render_markdown,
}


def render(report: dict, fmt: str) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return RENDERERS[fmt](report)
