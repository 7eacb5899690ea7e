"""core.csv_safe: formula-like cells neutralised (OWASP CSV injection), everything else unchanged."""

import csv
import io

import pytest

from core import csv_safe


@pytest.mark.parametrize(
    "value",
    [
        "=cmd|' /C calc'!A0",
        '=HYPERLINK("http://evil.example","click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "--",
        "==",
    ],
)
def test_formula_like_text_gets_an_apostrophe(value):
    assert csv_safe.neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["label", "a=b", " =1", "", "'quoted", "NN+MM", "12", "-0.12", "+3", "-1e-5", ".5", "-.5", "-", "="]
)
def test_other_text_and_plain_numbers_are_unchanged(value):
    assert csv_safe.neutralise(value) == value


@pytest.mark.parametrize("value", [-1, -0.5, 3, None, True])
def test_non_text_values_are_unchanged(value):
    assert csv_safe.neutralise(value) is value


@pytest.mark.parametrize("value", ["=1+1", "@x", "-2+3", "\tx", "plain", "'kept", "-0.12"])
def test_restore_undoes_neutralise(value):
    assert csv_safe.restore(csv_safe.neutralise(value)) == value


def test_writer_neutralises_every_cell_and_keeps_the_dialect():
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\n")
    writer.writerow(["id", "=1+1", 5, "-7", "@me"])
    writer.writerows([["a", "+x"], ["b", "ok"]])
    assert writer.dialect.lineterminator == "\n"
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["id", "'=1+1", "5", "-7", "'@me"], ["a", "'+x"], ["b", "ok"]]


def test_writer_keeps_csv_quoting():
    out = io.StringIO()
    csv_safe.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(['=a,"b"', "c"])
    assert out.getvalue() == '"\'=a,""b""","c"\r\n'


def test_dict_writer_neutralises_header_and_values():
    out = io.StringIO()
    writer = csv_safe.DictWriter(out, fieldnames=["=head", "b"], restval="-", lineterminator="\n")
    writer.writeheader()
    writer.writerow({"=head": "=evil()", "b": "fine"})
    writer.writerow({"=head": "x"})
    assert out.getvalue().splitlines() == ["'=head,b", "'=evil(),fine", "x,-"]
