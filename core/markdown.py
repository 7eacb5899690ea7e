"""Project guidelines, round instructions and codebook descriptions: Markdown to safe HTML.

Rendered by Python-Markdown and then cleaned by the same nh3 rules as artefact
bodies (no scripts, handlers, styles or images; links get rel=noopener…).
"""

from __future__ import annotations

import markdown as _markdown
import nh3

# Same rules as the artefact sanitiser (labelling.text.sanitise_html): no images or maps.
_SAFE_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
_EXTENSIONS = ["extra", "sane_lists"]


def sanitise(html: str) -> str:
    return nh3.clean(html or "", tags=_SAFE_TAGS, link_rel="noopener noreferrer nofollow")


def render_markdown(text: str) -> str:
    """Markdown `text` as sanitised HTML ('' for blank text)."""
    if not (text or "").strip():
        return ""
    return sanitise(_markdown.markdown(text, extensions=_EXTENSIONS, output_format="html"))
