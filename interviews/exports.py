"""Exports: the coding sheet in the study's layout, and transcripts (optionally pseudonymised)."""

from __future__ import annotations

import json
import re

from interviews.models import FinalTag, Interview, Paragraph, Piece
from interviews.parsers import _LIKELY_SPEAKER
from interviews.sheets import write_csv, write_xlsx

STATUS_CELL = {FinalTag.Status.ACCEPTED: "A", FinalTag.Status.REMOVED: "R", FinalTag.Status.PENDING: ""}


def _with_history(history: list[str], current: str) -> str:
    """`a -> b` for a value that changed from a to b (the sheet's own notation)."""
    chain: list[str] = []
    for value in [*history, current]:
        if value and (not chain or chain[-1] != value):
            chain.append(value)
    return " -> ".join(chain)


def coding_sheet_rows(*, project, numbers: list[int] | None = None) -> list[list]:
    """One row per tagged piece: Interview Num, Evaluator 1, Evaluator 2, Moderator Tag, Tag, Status.
    Empty cells are written as `-`, as in the study's sheet; a piece not moderated yet has a blank status."""
    pieces = Piece.objects.filter(interview__project=project).select_related("interview", "final_tag")
    if numbers:
        pieces = pieces.filter(interview__number__in=numbers)
    rows = []
    for piece in pieces.defer("interview__text").order_by("interview__number", "position"):
        final = getattr(piece, "final_tag", None)
        moderator = _with_history(
            [h["moderator_tag"] for h in piece.history if h.get("moderator_tag")], piece.moderator_tag
        )
        if piece.decision == Piece.Decision.KEPT and final is not None:
            tag = _with_history([h["text"] for h in final.history if h.get("text")], final.text)
            status = STATUS_CELL[final.status]
        elif piece.decision == Piece.Decision.NOT_KEPT:
            tag, status = "", "-"
        else:
            tag, status = "", ""
        rows.append(
            [
                piece.interview.number,
                piece.evaluator1_tag or "-",
                piece.evaluator2_tag or "-",
                moderator or "-",
                tag or "-",
                status,
            ]
        )
    return rows


def coding_sheet(*, project, fmt: str = "xlsx", numbers: list[int] | None = None) -> bytes:
    rows = coding_sheet_rows(project=project, numbers=numbers)
    return write_xlsx(rows) if fmt == "xlsx" else write_csv(rows)


# --- transcripts --------------------------------------------------------------------------------


def speaker_pseudonyms(names: list[str]) -> dict[str, str]:
    """Role-like names (Interviewer1, Interviewee, Speaker 2, P3…) stay; every other name becomes
    "Participant N" in order of first appearance."""
    mapping, n = {}, 0
    for name in names:
        if name in mapping or not name:
            continue
        compact = re.sub(r"[\s_\-]+", "", name)
        if _LIKELY_SPEAKER.match(name) or _LIKELY_SPEAKER.match(compact) or name.startswith("Speaker ("):
            mapping[name] = name
        else:
            n += 1
            mapping[name] = f"Participant {n}"
    return mapping


def _pseudonymise_text(text: str, mapping: dict[str, str]) -> str:
    """Speaker names (and their first and last names of 3+ letters) replaced in running text."""
    replacements: dict[str, str] = {}
    for name, pseudonym in mapping.items():
        if name == pseudonym:
            continue
        replacements[name] = pseudonym
        for part in re.findall(r"[^\W\d_]{3,}", name):
            replacements.setdefault(part, pseudonym)
    if not replacements:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(replacements, key=len, reverse=True)) + r")\b")
    return pattern.sub(lambda m: replacements[m.group(1)], text)


def transcript_document(*, interview: Interview, pseudonymise: bool = False) -> dict:
    """The interview's details and paragraphs as a plain structure (the JSON export)."""
    text = interview.text
    rows = [
        {"speaker": p.speaker, "text": text[p.start : p.end], "start_time": p.start_time}
        for p in Paragraph.objects.filter(interview=interview).order_by("position")
    ]
    interviewers = interview.interviewers
    if pseudonymise:
        mapping = speaker_pseudonyms([r["speaker"] for r in rows])
        for row in rows:
            row["speaker"] = mapping.get(row["speaker"], row["speaker"])
            row["text"] = _pseudonymise_text(row["text"], mapping)
        interviewers = "[withheld]" if interviewers else ""
    offset = 0
    for row in rows:
        row["start"], row["end"] = offset, offset + len(row["text"])
        offset = row["end"] + 2
    return {
        "number": interview.number,
        "title": interview.title,
        "interviewee_profile": interview.interviewee_profile,
        "interviewers": interviewers,
        "date": interview.date.isoformat() if interview.date else None,
        "duration_minutes": round(interview.duration.total_seconds() / 60, 1) if interview.duration else None,
        "pseudonymised": pseudonymise,
        "speakers": list(dict.fromkeys(r["speaker"] for r in rows if r["speaker"])),
        "paragraphs": rows,
    }


def transcript_export(*, interview: Interview, fmt: str = "txt", pseudonymise: bool = False) -> tuple[bytes, str]:
    """(content, content type) of a transcript download in txt, md or json."""
    doc = transcript_document(interview=interview, pseudonymise=pseudonymise)
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2).encode(), "application/json"
    blocks = []
    if fmt == "md":
        front = ["---", f"number: {doc['number']}"]
        for key in ("title", "interviewee_profile", "interviewers", "date"):
            if doc[key]:
                front.append(f"{key}: {' '.join(str(doc[key]).split())}")
        if doc["duration_minutes"]:
            front.append(f"duration: {doc['duration_minutes']:g} min")
        front.append("---")
        blocks.append("\n".join(front))
        blocks += [f"**{p['speaker']}:** {p['text']}" if p["speaker"] else p["text"] for p in doc["paragraphs"]]
        return ("\n\n".join(blocks) + "\n").encode(), "text/markdown; charset=utf-8"
    blocks += [f"{p['speaker']}: {p['text']}" if p["speaker"] else p["text"] for p in doc["paragraphs"]]
    return ("\n\n".join(blocks) + "\n").encode(), "text/plain; charset=utf-8"
