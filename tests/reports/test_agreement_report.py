"""Taxonomy levels and the agreement report with its renderers (reports.agreement). No database."""

import csv
import io
import json

import krippendorff
import numpy as np
import pytest

from reports.agreement import (
    FORMATS,
    Ratings,
    agreement_report,
    krippendorff_alpha,
    level_table,
    level_value,
    levels_of,
    parse_level,
    render,
)
from reports.agreement.charts import alpha_chart, kappa_colour, pair_matrices

# label -> nodes from the top-level category down to the node holding the label
PATHS = {
    "wrong tensor shape": ("Model", "Tensors & Inputs", "Wrong shape"),
    "wrong shape of input data for a layer": ("Model", "Tensors & Inputs", "Wrong input"),
    "missing softmax": ("Model", "Layers"),
    "GPU out of memory": ("GPU Usage",),
}
FALSE_POSITIVE = "false positive"


def test_parse_level():
    assert [parse_level(x) for x in ("leaf", "LEAF", " 1", 2, "03")] == ["leaf", "leaf", "1", "2", "3"]
    for bad in ("0", "-1", "top", "", "1.5"):
        with pytest.raises(ValueError):
            parse_level(bad)


def test_levels_of_the_tree():
    assert levels_of(PATHS) == ["leaf", "1", "2", "3"]
    assert levels_of({}) == ["leaf"]


@pytest.mark.parametrize(
    ("value", "level", "expected"),
    [
        ("wrong tensor shape", "leaf", "wrong tensor shape"),
        ("wrong tensor shape", "1", "Model"),
        ("wrong tensor shape", "2", "Tensors & Inputs"),
        ("wrong tensor shape", "3", "Wrong shape"),
        ("wrong tensor shape", "9", "Wrong shape"),  # deeper than the tree: its own node
        ("missing softmax", "3", "Layers"),  # placed above depth 3: keeps its own node
        ("GPU out of memory", "2", "GPU Usage"),
        ("not placed anywhere", "1", "not placed anywhere"),  # unplaced: its own value at every level
        (FALSE_POSITIVE, "1", FALSE_POSITIVE),  # verdicts stay themselves
        (FALSE_POSITIVE, "leaf", FALSE_POSITIVE),
    ],
)
def test_level_value(value, level, expected):
    assert level_value(value, level, PATHS) == expected


def test_level_table_codes_values_at_a_level():
    names = ["GPU out of memory", "missing softmax", "wrong shape of input data for a layer", "wrong tensor shape"]
    table, level_names = level_table(names, "2", PATHS)
    assert level_names == ["GPU Usage", "Layers", "Tensors & Inputs"]
    assert [level_names[c] for c in table] == ["GPU Usage", "Layers", "Tensors & Inputs", "Tensors & Inputs"]


def study_like_rounds():
    """Two rounds: in round 1 ana and ben word the same category differently on two items."""
    round1 = Ratings.from_triples(
        [
            (1, "ana", "wrong tensor shape"), (1, "ben", "wrong shape of input data for a layer"),
            (2, "ana", "missing softmax"), (2, "ben", "missing softmax"),
            (3, "ana", "GPU out of memory"), (3, "ben", FALSE_POSITIVE), (3, "cy", "GPU out of memory"),
            (4, "ana", "wrong shape of input data for a layer"), (4, "ben", "wrong tensor shape"),
            (5, "ana", FALSE_POSITIVE), (5, "ben", FALSE_POSITIVE),
            (6, "cy", "missing softmax"),
        ]
    )  # fmt: skip
    round2 = Ratings.from_triples([(1, "ana", "missing softmax"), (1, "cy", "missing softmax")])
    return [(1, round1), (2, round2)]


def test_report_has_a_row_per_round_and_level():
    report = agreement_report(study_like_rounds(), paths=PATHS)
    assert [(r["round"], r["level"]) for r in report["rows"]] == [
        (1, "leaf"), (1, "1"), (1, "2"), (1, "3"), (2, "leaf"), (2, "1"), (2, "2"), (2, "3"),
    ]  # fmt: skip
    assert set(report) == {"rows", "pairs", "disagreements"}
    row = report["rows"][0]
    assert list(row) == [
        "round", "level", "items", "ratings", "percent", "cohen_kappa_mean", "fleiss_kappa",
        "krippendorff_alpha", "alpha_ci95",
    ]  # fmt: skip
    assert (row["items"], row["ratings"]) == (6, 12)
    assert row["percent"] == pytest.approx((0 + 1 + 1 / 3 + 0 + 1) / 5, abs=1e-4)
    assert row["fleiss_kappa"] is None  # item 3 has three ratings, the others two
    by_level = {r["level"]: r for r in report["rows"] if r["round"] == 1}
    # the two wordings agree from level 2 up: alpha rises from leaf to level 2
    assert by_level["leaf"]["krippendorff_alpha"] < by_level["2"]["krippendorff_alpha"]
    assert by_level["2"]["percent"] == pytest.approx((1 + 1 + 1 / 3 + 1 + 1) / 5, abs=1e-4)
    lo, hi = by_level["leaf"]["alpha_ci95"]
    assert lo <= hi
    # round 2: one value only — undefined figures are null
    round2 = [r for r in report["rows"] if r["round"] == 2]
    assert all(r["krippendorff_alpha"] is None and r["alpha_ci95"] is None for r in round2)
    assert all(r["percent"] == 1.0 for r in round2)


def test_report_leaf_alpha_equals_the_package():
    rounds = study_like_rounds()
    report = agreement_report(rounds, paths=PATHS, levels=["leaf"])
    names = rounds[0][1].value_names
    matrix = [[np.nan] * 6 for _ in range(3)]
    for item, rater, value in zip(rounds[0][1].items, rounds[0][1].raters, rounds[0][1].values, strict=True):
        matrix[rater][item] = value
    expected = krippendorff.alpha(matrix, level_of_measurement="nominal", value_domain=list(range(len(names))))
    assert report["rows"][0]["krippendorff_alpha"] == pytest.approx(expected, abs=5e-5)


def test_pairs_at_the_first_level_asked_and_disagreements_per_level():
    report = agreement_report(study_like_rounds(), paths=PATHS, levels=["2", "leaf"])
    assert [(r["round"], r["level"]) for r in report["rows"]] == [(1, "2"), (1, "leaf"), (2, "2"), (2, "leaf")]
    pairs = {(p["round"], p["a"], p["b"]): p for p in report["pairs"]}
    assert set(pairs) == {(1, "ana", "ben"), (1, "ana", "cy"), (1, "ben", "cy"), (2, "ana", "cy")}
    assert pairs[(1, "ana", "ben")]["items"] == 5
    assert list(pairs[(1, "ana", "ben")]) == ["round", "a", "b", "items", "cohen_kappa"]
    leaf = [d for d in report["disagreements"] if d["level"] == "leaf"]
    assert leaf[1] == {
        "round": 1,
        "level": "leaf",
        "value_a": "wrong shape of input data for a layer",
        "value_b": "wrong tensor shape",
        "count": 2,
    }
    # ties in the count go by the values' sorted order
    assert [(d["value_a"], d["value_b"], d["count"]) for d in leaf] == [
        ("GPU out of memory", FALSE_POSITIVE, 2),
        ("wrong shape of input data for a layer", "wrong tensor shape", 2),
    ]
    level2 = [(d["value_a"], d["value_b"], d["count"]) for d in report["disagreements"] if d["level"] == "2"]
    assert level2 == [("GPU Usage", FALSE_POSITIVE, 2)]


def test_json_has_null_never_nan():
    report = agreement_report(study_like_rounds(), paths=PATHS, levels=["leaf"])
    text = render(report, "json")
    assert "NaN" not in text and "Infinity" not in text

    def strict(constant):
        raise AssertionError(constant)

    parsed = json.loads(text, parse_constant=strict)
    assert parsed["rows"][1]["krippendorff_alpha"] is None
    assert parsed == json.loads(json.dumps(report))


def test_every_format_renders():
    report = agreement_report(study_like_rounds(), paths=PATHS, levels=["leaf", "1"])
    outputs = {fmt: render(report, fmt) for fmt in FORMATS}
    assert set(FORMATS) == {"table", "csv", "json", "latex", "markdown"}
    rows = list(csv.reader(io.StringIO(outputs["csv"].split("\n\n")[0])))
    assert rows[0][:2] == ["round", "level"] and rows[0][-2:] == ["alpha_ci95_low", "alpha_ci95_high"]
    assert len(rows) == 1 + len(report["rows"])
    assert float(rows[1][7]) == report["rows"][0]["krippendorff_alpha"]
    assert rows[3][7] == ""  # round 2: null
    assert r"Tensors \& Inputs" not in outputs["latex"]  # leaf and level 1 only
    assert r"\begin{tabular}" in outputs["latex"] and r"Kripp. $\alpha$" in outputs["latex"]
    assert "| Round | Level |" in outputs["markdown"]
    assert "Kripp. α" in outputs["table"].splitlines()[2]
    with pytest.raises(ValueError):
        render(report, "xlsx")


def test_latex_and_markdown_escape_values():
    r = Ratings.from_triples([(1, "a", "50% & more_x"), (1, "b", "a|b"), (2, "a", "x"), (2, "b", "x")])
    report = agreement_report([(1, r)], paths={}, levels=["leaf"])
    assert r"50\% \& more\_x" in render(report, "latex")
    assert r"a\|b" in render(report, "markdown")


def test_krippendorff_alpha_of_a_level_is_alpha_of_the_mapped_values():
    rounds = study_like_rounds()
    report = agreement_report(rounds, paths=PATHS, levels=["1"])
    r = rounds[0][1]
    mapped = Ratings.from_triples(
        (int(i), int(k), level_value(r.value_names[v], "1", PATHS))
        for i, k, v in zip(r.items, r.raters, r.values, strict=True)
    )
    assert report["rows"][0]["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(mapped), abs=5e-5)


def test_alpha_chart_geometry():
    report = agreement_report(study_like_rounds(), paths=PATHS, levels=["leaf", "2"])
    chart = alpha_chart(report, level="2")
    assert [p["label"] for p in chart["points"]] == ["Round 1", "Round 2"]
    first, second = chart["points"]
    assert first["alpha"] == report["rows"][1]["krippendorff_alpha"]  # round 1, level 2
    assert chart["top"] <= first["y_hi"] <= first["y"] <= first["y_lo"] <= chart["bottom"]
    assert second["y"] is None and second["y_lo"] is None  # undefined alpha: no point
    assert chart["path"] == f"{first['x']},{first['y']}"
    assert [t["value"] for t in chart["ticks"]] in (
        ["0.00", "0.25", "0.50", "0.75", "1.00"],
        ["-0.50", "0.00", "0.50", "1.00"],
    )
    lone = Ratings.from_triples([(1, "a", "x"), (1, "b", "x")])
    assert alpha_chart(agreement_report([(1, lone)], paths={})) is None


def test_pair_matrices_are_symmetric_heat_maps():
    report = agreement_report(study_like_rounds(), paths=PATHS, levels=["leaf"])
    first = pair_matrices(report)[0]
    assert [n["name"] for n in first["names"]] == ["ana", "ben", "cy"]
    cells = {(c["a"], c["b"]): c for c in first["cells"]}
    assert len(cells) == 6
    assert cells[("ana", "ben")]["kappa"] == cells[("ben", "ana")]["kappa"]
    ab, ba = cells[("ana", "ben")], cells[("ben", "ana")]
    assert ab["x"] - first["label_width"] == ba["y"] - first["header"] == first["cell"]  # ben's column, ben's row
    assert ab["y"] == first["header"] and ba["x"] == first["label_width"]
    assert kappa_colour(None) == "#eef0f3" and kappa_colour(0.0) == "#ffffff" and kappa_colour(1.0) == "#2f6fdb"
    assert kappa_colour(-1.0) == "#c83c32"
