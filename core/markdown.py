"""Project guidelines, round instructions and codebook descriptions: Markdown to safe HTML.

Rendered by Python-Markdown and then cleaned by the artefact sanitiser (core.text.sanitise_html:
no scripts, handlers, styles or images; links get rel=noopener…)."""

from __future__ import annotations

import markdown as _markdown

from core.text import sanitise_html

_EXTENSIONS = ["extra", "sane_lists"]


def render_markdown(text: str | None) -> str:
    """Markdown `text` as sanitised HTML ('' for blank text)."""
    if not (text or "").strip():
        return ""
    return sanitise_html(_markdown.markdown(text, extensions=_EXTENSIONS, output_format="html"))
