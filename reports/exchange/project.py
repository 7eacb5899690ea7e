"""Exports of a project for other tools: REFI-QDA project (.qdpx), Label Studio JSON, doccano JSONL.

Each artefact is written once with its final decision: the decided item of its latest round
(final label, else final verdict); an artefact never decided is written without a label.
Everything streams: artefacts are read in batches, in id order, so memory stays flat.

The .qdpx holds the users (the project's members), the codebook (the taxonomy as
`export_taxonomy --format qdc` writes it, plus — under "Labels outside the taxonomy", not
codable — the final labels no leaf carries), the interview transcripts as text sources with
their accepted final tags as plain-text selections (the piece's character offsets, coded
with the tag's leaf, else its label code), and the artefacts as text sources (title and
body as plain text) coded with their final label over the whole text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from django.db.models import Q
from django.utils.html import strip_tags

from collection.formats.refiqda import Code, assign_guids
from collection.models import Artefact
from core.models import Membership, Project
from core.text import normalise_label
from interviews.models import FinalTag, Interview
from labelling.models import RoundItem
from reports.exchange.qdpx import QdaSelection, QdaSource, QdaUser, write_qdpx
from reports.exchange.tools import ExportItem, labelstudio_config, write_doccano_jsonl, write_labelstudio_json
from taxonomy import selectors as taxonomy_selectors
from taxonomy.exports import taxonomy_codes

FORMATS = ("label-studio", "doccano", "qdpx")
CONTENT_TYPES = {
    "label-studio": "application/json; charset=utf-8",
    "doccano": "application/x-ndjson; charset=utf-8",
    "qdpx": "application/zip",
}
EXTENSIONS = {"label-studio": "label-studio.json", "doccano": "doccano.jsonl", "qdpx": "qdpx"}
BATCH = 2000
UNPLACED = "Labels outside the taxonomy"


def _final_decisions(project: Project, artefact_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """{artefact id: (final label, final verdict, who decided)} from the decided item of its latest round."""
    out: dict[int, tuple[str, str, str]] = {}
    items = (
        RoundItem.objects.filter(round__project=project, artefact_id__in=artefact_ids, status__in=RoundItem.DECIDED)
        .filter(Q(final_label__isnull=False) | ~Q(final_verdict=""))
        .order_by("artefact_id", "-round__number")
        .values_list("artefact_id", "final_label__name", "final_verdict", "resolved_by__username")
    )
    for artefact_id, label, verdict, resolver in items:
        out.setdefault(artefact_id, (label or "", verdict or "", resolver or ""))
    return out


def export_items(project: Project) -> Iterator[ExportItem]:
    """Every artefact of the project with its final decision, in id order, read in batches."""
    last = 0
    fields = ("id", "url", "title", "body", "kind", "framework", "metadata")
    while True:
        rows = list(Artefact.objects.filter(project=project, id__gt=last).order_by("id").values_list(*fields)[:BATCH])
        if not rows:
            return
        decisions = _final_decisions(project, [r[0] for r in rows])
        for pk, url, title, body, kind, framework, metadata in rows:
            label, verdict, resolver = decisions.get(pk, ("", "", ""))
            yield ExportItem(
                id=pk,
                url=url,
                title=title,
                body=strip_tags(body or ""),
                kind=kind,
                framework=framework,
                labels=[label] if label else [],
                verdict=verdict,
                completed_by=resolver,
                metadata=metadata if isinstance(metadata, dict) else {},
            )
        last = rows[-1][0]


def export_labelstudio(project: Project, out: TextIO) -> int:
    return write_labelstudio_json(export_items(project), out)


def export_doccano(project: Project, out: TextIO) -> int:
    return write_doccano_jsonl(export_items(project), out)


def labelstudio_project_config(project: Project) -> str:
    labels = (
        RoundItem.objects.filter(round__project=project, final_label__isnull=False)
        .values_list("final_label__name", flat=True)
        .distinct()
    )
    verdicts = (
        RoundItem.objects.filter(round__project=project)
        .exclude(final_verdict="")
        .values_list("final_verdict", flat=True)
    )
    return labelstudio_config(labels, set(verdicts))


# --- REFI-QDA project --------------------------------------------------------------------------


def _codebook(project: Project) -> tuple[list[Code], dict[str, str], dict[int, str]]:
    """(codes, {normalised label: code guid}, {leaf id: code guid}) — leaf codes first, then unplaced labels."""
    tree = taxonomy_selectors.tree_build(project)
    codes = taxonomy_codes(tree)
    assign_guids(codes, project=project.slug)
    by_label: dict[str, str] = {}
    by_leaf: dict[int, str] = {}

    def visit(entries, code_list):
        for entry, code in zip(entries, code_list, strict=True):
            if entry.is_leaf:
                by_leaf[entry.id] = code.guid
                by_label.setdefault(normalise_label(entry.name), code.guid)
            else:
                visit(entry.items, code.children)

    visit(tree.roots, codes)
    extra = []
    labels = (
        RoundItem.objects.filter(round__project=project, final_label__isnull=False)
        .values_list("final_label__name", flat=True)
        .distinct()
        .order_by("final_label__name")
    )
    tags = FinalTag.objects.filter(interview__project=project, status=FinalTag.Status.ACCEPTED, leaf__isnull=True)
    for name in [*labels, *tags.values_list("text", flat=True).distinct().order_by("text")]:
        key = normalise_label(name)
        if key and key not in by_label:
            code = Code(name=name, key=f"label:{key}")
            extra.append(code)
            by_label[key] = ""
    if extra:
        group = Code(name=UNPLACED, key="group:unplaced", codable=False, children=extra)
        assign_guids([group], project=project.slug)
        for code in extra:
            by_label[normalise_label(code.name)] = code.guid
        codes.append(group)
    return codes, by_label, by_leaf


def _interview_sources(project: Project, by_label, by_leaf) -> Iterator[QdaSource]:
    interviews = Interview.objects.filter(project=project).exclude(text="").order_by("number")
    for interview in interviews.iterator(chunk_size=50):
        tags = (
            FinalTag.objects.filter(interview=interview, status=FinalTag.Status.ACCEPTED)
            .select_related("piece", "reviewed_by", "edited_by")
            .order_by("piece__position")
        )
        selections = []
        for tag in tags:
            piece = tag.piece
            if piece.start is None or piece.end is None or piece.end > len(interview.text):
                continue
            guid = by_leaf.get(tag.leaf_id) if tag.leaf_id else by_label.get(normalise_label(tag.text))
            if not guid:
                continue
            who = tag.reviewed_by or tag.edited_by
            selections.append(
                QdaSelection(
                    start=piece.start, end=piece.end, code_guids=[guid], user_key=who.username if who else None
                )
            )
        yield QdaSource(
            key=f"interview:{interview.number}",
            name=f"Interview {interview.number}" + (f": {interview.title}" if interview.title else ""),
            text=interview.text,
            description=interview.interviewee_profile,
            selections=selections,
        )


def _artefact_sources(project: Project, by_label) -> Iterator[QdaSource]:
    for item in export_items(project):
        text = item.text
        selections = []
        guid = by_label.get(normalise_label(item.labels[0])) if item.labels else None
        if guid and text:
            selections.append(
                QdaSelection(start=0, end=len(text), code_guids=[guid], user_key=item.completed_by or None)
            )
        yield QdaSource(
            key=f"artefact:{item.url}", name=item.url, text=text, description=item.url, selections=selections
        )


def export_qdpx(project: Project, target: BinaryIO | str) -> dict:
    codes, by_label, by_leaf = _codebook(project)
    members = Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    users = [QdaUser(key=m.user.username, name=m.user.get_full_name() or m.user.username) for m in members]
    known = {u.key for u in users}

    def sources():
        for source in _interview_sources(project, by_label, by_leaf):
            yield _known_users(source, known)
        for source in _artefact_sources(project, by_label):
            yield _known_users(source, known)

    return write_qdpx(target, project=project.slug, name=project.name, users=users, codes=codes, sources=sources)


def _known_users(source: QdaSource, known: set[str]) -> QdaSource:
    for selection in source.selections:
        if selection.user_key not in known:
            selection.user_key = None
    return source


def export_bytes(project: Project, fmt: str) -> bytes:
    """The whole export in memory (pages and the API); commands stream to a file instead."""
    if fmt == "qdpx":
        buf = io.BytesIO()
        export_qdpx(project, buf)
        return buf.getvalue()
    text = io.StringIO()
    (export_labelstudio if fmt == "label-studio" else export_doccano)(project, text)
    return text.getvalue().encode("utf-8")


def filename(project: Project, fmt: str) -> str:
    return f"{project.slug}.{EXTENSIONS[fmt]}"
