"""Geometry of the agreement page's figures, as numbers for templates to draw as inline SVG
(like Table 1's chart): alpha per round with its interval, and the pair matrix as a heat map."""

from __future__ import annotations

from .levels import LEAF


def _round_label(value) -> str:
    text = str(value)
    return f"Round {text}" if text.isdigit() else text.capitalize()


def alpha_chart(report: dict, *, level: str = LEAF, width: int = 640, height: int = 280) -> dict | None:
    """Krippendorff's alpha of each round at `level` as a point with its 95 % interval as a
    whisker; the y axis runs from min(0, lowest bound) to 1. None when no round has an alpha."""
    rows = [r for r in report["rows"] if r["level"] == level]
    if not any(r["krippendorff_alpha"] is not None for r in rows):
        return None
    left, right, top, bottom = 48, 24, 24, 40
    low = min([0.0] + [r["alpha_ci95"][0] for r in rows if r["alpha_ci95"]])
    low = min(low, *(r["krippendorff_alpha"] for r in rows if r["krippendorff_alpha"] is not None))
    low = -1.0 if low < -0.5 else (-0.5 if low < 0 else 0.0)
    step = (width - left - right) / max(1, len(rows))

    def y(value: float) -> float:
        return round(top + (height - top - bottom) * (1 - (value - low) / (1 - low)), 1)

    points = []
    for i, row in enumerate(rows):
        alpha, interval = row["krippendorff_alpha"], row["alpha_ci95"]
        points.append(
            {
                "label": _round_label(row["round"]),
                "x": round(left + step * (i + 0.5), 1),
                "alpha": alpha,
                "y": None if alpha is None else y(alpha),
                "lo": None if interval is None else interval[0],
                "hi": None if interval is None else interval[1],
                "y_lo": None if interval is None else y(interval[0]),
                "y_hi": None if interval is None else y(interval[1]),
                "percent": row["percent"],
            }
        )
    tick = 0.25 if low == 0 else 0.5
    ticks = [low + k * tick for k in range(round((1 - low) / tick) + 1)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "level": level,
        "points": points,
        "path": " ".join(f"{p['x']},{p['y']}" for p in points if p["y"] is not None),
        "ticks": [{"value": f"{t:.2f}", "y": y(t)} for t in ticks],
        "zero_y": y(0.0),
        "good_y": y(0.8),  # Krippendorff's threshold for reliable data
        "label_y": height - bottom + 18,
    }


def kappa_colour(kappa: float | None) -> str:
    """A fill for a kappa: grey when undefined, white at 0 to blue at 1, white to red below 0."""
    if kappa is None:
        return "#eef0f3"
    strength = max(-1.0, min(1.0, kappa))
    target = (47, 111, 219) if strength >= 0 else (200, 60, 50)
    mix = abs(strength)
    r, g, b = (round(255 + (c - 255) * mix) for c in target)
    return f"#{r:02x}{g:02x}{b:02x}"


def pair_matrices(report: dict, *, cell: int = 44, label_width: int = 120, header: int = 80) -> list[dict]:
    """Per round, the evaluators and a symmetric matrix of Cohen's kappa (cells with the
    number of shared items), as geometry for a heat map: names down the left (`label_width`)
    and slanted along the top (`header`)."""
    rounds: dict = {}
    for pair in report["pairs"]:
        rounds.setdefault(pair["round"], []).append(pair)
    out = []
    for round_key, pairs in rounds.items():
        names = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
        index = {name: i for i, name in enumerate(names)}
        cells = []
        for p in pairs:
            for a, b in ((p["a"], p["b"]), (p["b"], p["a"])):
                cells.append(
                    {
                        "x": label_width + index[b] * cell,
                        "y": header + index[a] * cell,
                        "cx": label_width + index[b] * cell + cell / 2,
                        "cy": header + index[a] * cell + cell / 2,
                        "a": a,
                        "b": b,
                        "kappa": p["cohen_kappa"],
                        "text": "–" if p["cohen_kappa"] is None else f"{p['cohen_kappa']:.2f}",
                        "items": p["items"],
                        "fill": kappa_colour(p["cohen_kappa"]),
                        "dark": p["cohen_kappa"] is not None and abs(p["cohen_kappa"]) > 0.6,
                    }
                )
        width = label_width + len(names) * cell + header  # room for the last slanted name
        out.append(
            {
                "round": round_key,
                "label": _round_label(round_key),
                "names": [
                    {
                        "name": n,
                        "x": label_width + i * cell,
                        "y": header + i * cell,
                        "column": label_width + i * cell + cell / 2,
                        "row": header + i * cell + cell / 2,
                    }
                    for i, n in enumerate(names)
                ],
                "cells": cells,
                "cell": cell,
                "label_width": label_width,
                "header": header,
                "width": width,
                "height": header + len(names) * cell + 4,
            }
        )
    return out
