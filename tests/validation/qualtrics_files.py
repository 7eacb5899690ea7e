"""Qualtrics-shaped survey exports written the way each layout lays them out (for the import tests).

`SurveyRows` holds what respondents answered (per category: encountered, severity, effort; None
= skipped) and writes it as a Qualtrics export with question text + ImportId rows, with three
header rows (ids, text, ImportId), in the legacy layout (V1.. ids, then labels), or as a plain
CSV, in CSV or XLSX. Skipped answers are written as empty cells or as "None", alternating.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field

import openpyxl

ENCOUNTERED = ("Yes", "No")
SEVERITY = ("Minor", "Major", "Critical")
EFFORT = ("Low", "Medium", "High")
QUESTIONS = {
    "encountered": "Have you ever encountered this problem?",
    "severity": "How severe was it?",
    "effort": "How much effort did it take to fix?",
}


@dataclass
class Answerer:
    id: str
    date: str
    experience: str
    frameworks: str
    answers: dict[str, tuple]  # group name -> (encountered, severity, effort)


@dataclass
class SurveyRows:
    groups: list[str]
    respondents: list[Answerer] = field(default_factory=list)

    @classmethod
    def random(cls, groups: list[str], n: int, seed: int, skip: float = 0.15) -> SurveyRows:
        rng = random.Random(seed)
        rows = cls(groups=groups)
        for i in range(n):
            answers = {}
            for group in groups:
                seen = rng.choice(ENCOUNTERED) if rng.random() > skip else None
                severity = rng.choice(SEVERITY) if seen == "Yes" and rng.random() > skip else None
                effort = rng.choice(EFFORT) if seen == "Yes" and rng.random() > skip else None
                answers[group] = (seen, severity, effort)
            rows.respondents.append(
                Answerer(
                    id=f"R_{seed}x{i:03d}",
                    date=f"2019-0{1 + i % 9}-1{i % 10} 10:{i % 60:02d}:00",
                    experience=str(1 + i % 12),
                    frameworks=rng.choice(["Keras, TensorFlow", "PyTorch", "TensorFlow; scikit-learn"]),
                    answers=answers,
                )
            )
        return rows

    def cell(self, value, n: int):
        if value is not None:
            return value
        return "" if n % 2 else "None"

    def data_rows(self) -> list[list]:
        out = []
        for r in self.respondents:
            row = [r.date, r.date, "IP Address", "100", "True", r.date, r.id, r.experience, r.frameworks]
            for g, group in enumerate(self.groups):
                for f, value in enumerate(r.answers[group]):
                    row.append(self.cell(value, g + f))
            out.append(row)
        return out

    # --- header rows per layout

    def ids(self) -> list[str]:
        ids = ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId", "Q2", "Q3"]
        for g in range(len(self.groups)):
            ids += [f"Q{10 + g}_1", f"Q{10 + g}_2", f"Q{10 + g}_3"]
        return ids

    def texts(self) -> list[str]:
        texts = [
            "Start Date",
            "End Date",
            "Response Type",
            "Progress",
            "Finished",
            "Recorded Date",
            "Response ID",
            "How many years of experience do you have in software development?",
            "Which deep learning frameworks have you used?",
        ]
        for group in self.groups:
            texts += [f"{group} - {QUESTIONS[facet]}" for facet in ("encountered", "severity", "effort")]
        return texts

    def import_ids(self) -> list[str]:
        ids = [
            {"ImportId": "startDate", "timeZone": "America/Denver"},
            {"ImportId": "endDate", "timeZone": "America/Denver"},
            {"ImportId": "status"},
            {"ImportId": "progress"},
            {"ImportId": "finished"},
            {"ImportId": "recordedDate", "timeZone": "America/Denver"},
            {"ImportId": "_recordId"},
            {"ImportId": "QID2_TEXT"},
            {"ImportId": "QID3_TEXT"},
        ]
        for g in range(len(self.groups)):
            ids += [{"ImportId": f"QID{10 + g}_{k}"} for k in (1, 2, 3)]
        return [json.dumps(i) for i in ids]

    def rows(self, layout: str) -> list[list]:
        if layout == "text+importid":
            header = [self.texts(), self.import_ids()]
        elif layout == "three-row":
            header = [self.ids(), self.texts(), self.import_ids()]
        elif layout == "legacy":
            legacy_ids = [f"V{i}" for i in range(1, 8)] + self.ids()[7:]
            labels = ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseID"]
            header = [legacy_ids, labels + self.texts()[7:]]
        elif layout == "plain":
            plain = [
                "StartDate",
                "EndDate",
                "Status",
                "Progress",
                "Finished",
                "Date",
                "Respondent",
                "Years of experience",
            ]
            plain.append("Frameworks")
            for group in self.groups:
                plain += [f"{group} encountered", f"{group} severity", f"{group} effort"]
            header = [plain]
        else:
            raise ValueError(layout)
        return header + self.data_rows()


def as_csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet0"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
