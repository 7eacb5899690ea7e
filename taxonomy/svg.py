"""SVG drawings generated on the server: the taxonomy figure (in the style of Figure 1 of
Humbatova et al., ICSE 2020: a box per category with its NN+MM, leaves listed inside their
category) and the chart of cumulative categories per round.

The figure is a standalone XML document. Every name is escaped here, with characters XML
forbids replaced; each node's full name sits in one <text> element (wrapped lines are
<tspan>s whose text joins back to the name) and in the group's <title>.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from taxonomy.selectors import Entry, Tree

FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Fills and strokes per level (1 = top level); deeper levels reuse the last.
FILLS = ["#dce8f8", "#eef4fc", "#f8fbff", "#ffffff"]
STROKES = ["#2f6fdb", "#6d97de", "#9db8e6", "#c4d4ee"]
TEXT = "#1d2330"
MUTED = "#5b6475"

COL_W = 290
GAP = 14
PAD = 7
HEAD_SIZE = {1: 13.5, 2: 12, 3: 11.5}
LEAF_SIZE = 10.5
COUNT_W = 52  # room kept for "NNN+MM"


def x(text: str) -> str:
    """Text content escaped for XML (and stripped of characters XML cannot carry)."""
    return escape(_XML_INVALID.sub("\ufffd", text or ""))


def attr(text: str) -> str:
    """An attribute value, quoted and escaped."""
    return quoteattr(_XML_INVALID.sub("\ufffd", text or ""))


def wrap(text: str, max_chars: int) -> list[str]:
    """Greedy word wrap; lines keep their trailing space so that ''.join(lines) == text."""
    max_chars = max(8, max_chars)
    if len(text) <= max_chars:
        return [text]
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > max_chars:
            lines.append(current + " ")
            current = word
        else:
            current = candidate
        while len(current) > max_chars:  # a word longer than a line is broken
            lines.append(current[:max_chars])
            current = current[max_chars:]
    lines.append(current)
    return lines


def _chars(width: float, size: float) -> int:
    return int(width / (size * 0.56))


@dataclass
class Box:
    """A laid-out category: its height and the SVG it draws at (0, 0) with width `w`."""

    height: float
    parts: list[str] = field(default_factory=list)


def _text(lines: list[str], *, left: float, top: float, size: float, weight: str = "normal", fill=TEXT) -> str:
    line_h = size * 1.3
    spans = "".join(
        f'<tspan x="{left:.1f}" y="{top + size + i * line_h:.1f}">{x(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text font-size="{size}" font-weight="{weight}" fill="{fill}">{spans}</text>'


def _count(entry: Entry, *, right: float, top: float, size: float) -> str:
    return (
        f'<text x="{right:.1f}" y="{top + size:.1f}" font-size="{size}" fill="{MUTED}" text-anchor="end" '
        f'font-variant-numeric="tabular-nums">{entry.artefact_count}+{entry.interview_count}</text>'
    )


def _layout(entry: Entry, width: float) -> Box:
    level = max(entry.depth, 1)
    size = HEAD_SIZE.get(level, 11)
    head = wrap(entry.name, _chars(width - 2 * PAD - COUNT_W, size))
    line_h = size * 1.3
    y = PAD
    parts = [
        f"<title>{x(entry.name)} ({entry.artefact_count}+{entry.interview_count})</title>",
        _text(head, left=PAD, top=y - 2, size=size, weight="bold"),
        _count(entry, right=width - PAD, top=y - 2, size=size - 1),
    ]
    y += len(head) * line_h + 3
    if entry.code:
        parts.append(f'<text x="{PAD}" y="{y + 9:.1f}" font-size="9" fill="{MUTED}">{x(entry.code)}</text>')
        y += 12
    for leaf in entry.leaves:
        lines = wrap(leaf.name, _chars(width - 2 * PAD - 10 - COUNT_W, LEAF_SIZE))
        parts.append(
            f'<g class="leaf"><title>{x(leaf.name)} ({leaf.artefact_count}+{leaf.interview_count})</title>'
            f'<circle cx="{PAD + 3}" cy="{y + LEAF_SIZE * 0.65:.1f}" r="1.8" fill="{MUTED}"/>'
            + _text(lines, left=PAD + 10, top=y - 1, size=LEAF_SIZE)
            + _count(leaf, right=width - PAD, top=y - 1, size=LEAF_SIZE - 0.5)
            + "</g>"
        )
        y += len(lines) * LEAF_SIZE * 1.3 + 2
    if entry.leaves:
        y += 3
    for child in entry.children:
        box = _layout(child, width - 2 * PAD)
        parts.append(f'<g transform="translate({PAD},{y:.1f})">{"".join(box.parts)}</g>')
        y += box.height + 6
    height = y + PAD - (6 if entry.children else 0)
    fill = FILLS[min(level, len(FILLS)) - 1]
    stroke = STROKES[min(level, len(STROKES)) - 1]
    rect = (
        f'<rect width="{width:.1f}" height="{height:.1f}" rx="5" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{1.6 if level == 1 else 1}"/>'
    )
    kind = "category" if level > 1 else "top"
    return Box(height, [f'<g class="node {kind}" data-level="{level}">', rect, *parts, "</g>"])


def figure_svg(tree: Tree, *, title: str | None = None, standalone: bool = True) -> str:
    """The taxonomy as boxes: top-level categories in balanced columns, sub-categories nested,
    leaves listed with their counts. `standalone` adds the XML declaration (for downloads)."""
    boxes = [_layout(root, COL_W) for root in tree.roots]
    total_h = sum(b.height + GAP for b in boxes)
    columns = max(1, min(len(boxes), 8, round(math.sqrt(1.6 * total_h / COL_W)) or 1))
    heights = [0.0] * columns
    top = 58
    placed = []
    for box in boxes:  # in order, each into the shortest column: balanced like a masonry wall
        col = heights.index(min(heights))
        placed.append((col, heights[col], box))
        heights[col] += box.height + GAP
    width = max(GAP + columns * (COL_W + GAP), 600)
    height = top + (max(heights) if boxes else 40) + GAP
    heading = title if title is not None else tree.project.name
    body = [
        f'<rect width="{width}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{GAP}" y="26" font-size="17" font-weight="bold" fill="{TEXT}">{x(heading)}</text>',
        f'<text x="{GAP}" y="45" font-size="11" fill="{MUTED}">'
        f"{tree.artefact_total}+{tree.interview_total} instances (artefacts+interviews) · "
        f"{sum(1 for e in tree.walk() if not e.is_leaf)} categories · {len(tree.leaves)} leaves</text>",
    ]
    if not boxes:
        body.append(f'<text x="{GAP}" y="{top + 16}" font-size="12" fill="{MUTED}">No categories yet.</text>')
    for col, y, box in placed:
        body.append(f'<g transform="translate({GAP + col * (COL_W + GAP)},{top + y:.1f})">{"".join(box.parts)}</g>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="taxonomy-figure" width="{width}" '
        f'height="{height:.0f}" viewBox="0 0 {width} {height:.0f}" font-family={attr(FONT)} role="img" '
        f"aria-label={attr('Taxonomy of ' + heading)}>"
        f"<title>{x('Taxonomy of ' + heading)}</title>" + "".join(body) + "</svg>\n"
    )
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + svg) if standalone else svg


def growth_chart_svg(points: list[dict], *, width: int = 560, height: int = 240) -> str:
    """Cumulative inner and leaf categories per round: two lines, labelled points, axes."""
    left, right, top, bottom = 44, 130, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="growth-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family={attr(FONT)} role="img" '
        'aria-label="Cumulative categories per round">',
        "<title>Cumulative inner and leaf categories per round</title>",
    ]
    if not points:
        parts.append(f'<text x="{left}" y="{top + 20}" font-size="12" fill="{MUTED}">No rounds yet.</text></svg>')
        return "".join(parts)
    peak = max(max(p["inner"], p["leaves"]) for p in points) or 1
    step = 10 ** max(0, len(str(peak)) - 1)
    y_max = math.ceil(peak / step) * step if peak > 5 else 5
    n = len(points)

    def px(i):
        return left + (plot_w * (i + 0.5) / n)

    def py(v):
        return top + plot_h - plot_h * v / y_max

    ticks = 5
    for t in range(ticks + 1):
        value = y_max * t / ticks
        yy = py(value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e3e7ee"/>')
        parts.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" font-size="10" fill="{MUTED}" text-anchor="end">{value:g}</text>'
        )
    for i, p in enumerate(points):
        parts.append(
            f'<text x="{px(i):.1f}" y="{top + plot_h + 16}" font-size="10.5" fill="{MUTED}" text-anchor="middle">'
            f"R{p['number']}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="10.5" fill="{MUTED}" '
        'text-anchor="middle">round</text>'
    )
    for key, colour, name in (("inner", "#2f6fdb", "inner categories"), ("leaves", "#1f8a4c", "leaves")):
        coords = " ".join(f"{px(i):.1f},{py(p[key]):.1f}" for i, p in enumerate(points))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.2"/>')
        for i, p in enumerate(points):
            parts.append(
                f'<circle cx="{px(i):.1f}" cy="{py(p[key]):.1f}" r="3.2" fill="{colour}">'
                f"<title>Round {p['number']}: {p[key]} {name}</title></circle>"
            )
            parts.append(
                f'<text x="{px(i):.1f}" y="{py(p[key]) - 7:.1f}" font-size="10" fill="{colour}" '
                f'text-anchor="middle">{p[key]}</text>'
            )
        legend_y = top + 14 + (0 if key == "inner" else 18)
        parts.append(
            f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 30}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2.2"/>'
            f'<text x="{left + plot_w + 34}" y="{legend_y}" font-size="10.5" fill="{TEXT}">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
