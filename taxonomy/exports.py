"""The taxonomy as files: JSON (the documented shape), CSV (path, level, counts) and SVG.

JSON: ``{"nodes": [{"name", "code", "description", "artefact_count", "interview_count",
"children": [...]}], "unmapped": [...]}``. ``nodes`` holds the real top-level categories only;
leaves have ``children: []``; labels (or interview tags) no leaf carries are listed in
``unmapped``. Each entry also says its ``kind`` ("node" or "leaf") and the ``round`` (number)
it was created in, so that an import of the file rebuilds the same tree and history. Names are
written exactly as stored.

QDC: the REFI-QDA codebook (collection.formats.refiqda): every category and leaf a code
nested as in the tree, descriptions kept, a colour per top-level category, GUIDs stable.
"""

from __future__ import annotations

import io
import json

from collection.formats.refiqda import Code, codebook_xml
from core import csv_safe
from core.models import Project
from taxonomy import selectors
from taxonomy.selectors import Entry, Filters, Tree
from taxonomy.svg import figure_svg

FORMATS = ("json", "csv", "svg", "qdc")
CONTENT_TYPES = {
    "qdc": "application/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
}
PATH_SEPARATOR = " > "


def entry_dict(entry: Entry) -> dict:
    return {
        "name": entry.name,
        "code": entry.code,
        "description": entry.description,
        "artefact_count": entry.artefact_count,
        "interview_count": entry.interview_count,
        "kind": entry.kind,
        "round": entry.round_number,
        "children": [] if entry.is_leaf else [entry_dict(item) for item in entry.items],
    }


def taxonomy_dict(tree: Tree, unmapped: list[selectors.Unmapped]) -> dict:
    return {
        "nodes": [entry_dict(root) for root in tree.roots],
        "unmapped": [
            {"name": u.name, "artefact_count": u.artefact_count, "interview_count": u.interview_count} for u in unmapped
        ],
    }


def taxonomy_json(tree: Tree, unmapped) -> str:
    return json.dumps(taxonomy_dict(tree, unmapped), ensure_ascii=False, indent=2) + "\n"


CSV_HEADER = ["path", "level", "kind", "code", "artefact_count", "interview_count", "round"]


def taxonomy_csv(tree: Tree, unmapped) -> str:
    """One row per category and leaf, in tree order; unmapped labels last (kind "unmapped", level 0)."""
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for entry in tree.walk():
        writer.writerow(
            [
                PATH_SEPARATOR.join(e.name for e in tree.path(entry)),
                entry.depth,
                entry.kind,
                entry.code,
                entry.artefact_count,
                entry.interview_count,
                entry.round_number if entry.round_number is not None else "",
            ]
        )
    for u in unmapped:
        writer.writerow([u.name, 0, "unmapped", "", u.artefact_count, u.interview_count, ""])
    return out.getvalue()


def export(project: Project, fmt: str, *, filters: Filters | None = None) -> str:
    """The project's taxonomy in `fmt` (json, csv or svg), counted under `filters`."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; choose {', '.join(FORMATS)}.")
    tree = selectors.tree_build(project, filters=filters)
    if fmt == "qdc":
        return codebook_xml(taxonomy_codes(tree), project=project.slug).decode("utf-8")
    if fmt == "svg":
        return figure_svg(tree, standalone=True)
    unmapped = selectors.unmapped_labels(project, filters)
    return taxonomy_json(tree, unmapped) if fmt == "json" else taxonomy_csv(tree, unmapped)


def _code(entry: Entry, path: tuple[str, ...]) -> Code:
    """A node or leaf as a REFI-QDA code; its GUID derives from its path of names (the same in any database)."""
    path = (*path, entry.name)
    key = f"{entry.kind}:" + "\x1f".join(path)
    code = Code(name=entry.name, key=key, description=entry.description or "", codable=True)
    if not entry.is_leaf:
        code.children = [_code(item, path) for item in entry.items]
    return code


def taxonomy_codes(tree: Tree) -> list[Code]:
    """The taxonomy as a REFI-QDA code tree: categories with their sub-categories, then their leaves (labels)."""
    return [_code(root, ()) for root in tree.roots]


def filename(project: Project, fmt: str) -> str:
    return f"{project.slug}-taxonomy.{fmt}"
