"""The participants table: per kind (interviewees, survey respondents) and role, how many, and the
minimum, median and maximum of their overall and deep-learning experience (years), plus how many
used each framework. Works on any objects with `kind`, `role`, `experience_years`,
`dl_experience_years` and `frameworks` attributes (the participant model or the spreadsheet reader's).
"""

from __future__ import annotations

import io
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core import csv_safe

KIND_ORDER = ("interviewee", "respondent", "")
ROLE_ORDER = ("researcher", "practitioner", "")
KIND_LABELS = {"interviewee": "Interviewees", "respondent": "Survey respondents", "": "Participants"}
ROLE_LABELS = {"researcher": "Researchers", "practitioner": "Practitioners", "": "Role not given", None: "All"}


def spread(values: Iterable[float | None]) -> tuple[float | None, float | None, float | None]:
    """(min, median, max) of the given values, None ones skipped; all None when there are none."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return None, None, None
    return known[0], statistics.median(known), known[-1]


@dataclass
class SummaryRow:
    kind: str
    role: str | None  # None = every role of the kind
    n: int
    experience: tuple
    dl_experience: tuple

    @property
    def label(self) -> str:
        return f"{KIND_LABELS.get(self.kind, self.kind)}: {ROLE_LABELS.get(self.role, self.role)}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "role": self.role if self.role is not None else "all",
            "n": self.n,
            "experience": dict(zip(("min", "median", "max"), self.experience, strict=True)),
            "dl_experience": dict(zip(("min", "median", "max"), self.dl_experience, strict=True)),
        }


def _order(values: Iterable[str], order: Sequence[str]) -> list[str]:
    present = set(values)
    return [v for v in order if v in present] + sorted(v for v in present if v not in order)


def participants_summary(participants: Sequence) -> list[SummaryRow]:
    """Per kind: one row per role present, then the kind's total."""
    rows = []
    for kind in _order(((p.kind or "") for p in participants), KIND_ORDER):
        of_kind = [p for p in participants if (p.kind or "") == kind]
        for role in _order(((p.role or "") for p in of_kind), ROLE_ORDER):
            group = [p for p in of_kind if (p.role or "") == role]
            rows.append(_row(kind, role, group))
        rows.append(_row(kind, None, of_kind))
    return rows


def _row(kind: str, role: str | None, group: Sequence) -> SummaryRow:
    return SummaryRow(
        kind=kind,
        role=role,
        n=len(group),
        experience=spread(p.experience_years for p in group),
        dl_experience=spread(p.dl_experience_years for p in group),
    )


def framework_counts(participants: Iterable) -> list[tuple[str, int]]:
    """(framework, participants using it), most used first, then by name."""
    counts = Counter(f for p in participants for f in dict.fromkeys(p.frameworks or []))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


HEADINGS = [
    "Participants",
    "Role",
    "n",
    "Experience min",
    "Experience median",
    "Experience max",
    "DL experience min",
    "DL experience median",
    "DL experience max",
]


def _number(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def summary_cells(rows: Sequence[SummaryRow]) -> list[list[str]]:
    return [
        [
            KIND_LABELS.get(r.kind, r.kind),
            ROLE_LABELS.get(r.role, r.role),
            str(r.n),
            *(_number(v) for v in r.experience),
            *(_number(v) for v in r.dl_experience),
        ]
        for r in rows
    ]


def render_csv(rows: Sequence[SummaryRow]) -> str:
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, lineterminator="\n")
    writer.writerow(HEADINGS)
    writer.writerows(summary_cells(rows))
    return buffer.getvalue()


def render_markdown(rows: Sequence[SummaryRow]) -> str:
    lines = ["| " + " | ".join(HEADINGS) + " |", "|:---|:---|" + "---:|" * (len(HEADINGS) - 2)]
    for cells in summary_cells(rows):
        lines.append("| " + " | ".join(c or "–" for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_json(rows: Sequence[SummaryRow], frameworks: Sequence[tuple[str, int]] = ()) -> str:
    data = {"rows": [r.as_dict() for r in rows], "frameworks": [{"name": n, "n": c} for n, c in frameworks]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
