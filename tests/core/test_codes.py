import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.codes import code_parts, code_sort_key, sorted_by_code


def test_parts_ignore_blanks_and_outer_dots():
    assert code_parts(" 4.2. ") == ["4", "2"]
    assert code_parts("") == []
    assert code_parts(None) == []


def test_minor_numbers_sort_numerically():
    codes = ["5.10", "5.8", "5.1", "5.2", "5.7", "5.9", "5.11"]
    assert sorted(codes, key=code_sort_key) == ["5.1", "5.2", "5.7", "5.8", "5.9", "5.10", "5.11"]


def test_top_level_ten_after_nine():
    assert sorted(["10", "9", "1", "2"], key=code_sort_key) == ["1", "2", "9", "10"]


def test_parent_before_children_and_depth_mixed():
    codes = ["5.10", "5", "4.2.1", "4.10", "4.2", "4", "5.8.3", "5.8"]
    assert sorted(codes, key=code_sort_key) == ["4", "4.2", "4.2.1", "4.10", "5", "5.8", "5.8.3", "5.10"]


@pytest.mark.parametrize("blank", ["", None, "  ", "."])
def test_uncoded_after_every_coded_sibling(blank):
    assert sorted([blank, "99.99", "1"], key=code_sort_key) == ["1", "99.99", blank]


def test_letters_after_digits_and_case_insensitive():
    assert sorted(["3b", "3A", "3", "3.1", "10", "A"], key=code_sort_key) == ["3", "3.1", "3A", "3b", "10", "A"]


def test_leading_zeros_compare_by_value():
    assert code_sort_key("05.08") == code_sort_key("5.8")


def test_sorted_by_code_with_names_breaks_ties_and_orders_uncoded_by_name():
    rows = [("", "zeta"), ("5.10", "ten"), ("", "Alpha"), ("5.8", "eight"), ("5.1", "one")]
    ordered = sorted_by_code(rows, code=lambda r: r[0], name=lambda r: r[1])
    assert ordered == [("5.1", "one"), ("5.8", "eight"), ("5.10", "ten"), ("", "Alpha"), ("", "zeta")]
    assert sorted_by_code(rows, code=lambda r: r[0])[:3] == [("5.1", "one"), ("5.8", "eight"), ("5.10", "ten")]


codes = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(codes, max_size=30))
def test_numeric_codes_order_as_integer_tuples(values):
    shuffled = list(values)
    random.Random(0).shuffle(shuffled)
    expected = sorted(values, key=lambda c: tuple(int(p) for p in c.split(".")))
    assert sorted(shuffled, key=code_sort_key) == expected
