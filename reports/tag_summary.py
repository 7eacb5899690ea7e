"""The tag summary of the study: per tag (a leaf of the taxonomy, or an interview tag joining none),
its count as the paper writes it, NN+MM (NN relevant artefacts, MM accepted interview tags), and how
many of its interview tags the final review accepted and removed. In taxonomy order, then the tags
joining no leaf by text. Downloads: CSV, XLSX, Markdown, JSON."""

from __future__ import annotations

import json

from core import tables
from interviews.selectors import final_tag_statuses
from taxonomy.selectors import tree_build

HEADINGS = ["Code", "Tag", "Count (NN+MM)", "Artefacts (NN)", "Interviews (MM)", "Accepted", "Removed"]


def tag_summary(project) -> list[dict]:
    tree = tree_build(project)
    statuses = final_tag_statuses(project=project)
    by_leaf = {g["leaf"]: g for g in statuses if g["leaf"]}
    rows = []
    for entry in tree.walk():
        if not entry.is_leaf:
            continue
        review = by_leaf.get(entry.id, {})
        parent = tree.nodes.get(entry.parent_id)
        rows.append(
            _row(parent.code if parent else "", entry.name, entry.artefact_count, entry.interview_count, review)
        )
    for group in sorted((g for g in statuses if not g["leaf"]), key=lambda g: g["text"].casefold()):
        rows.append(_row("", group["text"], 0, group["accepted"], group))
    return rows


def _row(code: str, tag: str, nn: int, mm: int, review: dict) -> dict:
    return {
        "code": code,
        "tag": tag,
        "count": f"{nn}+{mm}",
        "artefacts": nn,
        "interviews": mm,
        "accepted": review.get("accepted", 0),
        "removed": review.get("removed", 0),
    }


def cells(rows: list[dict]) -> list[list]:
    keys = ("code", "tag", "count", "artefacts", "interviews", "accepted", "removed")
    return [[row[k] for k in keys] for row in rows]


def render(rows: list[dict], fmt: str) -> tuple[bytes, str, str]:
    if fmt == "csv":
        return tables.render_csv(HEADINGS, cells(rows)).encode(), "text/csv; charset=utf-8", "csv"
    if fmt == "markdown":
        return tables.render_markdown(HEADINGS, cells(rows), left=3).encode(), "text/markdown; charset=utf-8", "md"
    if fmt == "xlsx":
        content = tables.render_xlsx("Tags", HEADINGS, cells(rows), widths=[8, 48, 14, 14, 15, 10, 10])
        return content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    return (json.dumps({"rows": rows}, indent=2, ensure_ascii=False) + "\n").encode(), "application/json", "json"


FORMATS = ("csv", "xlsx", "markdown", "json")
