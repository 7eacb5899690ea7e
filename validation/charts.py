"""Inline SVG charts of the survey results, drawn on the server (no JS library, nothing fetched)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe

from validation.selectors import Row

BAR_COLOUR = "#2f6fdb"
TRACK_COLOUR = "#e6ebf2"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def encountered_chart(rows: list[Row], *, width: int = 720) -> str:
    """Horizontal bars: % of respondents who encountered each category, in taxonomy order.

    Labels are indented by level; each bar carries a <title> with the full path and the counts.
    Categories nobody answered get an empty track and "–". Empty string without rows."""
    if not rows:
        return ""
    label_width, value_width, bar_height, gap, top, bottom = 300, 64, 16, 6, 24, 8
    plot = width - label_width - value_width
    height = top + len(rows) * (bar_height + gap) + bottom
    parts = [
        f'<svg class="chart survey-chart" role="img" aria-labelledby="survey-chart-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="survey-chart-title">Share of respondents who encountered each category</title>',
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_width + plot * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - bottom}" stroke="#d0d7e2" '
            f'stroke-dasharray="{"none" if tick in (0, 100) else "2 3"}"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" font-size="10" fill="#57606a">{tick}%</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * (bar_height + gap)
        indent = 12 * max(row.level - 1, 0)
        label = _truncate(row.display_name, 46 - indent // 6)
        pct = row.yes_percent
        weight = "600" if row.kind == "node" and row.level == 1 else "400"
        tooltip = (
            f"{row.path_text}: {row.yes} of {row.respondents} encountered it ({pct:g}%)"
            if pct is not None
            else f"{row.path_text}: no answers yet"
        )
        parts.append(f'<g class="bar" data-category="{row.id}"><title>{escape(tooltip)}</title>')
        parts.append(
            f'<text x="{indent + 4}" y="{y + bar_height - 4}" font-size="12" font-weight="{weight}">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="{TRACK_COLOUR}" rx="2"/>'
        )
        if pct:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{plot * pct / 100:.1f}" height="{bar_height}" '
                f'fill="{BAR_COLOUR}" rx="2"/>'
            )
        value = "–" if pct is None else f"{pct:g}%"
        parts.append(
            f'<text x="{width - 4}" y="{y + bar_height - 4}" text-anchor="end" font-size="12" class="num">'
            f"{value}</text></g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # names escaped above; everything else is numbers
