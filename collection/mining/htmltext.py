"""Text of a field for tokenising: HTML read with a real parser, plain text left alone.

A `<...>` regex eats words: a plain-text title such as `<tf.Tensor 'batch:0' shape=(?, 3)
dtype=float32>` or "loss < 0.5 and accuracy > 0.9" loses everything between the brackets.
Here only a field known to be HTML (a question or issue body) goes through
`html.parser.HTMLParser`; tags become spaces (words never glue), scripts and styles are
dropped, code and text are kept, entities are decoded. A plain-text field (a title, a
commit message) only has its entities decoded when asked (the Stack Exchange API
escapes titles).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "template", "head"})
_TOKEN = re.compile(r"[a-z][a-z0-9]*")


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skipping += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment: tags become spaces, entities decoded, script/style dropped."""
    if not markup:
        return ""
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def field_text(text: str, *, is_html: bool, unescape: bool = True) -> str:
    """The readable text of a field: parsed when it is HTML, else entities decoded (when asked) and kept whole."""
    if not text:
        return ""
    if is_html:
        return html_to_text(text)
    if unescape and "&" in text:
        return html.unescape(text)
    return text


def words(text: str, *, is_html: bool, unescape: bool = True) -> list[str]:
    """Lower-case words (a letter, then letters and digits) of a field, in order."""
    return _TOKEN.findall(field_text(text, is_html=is_html, unescape=unescape).lower())
