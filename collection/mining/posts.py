"""Streaming a Stack Exchange data dump's Posts.xml with the study's selection rules.

The file is fed in chunks to `xml.etree.ElementTree.XMLPullParser` (iterparse's push form,
so the same code reads a plain file and the stream py7zr writes out of a `.7z`); each
`<row>` is read and cleared at once, so memory stays flat however large the dump is.
Only a bounded heap of the best N questions (and the bodies of their accepted answers,
which follow their question in the dump's Id order) is kept.

Rules (the study's): a question (PostTypeId 1) carrying the tag; no excluded word in its
title (whole word, case-insensitive: "How" excludes, "show" does not); an accepted answer
when asked; ordered by view count (ties: lower Id first); top N.
Tags come as `<python><tensorflow>` (older dumps) or `|python|tensorflow|` (2024 on).
"""

from __future__ import annotations

import heapq
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import py7zr
import py7zr.io

CHUNK = 1 << 20
DEFAULT_EXCLUDED_TITLE_WORDS = ("how", "install", "build")
_ANGLE_TAGS = re.compile(r"<([^<>]+)>")


def parse_tags(value: str) -> list[str]:
    """The tags of a post in either dump format: `<a><b>` or `|a|b|`."""
    value = (value or "").strip()
    if not value:
        return []
    if value.startswith("<"):
        return [t.strip().lower() for t in _ANGLE_TAGS.findall(value) if t.strip()]
    return [t.strip().lower() for t in value.strip("|").split("|") if t.strip()]


def title_word_pattern(words: Iterable[str]) -> re.Pattern | None:
    """A case-insensitive whole-word pattern for the excluded title words (None when there are none)."""
    cleaned = sorted({w.strip().lower() for w in words if w and w.strip()})
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(w) for w in cleaned)
    return re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])", re.IGNORECASE)


@dataclass(frozen=True)
class PostRules:
    tag: str
    excluded_title_words: tuple[str, ...] = DEFAULT_EXCLUDED_TITLE_WORDS
    accepted_answer: bool = True
    order: str = "views"  # views | score | creation (newest first) | id
    top: int = 1000

    def __post_init__(self):
        if not self.tag.strip():
            raise ValueError("a tag is required")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}")
        if self.top < 1:
            raise ValueError("top must be at least 1")


@dataclass
class Question:
    id: int
    title: str
    body: str
    tags: list[str]
    view_count: int
    score: int
    accepted_answer_id: int | None
    creation_date: str = ""
    answer_body: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"https://stackoverflow.com/questions/{self.id}"


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


ORDERS = {
    "views": lambda q: (q.view_count, -q.id),
    "score": lambda q: (q.score, -q.id),
    "creation": lambda q: (q.creation_date, -q.id),
    "id": lambda q: (-q.id,),
}


@dataclass
class ScanStats:
    rows: int = 0
    questions: int = 0
    with_tag: int = 0
    excluded_title: int = 0
    without_accepted_answer: int = 0
    matched: int = 0
    bytes_read: int = 0


class PostsSelector:
    """Push-fed selector: `feed(bytes)` as many times as needed, then `close()` and `result()`."""

    def __init__(self, rules: PostRules, *, with_answers: bool = True):
        self.rules = rules
        self.with_answers = with_answers
        self.stats = ScanStats()
        self._tag = rules.tag.strip().lower()
        self._title = title_word_pattern(rules.excluded_title_words)
        self._key = ORDERS[rules.order]
        self._heap: list[tuple[tuple, int, Question]] = []
        self._by_id: dict[int, Question] = {}
        self._wanted_answers: dict[int, int] = {}  # accepted answer id -> question id (heap members only)
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._root = None

    def feed(self, data: bytes) -> None:
        self.stats.bytes_read += len(data)
        self._parser.feed(data)
        self._drain()

    def close(self) -> None:
        self._parser.close()
        self._drain()

    def _drain(self) -> None:
        for event, element in self._parser.read_events():
            if event == "start":
                if self._root is None:
                    self._root = element
                continue
            if element.tag == "row":
                self._row(element.attrib)
                self._root.clear()  # the row and everything before it: memory stays flat

    def _row(self, attrs: dict) -> None:
        self.stats.rows += 1
        kind = attrs.get("PostTypeId")
        if kind == "2":
            question_id = self._wanted_answers.get(_int(attrs.get("Id"), -1))
            if question_id is not None and question_id in self._by_id:
                self._by_id[question_id].answer_body = attrs.get("Body", "")
            return
        if kind != "1":
            return
        self.stats.questions += 1
        tags = parse_tags(attrs.get("Tags", ""))
        if self._tag not in tags:
            return
        self.stats.with_tag += 1
        title = attrs.get("Title", "")
        if self._title is not None and self._title.search(title):
            self.stats.excluded_title += 1
            return
        accepted = _int(attrs.get("AcceptedAnswerId"), 0) or None
        if self.rules.accepted_answer and accepted is None:
            self.stats.without_accepted_answer += 1
            return
        self.stats.matched += 1
        question = Question(
            id=_int(attrs.get("Id")),
            title=title,
            body=attrs.get("Body", ""),
            tags=tags,
            view_count=_int(attrs.get("ViewCount")),
            score=_int(attrs.get("Score")),
            accepted_answer_id=accepted,
            creation_date=attrs.get("CreationDate", ""),
        )
        self._offer(question)

    def _offer(self, question: Question) -> None:
        entry = (self._key(question), question.id, question)
        if len(self._heap) < self.rules.top:
            heapq.heappush(self._heap, entry)
        elif entry[:2] > self._heap[0][:2]:
            _, _, evicted = heapq.heapreplace(self._heap, entry)
            self._forget(evicted)
        else:
            return
        self._by_id[question.id] = question
        if self.with_answers and question.accepted_answer_id:
            self._wanted_answers[question.accepted_answer_id] = question.id

    def _forget(self, question: Question) -> None:
        self._by_id.pop(question.id, None)
        if question.accepted_answer_id:
            self._wanted_answers.pop(question.accepted_answer_id, None)

    def result(self) -> list[Question]:
        """The kept questions, best first."""
        return [q for _, _, q in sorted(self._heap, key=lambda e: e[:2], reverse=True)]


def _chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


def select_posts_from_stream(
    stream: BinaryIO, rules: PostRules, *, with_answers: bool = True, progress: Callable[[int], None] | None = None
) -> tuple[list[Question], ScanStats]:
    selector = PostsSelector(rules, with_answers=with_answers)
    for chunk in _chunks(stream):
        selector.feed(chunk)
        if progress:
            progress(selector.stats.bytes_read)
    selector.close()
    return selector.result(), selector.stats


class _FeedWriter(py7zr.io.Py7zIO):
    """A py7zr writer that feeds the archive member's bytes straight to a selector (no temporary file)."""

    def __init__(self, selector: PostsSelector | None):
        self.selector = selector
        self.length = 0

    def write(self, s) -> int:
        if self.selector is not None:
            self.selector.feed(bytes(s))
        self.length += len(s)
        return len(s)

    def read(self, size=None) -> bytes:
        return b""

    def seek(self, offset, whence=0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.length


class _FeedFactory(py7zr.io.WriterFactory):
    def __init__(self, selector: PostsSelector, member: str):
        self.selector = selector
        self.member = member

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        return _FeedWriter(self.selector if filename == self.member else None)


def select_posts_from_7z(
    path: Path, rules: PostRules, *, with_answers: bool = True
) -> tuple[list[Question], ScanStats]:
    """Posts.xml read out of a Stack Exchange `.7z` archive (e.g. stackoverflow.com-Posts.7z), streamed."""
    selector = PostsSelector(rules, with_answers=with_answers)
    with py7zr.SevenZipFile(path, mode="r") as archive:
        names = [n for n in archive.getnames() if n.lower().rsplit("/", 1)[-1] == "posts.xml"]
        if not names:
            raise ValueError(f"{path} holds no Posts.xml")
        archive.extract(targets=names[:1], factory=_FeedFactory(selector, names[0]))
    selector.close()
    return selector.result(), selector.stats


def select_posts(path: str | Path, rules: PostRules, *, with_answers: bool = True) -> tuple[list[Question], ScanStats]:
    """The study's questions from a Posts.xml file or a .7z archive holding one."""
    path = Path(path)
    if path.suffix.lower() == ".7z":
        return select_posts_from_7z(path, rules, with_answers=with_answers)
    with path.open("rb") as stream:
        return select_posts_from_stream(stream, rules, with_answers=with_answers)
