"""Read the study's participant spreadsheets (interviewees, survey respondents), headers tolerated.

A sheet (XLSX, every sheet; or CSV) has one participant per row. Its header row is the first of
its first ten rows naming at least two known columns; header names are compared ignoring case,
spacing and punctuation, with synonyms:

- id: ID, Participant, Interviewee, Respondent, P#, Code, Interview (number), Response ID
- role: Role, Position, Occupation, Job, Profession, Background, Affiliation, Sector
- experience: Experience, Overall experience, Years of experience, Programming experience
- DL experience: any header naming deep learning / DL / ML / machine learning and experience or years
- frameworks: Framework(s), Libraries, Tools
- kind: Kind, Type, Group (interviewee / respondent)

A participant's kind comes from its `kind` column, else from the sheet's title (…interview… ->
interviewee, …survey… / …respondent… -> respondent), else from the caller's default. Roles map
to "researcher" (research, academia, professor, PhD, student, postdoc, lecturer, scientist in
academia) or "practitioner" (developer, engineer, industry, practitioner, data scientist,
consultant, manager, architect); the text as written is kept too. Years read as in
validation.qualtrics.years ("5", "5 years", "3-5", "10+", "6 months"). Empty, "-" and "None"
cells are not given.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import openpyxl

from validation.qualtrics import ExportError, answer_value, cell_text, csv_rows, norm, split_list, years

INTERVIEWEE, RESPONDENT = "interviewee", "respondent"
RESEARCHER, PRACTITIONER = "researcher", "practitioner"

HEADERS = {
    "id": {
        "id",
        "participant",
        "participantid",
        "interviewee",
        "respondent",
        "respondentid",
        "p",
        "pid",
        "code",
        "interview",
        "interviewnum",
        "interviewnumber",
        "interviewno",
        "responseid",
        "no",
        "number",
    },
    "role": {"role", "position", "occupation", "job", "jobtitle", "profession", "background", "affiliation", "sector"},
    "experience": {
        "experience",
        "overallexperience",
        "yearsofexperience",
        "experienceyears",
        "totalexperience",
        "programmingexperience",
        "softwareexperience",
        "years",
    },
    "frameworks": {"framework", "frameworks", "frameworksused", "libraries", "library", "tools", "dlframeworks"},
    "kind": {"kind", "type", "group", "participanttype"},
}
DL = re.compile(r"deeplearning|^dl|dl$|dl(?:experience|years)|machinelearning|^ml|mlexperience|neural")
RESEARCH = re.compile(r"research|academ|professor|phd|student|postdoc|lecturer|university|scholar", re.I)
PRACTICE = re.compile(
    r"develop|engineer|industr|practi|data scientist|consultant|manager|architect|company|lead|cto", re.I
)
CANONICAL_FRAMEWORKS = {
    "tensorflow": "TensorFlow",
    "tf": "TensorFlow",
    "keras": "Keras",
    "pytorch": "PyTorch",
    "torch": "PyTorch",
    "scikitlearn": "scikit-learn",
    "sklearn": "scikit-learn",
    "caffe": "Caffe",
    "theano": "Theano",
    "mxnet": "MXNet",
    "jax": "JAX",
}


@dataclass
class Participant:
    id: str
    kind: str = ""  # interviewee / respondent / ""
    role: str = ""  # researcher / practitioner / ""
    role_text: str = ""
    experience_years: float | None = None
    dl_experience_years: float | None = None
    frameworks: list[str] = field(default_factory=list)
    sheet: str = ""
    row: int = 0


def role_of(text: str | None) -> str:
    """researcher, practitioner or "" (both or neither named)."""
    if not text:
        return ""
    research, practice = bool(RESEARCH.search(text)), bool(PRACTICE.search(text))
    if research and not practice:
        return RESEARCHER
    if practice and not research:
        return PRACTITIONER
    return ""


def kind_of(text: str | None) -> str:
    value = (text or "").lower()
    if "interview" in value:
        return INTERVIEWEE
    if "survey" in value or "respond" in value or "questionnaire" in value:
        return RESPONDENT
    return ""


def framework_names(text: str | None) -> list[str]:
    names, seen = [], set()
    for name in split_list(text):
        canonical = CANONICAL_FRAMEWORKS.get(norm(name), name)
        if canonical.lower() not in seen:
            seen.add(canonical.lower())
            names.append(canonical)
    return names


def header_field(header: str) -> str | None:
    name = norm(header)
    if not name:
        return None
    if DL.search(name) and ("exp" in name or "year" in name or name in {"dl", "ml", "deeplearning"}):
        return "dl_experience"
    for field_name, names in HEADERS.items():
        if name in names:
            return field_name
    if "experience" in name:
        return "experience"
    if "framework" in name or "librar" in name:
        return "frameworks"
    return None


def _header_row(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:10]):
        fields: dict[str, int] = {}
        for column, value in enumerate(row):
            found = header_field(cell_text(value))
            if found and found not in fields:
                fields[found] = column
        if len(fields) >= 2:
            return index, fields
    return None


def _participant(row: list, fields: dict[str, int], *, sheet: str, number: int, default_kind: str):
    def get(name):
        column = fields.get(name)
        return answer_value(row[column]) if column is not None and column < len(row) else None

    role_text = get("role") or ""
    return Participant(
        id=get("id") or f"{sheet or 'row'}-{number}",
        kind=kind_of(get("kind")) or kind_of(sheet) or default_kind,
        role=role_of(role_text),
        role_text=role_text,
        experience_years=years(get("experience")),
        dl_experience_years=years(get("dl_experience")),
        frameworks=framework_names(get("frameworks")),
        sheet=sheet,
        row=number,
    )


def read_sheet(rows: list[list], *, sheet: str = "", default_kind: str = "") -> list[Participant]:
    found = _header_row(rows)
    if found is None:
        return []
    header, fields = found
    participants = []
    for offset, row in enumerate(rows[header + 1 :], start=header + 2):
        if not any(cell_text(v) for v in row):
            continue
        participants.append(_participant(list(row), fields, sheet=sheet, number=offset, default_kind=default_kind))
    return participants


def read_participants(data: bytes, filename: str = "", *, default_kind: str = "") -> list[Participant]:
    """Every participant of every sheet that has a recognisable header row; ExportError when none."""
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds on a damaged file
            raise ExportError(f"Not a readable XLSX file ({error.__class__.__name__}).") from None
        try:
            sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in workbook.worksheets]
        finally:
            workbook.close()
    else:
        sheets = [("", csv_rows(data))]
    participants = []
    for title, rows in sheets:
        participants += read_sheet(rows, sheet=title, default_kind=default_kind)
    if not participants:
        raise ExportError(
            "No participants found: no sheet has a header row naming an id, role, experience or frameworks column."
        )
    return participants
