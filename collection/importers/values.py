"""Reading single cells of working spreadsheets: tags, verdicts, codes, entity types, links.

Conventions (documented for leads in the import page too):

- Blank and `-` (any run of dashes) mean none.
- `a -> b` (also `a → b`, `a => b`) records a change from a to b: b is current, a is
  kept as history. An arrow inside a word (`float->int`) is text, not a change.
- Verdicts — false positive, generic, unclear — are recognised whatever their case,
  with typing errors (`false positve`, `uncler`), doubled (`generic generic`,
  `false positive / false positive`), with common synonyms (`general`, `FP`,
  `not clear`) and with a qualifier (`false positive (refactoring)`,
  `generic: too broad`); the qualifier becomes the annotation's note. Verdicts are
  never labels, so they never become taxonomy leaves.
- Category codes come as numbers (3, 4.1) or text ("4.2.1"). A number is read as
  written; a text code keeps its digits, so "4.10" and 4.1 are different codes.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from collection.importers.reading import cell_text
from collection.models import Artefact

# --- verdicts ------------------------------------------------------------------------------


# --- other cells --------------------------------------------------------------------------


KIND_WORDS = {
    "so": Artefact.Kind.SO_QUESTION,
    "stackoverflow": Artefact.Kind.SO_QUESTION,
    "stack": Artefact.Kind.SO_QUESTION,
    "overflow": Artefact.Kind.SO_QUESTION,
    "question": Artefact.Kind.SO_QUESTION,
    "questions": Artefact.Kind.SO_QUESTION,
    "issue": Artefact.Kind.GH_ISSUE,
    "issues": Artefact.Kind.GH_ISSUE,
    "gh": None,
    "github": None,
    "git": None,
    "pr": Artefact.Kind.GH_PULL,
    "prs": Artefact.Kind.GH_PULL,
    "pull": Artefact.Kind.GH_PULL,
    "pulls": Artefact.Kind.GH_PULL,
    "request": None,
    "requests": None,
    "commit": Artefact.Kind.GH_COMMIT,
    "commits": Artefact.Kind.GH_COMMIT,
    "other": None,
}
KIND_VALUES = {k.value: k for k in Artefact.Kind}
KIND_VALUES.update({k.label.casefold(): k for k in Artefact.Kind})


def kind_from_url(url: str) -> str:
    low = url.casefold()
    host = urlsplit(low).netloc
    if "stackoverflow.com" in host or "stackexchange.com" in host or "askubuntu.com" in host:
        return Artefact.Kind.SO_QUESTION
    if "/pull/" in low or "/merge_requests/" in low:
        return Artefact.Kind.GH_PULL
    if "/issues/" in low:
        return Artefact.Kind.GH_ISSUE
    if "/commit/" in low or "/commits/" in low:
        return Artefact.Kind.GH_COMMIT
    return Artefact.Kind.OTHER


def parse_entity_type(value, url: str = "") -> tuple[str, str]:
    """(kind, framework) from an EntityType such as `so-keras`, `issue-torch`, `commit-tensorflow`.

    Pull requests are issue rows whose link has `/pull/`. A type we cannot read
    falls back to what the link says; the framework is whatever follows the kind."""
    text = cell_text(value).casefold().strip()
    if text in KIND_VALUES:
        kind, framework = KIND_VALUES[text], ""
    else:
        kind, rest = None, []
        for word in re.split(r"[-_/\s:.]+", text):
            if not word:
                continue
            if word in KIND_WORDS:
                kind = kind or KIND_WORDS[word]
            else:
                rest.append(word)
        framework = "-".join(rest)[:60]
    if url:
        by_url = kind_from_url(url)
        if kind is None or (kind == Artefact.Kind.GH_ISSUE and by_url == Artefact.Kind.GH_PULL):
            kind = by_url
    return (kind or Artefact.Kind.OTHER), framework


_validate_url = URLValidator(schemes=["http", "https"])
# a URL the slow path below would leave as it is: lower-case host, a plain path without a trailing slash
_SIMPLE_URL = re.compile(
    r"^https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*[A-Za-z0-9._~%!$&()*+,;=:@-])?$"
)
_BARE_HOST = re.compile(r"^(?:www\.)?[\w-]+(?:\.[\w-]+)+/", re.I)


def canonical_url(value) -> tuple[str, str | None]:
    """(url, problem). Trimmed; a bare `host/path` gets https://; scheme and host lower-cased;
    a trailing slash dropped. The same canonical URL twice in a project is one artefact."""
    if isinstance(value, str) and _SIMPLE_URL.match(value) and len(value) <= 2000:
        return value, None  # already canonical (the common case): skip the parsing below
    text = cell_text(value).strip().strip("<>\"'")
    text, _ = split_history(text)
    if not text:
        return "", "no link"
    if "://" not in text and _BARE_HOST.match(text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return "", f"link {text[:80]!r} is not a URL"
    path = parts.path
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    url = urlunsplit((parts.scheme.casefold(), parts.netloc.casefold(), path, parts.query, parts.fragment))
    if len(url) > 2000:
        return "", "link longer than 2000 characters"
    try:
        _validate_url(url)
    except ValidationError:
        return "", f"link {text[:80]!r} is not an http(s) URL"
    return url, None


_DASHES = re.compile(r"^[-‐‑‒–—―\s]*$")


_ARROW = re.compile(r"\s*(?:→|⟶|➔)\s*|\s+(?:-+>|=>)\s*|\s*(?:-+>|=>)\s+")


def is_none(text: str) -> bool:
    return not text or bool(_DASHES.match(text))


def split_history(text: str) -> tuple[str, list[str]]:
    """(current value, earlier values oldest first) of `a -> b -> c`; none is ''."""
    parts = [p.strip() for p in _ARROW.split(text)]
    parts = [p for p in parts if p or len(parts) == 1]
    if not parts:
        return "", []
    current = parts[-1]
    return ("" if is_none(current) else current), [p for p in parts[:-1] if not is_none(p)]
