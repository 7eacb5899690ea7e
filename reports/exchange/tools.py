"""Writing artefacts with their final labels for Label Studio (JSON) and doccano (JSONL).

- **Label Studio JSON**: a list of tasks in Label Studio's import format
  (https://labelstud.io/guide/task_format): `data` holds the artefact (`url`, `title`,
  `text`, `kind`, `framework`, `concord_id`), and a task with a final label carries it
  as one annotation whose result is a `choices` value of the control tag `label`
  pointing at the object tag `text`; `labelstudio_config` gives the matching labelling
  configuration (every label as a Choice). A verdict (false positive, generic, unclear)
  is kept as the choice of the control tag `verdict`.
- **doccano JSONL**: one document per line, `{"text", "label": [final label], …}`
  with the artefact's other fields as metadata keys at the top level, as doccano's
  import reads them.

Both are written as they come (`items` is any iterable of ExportItem), so memory stays
flat; key order is fixed so the same project gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO
from xml.sax.saxutils import quoteattr

FROM_NAME = "label"
VERDICT_NAME = "verdict"
TO_NAME = "text"


@dataclass
class ExportItem:
    id: int
    url: str
    title: str = ""
    body: str = ""
    kind: str = ""
    framework: str = ""
    labels: list[str] = field(default_factory=list)  # the final label(s); empty when none
    verdict: str = ""  # a final verdict instead of a label
    completed_by: str = ""  # who decided (the moderator or the agreeing evaluators), when known
    metadata: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(p for p in (self.title, self.body) if p) or self.url


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def labelstudio_task(item: ExportItem) -> dict:
    data = {
        "concord_id": item.id,
        "url": item.url,
        "title": item.title,
        "text": item.text,
        "kind": item.kind,
        "framework": item.framework,
    }
    if item.metadata:
        data["meta_info"] = item.metadata
    task: dict = {"data": data}
    result = []
    if item.labels:
        result.append(
            {
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "choices",
                "value": {"choices": list(item.labels)},
            }
        )
    if item.verdict:
        result.append(
            {"from_name": VERDICT_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [item.verdict]}}
        )
    if result:
        annotation: dict = {"result": result, "was_cancelled": False, "ground_truth": True}
        if item.completed_by:
            annotation["completed_by"] = {"email": item.completed_by}
        task["annotations"] = [annotation]
    return task


def write_labelstudio_json(items: Iterable[ExportItem], out: TextIO) -> int:
    """A JSON list of tasks, one per line inside the brackets. Returns how many were written."""
    count = 0
    out.write("[")
    for item in items:
        out.write(",\n" if count else "\n")
        out.write(_dumps(labelstudio_task(item)))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def labelstudio_config(labels: Iterable[str], verdicts: Iterable[str] = ()) -> str:
    """The labelling configuration matching the tasks: the text, a Choices per label, one per verdict."""
    lines = ["<View>", f'  <Text name="{TO_NAME}" value="$text"/>']
    lines.append(f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple">')
    lines.extend(f"    <Choice value={quoteattr(label)}/>" for label in sorted(set(labels)))
    lines.append("  </Choices>")
    verdicts = sorted(set(verdicts))
    if verdicts:
        lines.append(f'  <Choices name="{VERDICT_NAME}" toName="{TO_NAME}" choice="single">')
        lines.extend(f"    <Choice value={quoteattr(v)}/>" for v in verdicts)
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def doccano_document(item: ExportItem) -> dict:
    document = {
        "id": item.id,
        "text": item.text,
        "label": list(item.labels) or ([item.verdict] if item.verdict else []),
    }
    document.update({"url": item.url, "kind": item.kind, "framework": item.framework})
    for key, value in item.metadata.items():
        document.setdefault(key, value)
    return document


def write_doccano_jsonl(items: Iterable[ExportItem], out: TextIO) -> int:
    count = 0
    for item in items:
        out.write(_dumps(doccano_document(item)) + "\n")
        count += 1
    return count
