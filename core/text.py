"""Text helpers shared by every app: label normalisation, verdicts, sanitising."""

import re

import nh3

MAX_LABEL_LENGTH = 200

_SPACE = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[\s.,;:!?]+$")


def normalise_label(text: str) -> str:
    """The comparison key of a label: case-folded, inner whitespace collapsed,
    trailing punctuation dropped. Two labels with the same key are the same label."""
    text = _SPACE.sub(" ", (text or "").strip()).casefold()
    return _TRAILING_PUNCT.sub("", text)


def clean_label(text: str) -> str:
    """The display form of a label as entered: only outer and doubled whitespace trimmed."""
    return _SPACE.sub(" ", (text or "").strip())


# Images and image maps would make evaluators' browsers fetch from anywhere (tracking,
# and Concord loads nothing from the internet); the link to the original stays.
_SAFE_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}


def sanitise_html(body: str) -> str:
    """Untrusted scraped HTML made safe to render: scripts, handlers, styles and images removed."""
    return nh3.clean(body or "", tags=_SAFE_TAGS, link_rel="noopener noreferrer nofollow")
