"""Transcript parsers: .docx (speakers by font colour), .txt, .md, .vtt and .srt.

Every parser returns a `ParsedTranscript`: paragraphs in order, each with its text
and speaker (possibly unknown), the speakers, and metadata. Parsers never touch
the database; bad files raise `core.errors.InvalidInput` naming the file.

The study's .docx transcripts mark speakers only by font colour, with a legend on
the first line ("Blue – Interviewer1, Purple – Interviewer2, Green - Interviewee").
The legend is read, each colour name is matched to its reference colours (and to
the colour the legend itself writes that name in), and every paragraph goes to the
legend entry nearest (CIELAB distance) to the colour of most of its characters.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from lxml import etree

from core.errors import InvalidInput

FORMATS = ("docx", "txt", "md", "vtt", "srt")
PARAGRAPH_SEPARATOR = "\n\n"


@dataclass
class ParsedParagraph:
    text: str
    speaker: str = ""
    start_time: float | None = None
    speaker_note: str = ""  # why the speaker is uncertain, if it is


@dataclass
class ParsedTranscript:
    format: str
    paragraphs: list[ParsedParagraph]
    speakers: list[dict] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)

    def joined(self) -> tuple[str, list[tuple[int, int]]]:
        """The transcript text (paragraphs separated by a blank line) and each paragraph's [start, end)."""
        spans, parts, offset = [], [], 0
        for i, paragraph in enumerate(self.paragraphs):
            if i:
                parts.append(PARAGRAPH_SEPARATOR)
                offset += len(PARAGRAPH_SEPARATOR)
            parts.append(paragraph.text)
            spans.append((offset, offset + len(paragraph.text)))
            offset += len(paragraph.text)
        return "".join(parts), spans


def transcript_format(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext == "markdown":
        ext = "md"
    if ext not in FORMATS:
        raise InvalidInput(
            f"{filename or 'The file'}: unsupported transcript type; upload .docx, .txt, .md, .vtt or .srt.",
            field="file",
        )
    return ext


def parse_transcript(filename: str, data: bytes) -> ParsedTranscript:
    """Parse an uploaded transcript by its extension. Raises InvalidInput for unreadable or empty files."""
    fmt = transcript_format(filename)
    if not data:
        raise InvalidInput(f"{filename}: the file is empty.", field="file")
    if fmt == "docx":
        parsed = parse_docx(data, filename=filename)
    else:
        text = decode_text(data)
        parsed = {"txt": parse_txt, "md": parse_md, "vtt": parse_vtt, "srt": parse_srt}[fmt](text)
    parsed.paragraphs = [p for p in parsed.paragraphs if p.text.strip()]
    if not parsed.paragraphs:
        raise InvalidInput(f"{filename}: no transcript text found in the file.", field="file")
    if not parsed.speakers:
        parsed.speakers = [{"name": name, "colour": None} for name in _speakers_in_order(parsed.paragraphs)]
    return parsed


# --- text files -----------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252; line ends normalised to \\n."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise InvalidInput("The file is not a text file (it contains binary data).", field="file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


_TIME_PREFIX = r"(?:\[?\(?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\)?\]?\s*)?"
_SPEAKER_PREFIX = re.compile(
    r"^\s*" + _TIME_PREFIX + r"(?:\*\*|__)?(?P<name>[^\W\d_][\w .'’()\-]{0,48}?)(?:\*\*|__)?\s*"
    r"(?:\((?P<time>\d{1,2}:\d{2}(?::\d{2})?)\)\s*)?:(?:\*\*|__)?\s+(?P<rest>\S.*)$",
    re.DOTALL,
)
_SPEAKER_LINE = re.compile(r"^\s*(?P<name>[^\W\d_][\w .'’\-]{0,48}?)\s+(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_LIKELY_SPEAKER = re.compile(
    r"^(interview(er|ee)|speaker|moderator|participant|respondent|host|guest|question|answer|[PIQAR])\s*\d*$",
    re.IGNORECASE,
)
# Words that start a line with a colon without being anyone speaking (compared case-folded).
_NOT_SPEAKERS = {"note", "notes", "nb", "ps", "p.s", "example", "update", "edit", "summary", "warning", "todo",
                 "source", "sources", "link", "url", "see", "also", "tip", "comment", "remark", "aside"}  # fmt: skip


def _split_prefix(text: str) -> tuple[str, str, float | None]:
    """(speaker candidate, rest, start time) from a leading "Name:" or an Otter-style "Name  0:03" line."""
    first, _, after = text.partition("\n")
    line = _SPEAKER_LINE.match(first)
    if line and after.strip():
        return line.group("name").strip(), after.strip(), _seconds(line.group("time"))
    match = _SPEAKER_PREFIX.match(text)
    if match and len(match.group("name").split()) <= 4:
        return match.group("name").strip(), match.group("rest").strip(), _seconds(match.group("time"))
    return "", text, None


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    parts = [float(p.replace(",", ".")) for p in value.split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _assign_prefixed_speakers(blocks: list[str]) -> list[ParsedParagraph]:
    """Speakers from "Name:" prefixes. A name counts when it prefixes two paragraphs, looks like a role,
    or most paragraphs start with a name; a paragraph without a prefix continues the previous turn."""
    candidates = [_split_prefix(block) for block in blocks]
    counts = Counter(name.casefold() for name, _, _ in candidates if name)
    prefixed = sum(counts.values())
    transcript_like = len(blocks) >= 2 and prefixed >= 0.6 * len(blocks)  # most turns start "Name:"
    accepted = {
        name
        for name, n in counts.items()
        if _LIKELY_SPEAKER.match(name) or (name not in _NOT_SPEAKERS and (n >= 2 or transcript_like))
    }
    paragraphs, current = [], ""
    for block, (name, rest, start_time) in zip(blocks, candidates, strict=True):
        if name and name.casefold() in accepted:
            current = name
            paragraphs.append(ParsedParagraph(text=rest, speaker=name, start_time=start_time))
        else:
            paragraphs.append(ParsedParagraph(text=block.strip(), speaker=current if accepted else ""))
    return paragraphs


def _blocks(text: str) -> list[str]:
    """Paragraphs: separated by blank lines; a text without blank lines has one paragraph per line."""
    text = text.strip("\n")
    blocks = re.split(r"\n[ \t]*\n+", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    return [b.strip() for b in blocks if b.strip()]


def parse_txt(text: str) -> ParsedTranscript:
    return ParsedTranscript(format="txt", paragraphs=_assign_prefixed_speakers(_blocks(text)))


_FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)
_EMPHASIS = re.compile(r"(\*\*|__)(?P<inner>\S(?:.*?\S)?)\1")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


def parse_md(text: str) -> ParsedTranscript:
    metadata = {}
    front = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if front:
        for line in front.group("body").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                metadata[key.strip().lower().replace(" ", "_")] = value.strip().strip("'\"")
        text = text[front.end() :]
    blocks = []
    for block in _blocks(text):
        heading = _HEADING.match(block)
        if heading and "\n" not in block:
            if "title" not in metadata and not blocks:
                metadata["title"] = heading.group("title")
                continue
            block = heading.group("title")
        block = re.sub(r"^>\s?", "", block, flags=re.MULTILINE)  # quoted turns
        blocks.append(block)
    paragraphs = _assign_prefixed_speakers(blocks)
    for paragraph in paragraphs:
        paragraph.text = _EMPHASIS.sub(lambda m: m.group("inner"), paragraph.text)
        paragraph.speaker = paragraph.speaker.strip("*_ ")
    return ParsedTranscript(format="md", paragraphs=paragraphs, metadata=metadata)


# --- subtitles ----------------------------------------------------------------------------

_CUE_TIME = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_VOICE = re.compile(r"<v(?:\.[\w.]+)?\s+(?P<name>[^>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[^>]+>|\{\\[^}]*\}")
_BRACKET_SPEAKER = re.compile(r"^\s*(?:>>\s*|-\s*)?\[(?P<name>[^\]]{1,50})\]\s*:?\s*(?P<rest>.*)$", re.DOTALL)


def _cues(text: str, *, vtt: bool) -> list[tuple[float, float, str]]:
    lines = text.split("\n")
    cues, i = [], 0
    if vtt:
        if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
            raise InvalidInput("Not a WebVTT file: the first line must be WEBVTT.", field="file")
        i = 1
    while i < len(lines):
        match = _CUE_TIME.match(lines[i])
        if not match:
            block_start = lines[i].strip()
            if vtt and block_start.startswith(("NOTE", "STYLE", "REGION")):
                while i < len(lines) and lines[i].strip():
                    i += 1
            i += 1
            continue
        start, end = _seconds(match.group("start")), _seconds(match.group("end"))
        i += 1
        body = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        cues.append((start, end, "\n".join(body)))
    return cues


def _parse_subtitles(text: str, *, fmt: str) -> ParsedTranscript:
    cues = _cues(text, vtt=fmt == "vtt")
    if not cues:
        raise InvalidInput(f"No cues found: not a readable .{fmt} file.", field="file")
    turns: list[ParsedParagraph] = []
    plain: list[tuple[str, float]] = []
    for start, _, body in cues:
        voice = _VOICE.search(body)
        speaker = voice.group("name").strip() if voice else ""
        clean = re.sub(r"\s*\n\s*", " ", _TAG.sub("", body)).strip()
        if not speaker:
            bracket = _BRACKET_SPEAKER.match(clean)
            if bracket:
                speaker, clean = bracket.group("name").strip(), bracket.group("rest").strip()
        if not clean:
            continue
        turns.append(ParsedParagraph(text=clean, speaker=speaker, start_time=start))
        plain.append((clean, start))
    if not any(t.speaker for t in turns):
        turns = _assign_prefixed_speakers([t for t, _ in plain])
        for turn, (_, start) in zip(turns, plain, strict=True):
            turn.start_time = start
    merged: list[ParsedParagraph] = []
    for turn in turns:
        if merged and turn.speaker and merged[-1].speaker == turn.speaker:
            merged[-1].text = f"{merged[-1].text} {turn.text}"
        else:
            merged.append(turn)
    return ParsedTranscript(format=fmt, paragraphs=merged, metadata={"duration_seconds": max(c[1] for c in cues)})


def parse_vtt(text: str) -> ParsedTranscript:
    return _parse_subtitles(text, fmt="vtt")


def parse_srt(text: str) -> ParsedTranscript:
    return _parse_subtitles(text, fmt="srt")


# --- colours -------------------------------------------------------------------------------

# Reference colours per name: CSS, Word's standard palette, Google Docs' palette, Office theme accents.
NAMED_COLOURS: dict[str, tuple[str, ...]] = {
    "black": ("000000",),
    "white": ("FFFFFF",),
    "gray": ("808080", "7F7F7F", "999999", "666666"),
    "red": ("FF0000", "E06666", "CC0000"),
    "dark red": ("C00000", "8B0000", "990000", "660000"),
    "orange": ("FFA500", "FFC000", "FF9900", "ED7D31", "E69138"),
    "yellow": ("FFFF00", "F1C232", "BF9000"),
    "light green": ("92D050", "90EE90", "B6D7A8", "93C47D"),
    "green": ("008000", "00B050", "00FF00", "38761D", "6AA84F", "70AD47"),
    "dark green": ("006400", "274E13", "385623"),
    "light blue": ("00B0F0", "ADD8E6", "9FC5E8", "6FA8DC", "5B9BD5"),
    "cyan": ("00FFFF", "76A5AF"),
    "turquoise": ("40E0D0", "45818E"),
    "teal": ("008080", "134F5C"),
    "blue": ("0000FF", "0070C0", "4472C4", "1155CC", "3C78D8", "4A86E8"),
    "dark blue": ("002060", "00008B", "000080", "1F3864", "073763", "1C4587"),
    "purple": ("800080", "7030A0", "9900FF", "674EA7", "8E7CC3", "351C75"),
    "violet": ("EE82EE", "8A2BE2"),
    "magenta": ("FF00FF", "A64D79", "C27BA0"),
    "pink": ("FFC0CB", "FF69B4", "EA9999", "D5A6BD"),
    "brown": ("A52A2A", "7F6000", "843C0C", "996633", "783F04"),
}
COLOUR_ALIASES = {
    "grey": "gray",
    "navy": "dark blue",
    "navy blue": "dark blue",
    "lilac": "violet",
    "lavender": "violet",
    "aqua": "cyan",
    "sky blue": "light blue",
    "lime": "light green",
    "olive": "dark green",
    "dark purple": "purple",
    "maroon": "dark red",
    "gold": "yellow",
    "fuchsia": "magenta",
    "dark grey": "gray",
    "dark gray": "gray",
    "light grey": "gray",
    "light gray": "gray",
    "dark orange": "orange",
    "light red": "red",
    "dark cyan": "teal",
}


def colour_name(word: str) -> str | None:
    key = re.sub(r"\s+", " ", word.strip().casefold())
    key = re.sub(r"^(in|the|text in|font)\s+", "", key)
    key = re.sub(r"\s+(text|font|colou?r)$", "", key)
    key = COLOUR_ALIASES.get(key, key)
    return key if key in NAMED_COLOURS else None


def _lab(hex_colour: str) -> tuple[float, float, float]:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def lin(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = lin(r), lin(g), lin(b)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def colour_distance(a: str, b: str) -> float:
    """CIEDE2000 colour difference of two RRGGBB colours (perceptual: navy is nearer blue than green)."""
    (l1, a1, b1), (l2, a2, b2) = _lab(a), _lab(b)
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p, h2p = math.degrees(math.atan2(b1, a1p)) % 360, math.degrees(math.atan2(b2, a2p)) % 360
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    else:
        h_mean = (h1p + h2p + (360 if h1p + h2p < 360 else -360)) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    theta = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_mean, 1 + 0.015 * cp_mean * t
    r_t = -math.sin(math.radians(2 * theta)) * r_c
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def nearest_colour_name(hex_colour: str) -> str:
    return min(NAMED_COLOURS, key=lambda name: min(colour_distance(hex_colour, ref) for ref in NAMED_COLOURS[name]))


# --- .docx ------------------------------------------------------------------------------------

_LEGEND_PART = re.compile(r"\s*[,;]\s*|\s+and\s+")
_LEGEND_PAIR = re.compile(r"^(?P<a>.+?)\s*(?:\s[-–—]+\s|[–—]+|[:=]|\s-|-\s)\s*(?P<b>.+?)$")
_LEGEND_PAREN = re.compile(r"^(?P<b>.+?)\s*\((?P<a>[^)]+)\)$")

# Office's default theme (used when a document has no theme part).
_DEFAULT_THEME = {
    "dk1": "000000",
    "lt1": "FFFFFF",
    "dk2": "44546A",
    "lt2": "E7E6E6",
    "accent1": "4472C4",
    "accent2": "ED7D31",
    "accent3": "A5A5A5",
    "accent4": "FFC000",
    "accent5": "5B9BD5",
    "accent6": "70AD47",
    "hlink": "0563C1",
    "folHlink": "954F72",
}
_THEME_ALIASES = {"text1": "dk1", "text2": "dk2", "background1": "lt1", "background2": "lt2", "dark1": "dk1",
                  "dark2": "dk2", "light1": "lt1", "light2": "lt2", "hyperlink": "hlink",
                  "followedHyperlink": "folHlink"}  # fmt: skip


@dataclass
class _LegendEntry:
    colour: str  # canonical colour name
    speaker: str
    references: list[str]


def _open_docx(data: bytes, filename: str):
    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InvalidInput(f"{filename}: not a readable .docx file ({exc.__class__.__name__}).", field="file") from exc
    except Exception as exc:  # lxml errors and friends from a damaged package
        raise InvalidInput(f"{filename}: not a readable .docx file ({exc}).", field="file") from exc


def _find_legend(blocks) -> tuple[list[_LegendEntry] | None, int | None, str]:
    """The colour legend in the first non-empty block among the first five, if it is one."""
    for index, (text, runs, _) in enumerate(blocks[:5]):
        if not text.strip():
            continue
        legend = _read_legend(text, runs)
        if legend:
            return legend, index, text.strip()
        break
    return None, None, ""


def _paragraphs_with_votes(blocks, legend_index) -> tuple[list[ParsedParagraph], Counter]:
    """Non-empty paragraphs (legend left out), each with the characters per font colour in `_votes`."""
    paragraphs: list[ParsedParagraph] = []
    votes_seen: Counter = Counter()
    for index, (text, runs, table_speaker) in enumerate(blocks):
        if index == legend_index or not text.strip():
            continue
        votes = Counter()
        for chunk, colour in runs:
            weight = len(chunk.strip())
            if weight:
                votes[colour] += weight
        votes_seen.update(votes)
        paragraphs.append(ParsedParagraph(text=text.strip(), speaker=table_speaker or ""))
        paragraphs[-1]._votes = votes  # type: ignore[attr-defined]
    return paragraphs, votes_seen


def _speakers_without_legend(paragraphs: list[ParsedParagraph], votes_seen: Counter, metadata: dict) -> None:
    """Speakers from name prefixes, else one speaker per font colour (when there are at least two)."""
    prefixed = _assign_prefixed_speakers([p.text for p in paragraphs])
    if any(p.speaker for p in prefixed):
        for paragraph, found in zip(paragraphs, prefixed, strict=True):
            if not paragraph.speaker:
                paragraph.speaker, paragraph.text = found.speaker, found.text
        metadata["speaker_source"] = "name prefixes"
        return
    if len([c for c in votes_seen if c]) < 2:
        return
    for paragraph in paragraphs:
        top = _top_colour(paragraph._votes)  # type: ignore[attr-defined]
        if top and not paragraph.speaker:
            paragraph.speaker = f"Speaker ({nearest_colour_name(top)})"
    metadata["speaker_source"] = "font colour (no legend)"


def parse_docx(data: bytes, *, filename: str = "transcript.docx") -> ParsedTranscript:
    document = _open_docx(data, filename)
    theme = _theme_colours(document)
    blocks = list(_docx_blocks(document, theme))  # [(text, [(chars, colour|None)], table_speaker|None)]
    legend, legend_index, legend_text = _find_legend(blocks)
    metadata = {"legend": legend_text} if legend else {}
    if document.core_properties.title:
        metadata["title"] = document.core_properties.title

    paragraphs, votes_seen = _paragraphs_with_votes(blocks, legend_index)
    speakers: list[dict] = []
    if legend:
        for paragraph in paragraphs:
            if not paragraph.speaker:
                paragraph.speaker, paragraph.speaker_note = _legend_speaker(
                    paragraph._votes,  # type: ignore[attr-defined]
                    legend,
                )
        speakers = [{"name": e.speaker, "colour": "#" + e.references[0]} for e in legend]
        metadata["speaker_source"] = "font colour (legend)"
    else:
        _speakers_without_legend(paragraphs, votes_seen, metadata)
    for paragraph in paragraphs:
        paragraph.__dict__.pop("_votes", None)
    return ParsedTranscript(format="docx", paragraphs=paragraphs, speakers=speakers, metadata=metadata)


def _top_colour(votes: Counter) -> str | None:
    coloured = [(n, c) for c, n in votes.items() if c]
    return max(coloured)[1] if coloured else None


UNCERTAIN_DISTANCE = 15.0  # CIEDE2000; beyond this a colour is not clearly any legend colour


def _legend_speaker(votes: Counter, legend: list[_LegendEntry]) -> tuple[str, str]:
    """The legend entry nearest to the colours of most of the paragraph's characters, and a note
    when the paragraph's main colour is far from every legend colour (a speaker worth checking)."""
    black_in_legend = any(e.colour == "black" for e in legend)
    tally: Counter = Counter()
    distances: dict[str, tuple[float, str]] = {}
    for colour, weight in votes.items():
        if colour is None:
            if not black_in_legend:
                continue
            colour = "000000"
        distance, entry = min(
            (min(colour_distance(colour, ref) for ref in e.references), i) for i, e in enumerate(legend)
        )
        tally[legend[entry].speaker] += weight
        distances[legend[entry].speaker] = max(distances.get(legend[entry].speaker, (0.0, "")), (distance, colour))
    if not tally:
        return "", ""
    speaker = tally.most_common(1)[0][0]
    distance, colour = distances[speaker]
    note = ""
    if distance > UNCERTAIN_DISTANCE:
        note = f"Written in #{colour}, not clearly any legend colour; nearest is {speaker}'s."
    return speaker, note


def _read_legend(text: str, runs: list[tuple[str, str | None]]) -> list[_LegendEntry] | None:
    """Legend entries ("Blue – Interviewer1, …") when at least two parts name a known colour."""
    entries: list[_LegendEntry] = []
    position = 0
    for part in _LEGEND_PART.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        pair = _LEGEND_PAIR.match(part) or _LEGEND_PAREN.match(part)
        if not pair:
            return None
        a, b = pair.group("a").strip(" .:"), pair.group("b").strip(" .:")
        if colour_name(a):
            word, speaker = a, b
        elif colour_name(b):
            word, speaker = b, a
        else:
            return None
        position = text.find(word, position)
        written_in = _colour_at(runs, position, len(word)) if position >= 0 else None
        entries.append(_LegendEntry(colour=colour_name(word), speaker=speaker, references=[]))
        entries[-1].written_in = written_in  # type: ignore[attr-defined]
    if len(entries) < 2 or len({e.colour for e in entries}) < len(entries):
        return None
    written = [getattr(e, "written_in", None) for e in entries]
    use_written = all(written) and len(set(written)) == len(written)
    for entry, colour in zip(entries, written, strict=True):
        # When the legend writes each colour name in its speaker's colour, those are the document's
        # own colours and the only references; otherwise the named colour's usual shades are.
        entry.references = [colour] if use_written else list(NAMED_COLOURS[entry.colour])
    return entries


def _colour_at(runs: list[tuple[str, str | None]], start: int, length: int) -> str | None:
    tally, offset = Counter(), 0
    for chunk, colour in runs:
        lo, hi = max(start, offset), min(start + length, offset + len(chunk))
        if hi > lo and colour:
            tally[colour] += hi - lo
        offset += len(chunk)
    return tally.most_common(1)[0][0] if tally else None


def _theme_colours(document) -> dict[str, str]:
    colours = dict(_DEFAULT_THEME)
    try:
        for part in document.part.package.iter_parts():
            if str(part.partname).startswith("/word/theme/"):
                root = etree.fromstring(part.blob)
                ns = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
                for slot in root.iterfind(".//a:clrScheme/*", ns):
                    name = etree.QName(slot).localname
                    srgb = slot.find("a:srgbClr", ns)
                    sys_ = slot.find("a:sysClr", ns)
                    if srgb is not None:
                        colours[name] = srgb.get("val", "").upper()
                    elif sys_ is not None and sys_.get("lastClr"):
                        colours[name] = sys_.get("lastClr").upper()
                break
    except Exception:  # a damaged theme part only costs theme colours
        pass
    return colours


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _adjust(hex_colour: str, shade: str | None, tint: str | None) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    if shade:
        f = int(shade, 16) / 255
        r, g, b = (round(c * f) for c in (r, g, b))
    if tint:
        f = int(tint, 16) / 255
        r, g, b = (round(255 - (255 - c) * f) for c in (r, g, b))
    return f"{r:02X}{g:02X}{b:02X}"


def _element_colour(rpr, theme: dict[str, str]) -> str | None:
    """The colour set on an rPr element, as RRGGBB; None when unset or automatic."""
    if rpr is None:
        return None
    color = rpr.find(f"{_W}color")
    if color is None:
        return None
    theme_name = color.get(f"{_W}themeColor")
    if theme_name:
        key = _THEME_ALIASES.get(theme_name, theme_name)
        if key in theme:
            return _adjust(theme[key], color.get(f"{_W}themeShade"), color.get(f"{_W}themeTint"))
    val = (color.get(f"{_W}val") or "").upper()
    if re.fullmatch(r"[0-9A-F]{6}", val):
        return val
    return None


def _style_colour(style, theme) -> str | None:
    seen = 0
    while style is not None and seen < 10:
        colour = _element_colour(style.element.rPr, theme)
        if colour:
            return colour
        style, seen = style.base_style, seen + 1
    return None


def _paragraph_runs(paragraph, theme) -> list[tuple[str, str | None]]:

    default = _style_colour(paragraph.style, theme)
    runs = []
    for item in paragraph.iter_inner_content():
        for run in item.runs if isinstance(item, Hyperlink) else [item]:
            colour = _element_colour(run.element.rPr, theme)
            if colour is None and run.style is not None and run.style.style_id != "DefaultParagraphFont":
                colour = _style_colour(run.style, theme)
            runs.append((run.text, colour or default))
    return runs


def _docx_blocks(document, theme):
    """Body paragraphs and table rows in document order: (text, runs, speaker from a table column)."""

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            runs = _paragraph_runs(block, theme)
            yield "".join(chunk for chunk, _ in runs), runs, None
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [c for i, c in enumerate(row.cells) if i == 0 or c._tc is not row.cells[i - 1]._tc]
                if len(cells) >= 2 and len(cells[0].text.strip()) <= 50:
                    speaker = cells[0].text.strip()
                    texts = cells[1:]
                else:
                    speaker, texts = None, cells
                runs = []
                for cell in texts:
                    for p in cell.paragraphs:
                        if runs:
                            runs.append(("\n", None))
                        runs.extend(_paragraph_runs(p, theme))
                yield "".join(chunk for chunk, _ in runs), runs, speaker


def _speakers_in_order(paragraphs: list[ParsedParagraph]) -> list[str]:
    seen: dict[str, None] = {}
    for p in paragraphs:
        if p.speaker:
            seen.setdefault(p.speaker, None)
    return list(seen)
