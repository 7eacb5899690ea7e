"""What every reader of another tool's export returns, and the helpers they share.

A reader turns a file into an `ExchangeFile`:

- `rows`: one `ArtefactRow` per task/document — its `link` (the task's URL, or a
  stable identifier when it has none) and its flattened columns (`data.text`,
  `data.url`, `meta.source`, …), the candidates for the artefact fields;
- `ratings`: the annotations (and, separately marked, the predictions) found in
  the file, each with its evaluator and label(s), keyed by the row's link. They
  are never columns: keeping them makes an imported round, never a tag or any
  other field an evaluator sees while labelling;
- `flagged`: columns that look like labels or annotations (`label`,
  `annotation_id`, `sentiment` holding `{"choices": …}`, …). A preview shows them
  and asks; they are never guessed into a visible field.

Only the standard library: the Django side (mapping, preview, round import)
consumes these plain objects.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

# Column names that carry a label, an annotation or who made it, matched on the
# last segment of a flattened name, case- and separator-insensitively.
LABEL_LIKE = {
    "label",
    "labels",
    "tag",
    "tags",
    "annotation",
    "annotations",
    "annotationid",
    "annotator",
    "annotators",
    "completedby",
    "choice",
    "choices",
    "category",
    "categories",
    "class",
    "classification",
    "finaltag",
    "finallabel",
    "taxonomytag",
    "taxonomy",
    "verdict",
    "rating",
    "prediction",
    "predictions",
    "groundtruth",
    "sentiment",
    "cats",
    "entities",
    "relations",
}
# Keys of Label Studio result values: a dict holding one of them is an annotation.
RESULT_KEYS = {"choices", "taxonomy", "labels", "textarea", "rating", "number", "ranker", "pairwise"}

LINK_NAMES = ("url", "link", "href", "html_url", "permalink", "uri", "source_url", "web_url")
_HTTP = re.compile(r"^https?://\S+$", re.IGNORECASE)


@dataclass
class ArtefactRow:
    number: int  # 1-based position in the file (a line or row number when there is one)
    link: str
    values: dict[str, Any]
    link_synthesised: bool = False


@dataclass
class Rating:
    """One evaluator's answer on one task, as the other tool recorded it."""

    link: str
    evaluator: str
    labels: list[str]
    source: str = "annotation"  # "annotation" or "prediction"
    field_name: str = ""  # Label Studio's from_name, when known
    note: str = ""
    created_at: str = ""
    cancelled: bool = False
    paths: list[list[str]] = field(default_factory=list)  # taxonomy paths (Label Studio's taxonomy tag)


@dataclass
class ExchangeFile:
    tool: str  # "label-studio" or "doccano"
    format: str  # "json", "json-min", "csv", "jsonl", "zip"
    columns: list[str]
    rows: list[ArtefactRow]
    ratings: list[Rating] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)  # {"row": n, "problem": text}
    link_column: str | None = None

    @property
    def annotations(self) -> list[Rating]:
        return [r for r in self.ratings if r.source == "annotation"]

    @property
    def predictions(self) -> list[Rating]:
        return [r for r in self.ratings if r.source == "prediction"]

    @property
    def evaluators(self) -> list[str]:
        seen: dict[str, None] = {}
        for rating in self.ratings:
            if rating.source == "annotation":
                seen.setdefault(rating.evaluator, None)
        return list(seen)


class FormatError(ValueError):
    """The file is not in the format it claims (or no known format); nothing was read."""


def name_key(name: str) -> str:
    """`Annotation_ID`, `annotation id`, `data.annotation-id` -> `annotationid` (last segment)."""
    last = str(name).rsplit(".", 1)[-1]
    return re.sub(r"[^0-9a-z]", "", last.casefold())


def looks_like_label(name: str, values: list[Any] | None = None) -> bool:
    """A column that looks like a label/annotation: by its name, or by holding Label Studio result values."""
    if name_key(name) in LABEL_LIKE:
        return True
    return any(is_result_value(v) for v in values or [])


def is_result_value(value: Any) -> bool:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    return isinstance(value, dict) and bool(RESULT_KEYS & set(value))


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested dicts become dotted keys (`{"data": {"url": u}}` -> `{"data.url": u}`); lists stay values."""
    out = {} if out is None else out
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value
    return out


def is_http(value: Any) -> bool:
    return isinstance(value, str) and bool(_HTTP.match(value.strip()))


def find_link_column(columns: list[str], rows: list[dict[str, Any]]) -> str | None:
    """The column holding each task's link: a link-named column with URLs, else one whose values are all URLs."""

    def share(column: str) -> float:
        present = [r[column] for r in rows if r.get(column) not in (None, "")]
        if not present:
            return 0.0
        return sum(1 for v in present if is_http(v)) / len(present)

    named = [c for c in columns if c.rsplit(".", 1)[-1].casefold() in LINK_NAMES]
    named.sort(key=lambda c: (LINK_NAMES.index(c.rsplit(".", 1)[-1].casefold()), c.count(".")))
    for column in named:
        if share(column) >= 0.5:
            return column
    for column in columns:
        if not looks_like_label(column) and share(column) >= 0.9:
            return column
    return None


def stable_link(tool: str, *, ident: Any = None, content: str | None = None) -> str:
    """An identifier for a task without a link, stable across re-imports of the same export.

    `https://<tool>.invalid/…` (the .invalid top-level domain is reserved and never resolves,
    RFC 2606): the task's id when the export has one, else a SHA-256 of its content."""
    host = re.sub(r"[^a-z0-9-]", "-", tool.casefold()) + ".invalid"
    if ident not in (None, ""):
        key = re.sub(r"[^A-Za-z0-9._~-]", "-", str(ident))[:200]
        return f"https://{host}/id/{key}"
    digest = hashlib.sha256((content or "").encode("utf-8")).hexdigest()[:32]
    return f"https://{host}/sha256/{digest}"


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def split_labels(value: Any) -> list[str]:
    """A label cell: a list, a JSON list, `{"choices": […]}`, or text split on `#`, `;`, `|` or `,`."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return split_labels(json.loads(text))
            except ValueError:
                pass
        parts = re.split(r"[#;|]", text) if re.search(r"[#;|]", text) else text.split(",")
        return _unique(p.strip() for p in parts)
    if isinstance(value, dict):
        return result_labels(value)[0]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(split_labels(item) if isinstance(item, list | dict) else [text_of(item).strip()])
        return _unique(out)
    return _unique([text_of(value)])


def result_labels(value: dict) -> tuple[list[str], list[list[str]]]:
    """Labels (and taxonomy paths) of a Label Studio result value: choices, taxonomy, labels, textarea."""
    labels: list[str] = []
    paths: list[list[str]] = []
    for key in ("choices", "labels", "rectanglelabels", "polygonlabels", "hypertextlabels", "paragraphlabels"):
        if isinstance(value.get(key), list):
            labels.extend(text_of(v) for v in value[key])
    if isinstance(value.get("taxonomy"), list):
        for path in value["taxonomy"]:
            path = [text_of(p) for p in (path if isinstance(path, list) else [path])]
            if path:
                paths.append(path)
                labels.append(path[-1])
    text = value.get("text")
    if isinstance(text, list):
        labels.extend(text_of(v) for v in text)
    elif isinstance(text, str) and not labels:
        labels.append(text)
    if "rating" in value and not labels:
        labels.append(text_of(value["rating"]))
    return _unique(s.strip() for s in labels), paths


def _unique(items) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out
