"""Inline SVG charts, generated on the server (no JS chart library, nothing from the internet)."""

from django.utils.html import escape
from django.utils.safestring import mark_safe


def final_tags_chart(rows: list[dict], *, height: int = 160) -> str:
    """Stacked bars per interview: accepted, removed, and final tags awaiting review; a dashed line
    at the mean. `rows` as from `selectors.final_tags_per_interview`. Empty string without data."""
    if not rows:
        return ""
    top = max(max(r["final"], 1) for r in rows)
    bar, gap, left, bottom, pad_top = 22, 8, 34, 22, 10
    width = left + len(rows) * (bar + gap) + gap
    plot = height - bottom - pad_top

    def y(value):
        return pad_top + plot - plot * value / top

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Final tags per interview</title>',
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width}" y2="{y(0):.1f}" stroke="#98a2b3"/>',
        f'<text x="{left - 6}" y="{y(top) + 4:.1f}" text-anchor="end" font-size="10">{top}</text>',
        f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, row in enumerate(rows):
        x = left + gap + i * (bar + gap)
        pending = row["final"] - row["accepted"] - row["removed"]
        base = 0
        for value, colour, name in (
            (row["accepted"], "#1f8a4c", "accepted"),
            (row["removed"], "#c0392b", "removed"),
            (pending, "#b7791f", "awaiting review"),
        ):
            if value:
                parts.append(
                    f'<rect x="{x}" y="{y(base + value):.1f}" width="{bar}" height="{y(base) - y(base + value):.1f}" '
                    f'fill="{colour}"><title>Interview {escape(row["number"])}: {value} {name}</title></rect>'
                )
                base += value
        label = escape(row["number"])
        parts.append(f'<text x="{x + bar / 2}" y="{height - 6}" text-anchor="middle" font-size="10">{label}</text>')
    mean = sum(r["final"] for r in rows) / len(rows)
    parts.append(
        f'<line x1="{left}" y1="{y(mean):.1f}" x2="{width}" y2="{y(mean):.1f}" stroke="#2f6fdb" stroke-dasharray="4 3">'
        f"<title>mean {mean:.2f}</title></line>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # built from numbers only, each escaped
