"""Table 1's chart: readable whole-number y ticks, and both series visible when they coincide."""

import pytest

from reports.table1 import chart, nice_ticks


@pytest.mark.parametrize(
    "top, expected",
    [
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 2, 4, 6, 8, 10]),
        (37, [0, 10, 20, 30, 40]),
        (92, [0, 20, 40, 60, 80, 100]),
        (0, [0, 1]),
    ],
)
def test_nice_ticks(top, expected):
    assert nice_ticks(top) == expected


def test_ticks_cover_the_data_in_round_steps():
    for top in range(1, 500):
        ticks = nice_ticks(top)
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 6
        steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
        assert len(steps) == 1 and str(steps.pop()).lstrip("0")[0] in "125"


def test_coinciding_series_get_distinct_markers():
    table = {
        "rows": [
            {"round": "1", "new_inner": [2], "new_leaves": 2},
            {"round": "2", "new_inner": [1], "new_leaves": 3},
            {"round": "total"},
        ]
    }
    drawn = chart(table)
    first, second = drawn["points"]
    assert first["same"] and first["y_inner"] == first["y_leaves"]
    assert (first["box_x"], first["box_y"]) == (round(first["x"] - 6, 1), round(first["y_leaves"] - 6, 1))
    assert not second["same"]
    assert [t["value"] for t in drawn["ticks"]] == [0, 1, 2, 3, 4, 5]
    assert first["label"] == "Round 1"
