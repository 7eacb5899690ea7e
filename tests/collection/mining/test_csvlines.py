import pytest

from collection.mining.csvlines import EXTRA_CELLS, UNTERMINATED_QUOTE, CsvMalformed, check_csv, read_csv

GOOD_AND_BAD = (
    "url,title\n"
    "https://stackoverflow.com/q/1,Plain title\n"
    "https://stackoverflow.com/q/2,Title, with a comma\n"
    '"https://stackoverflow.com/q/3","Quoted, fine"\n'
    'https://stackoverflow.com/q/4,"never closed\n'
    "https://stackoverflow.com/q/5,After the bad line\n"
)


def test_reports_malformed_lines_with_numbers():
    problems = check_csv(GOOD_AND_BAD)
    assert [(p.line, p.kind) for p in problems] == [(3, EXTRA_CELLS), (5, UNTERMINATED_QUOTE)]


def test_error_mode_raises_with_every_problem():
    with pytest.raises(CsvMalformed) as exc:
        read_csv(GOOD_AND_BAD)
    assert "line 3" in str(exc.value) and "line 5" in str(exc.value)


def test_keep_whole():
    table = read_csv(GOOD_AND_BAD, on_malformed="keep")
    rows = {line: row for line, row in table.rows}
    assert rows[3]["title"] == "Title, with a comma"
    assert rows[4]["title"] == "Quoted, fine"
    assert rows[5] == {"url": "https://stackoverflow.com/q/4", "title": '"never closed'}
    assert rows[6]["title"] == "After the bad line"
    assert len(table.problems) == 2


def test_skip():
    table = read_csv(GOOD_AND_BAD, on_malformed="skip")
    assert [line for line, _ in table.rows] == [2, 4, 6]


def test_multiline_quoted_cell_is_fine_and_short_lines_are_padded():
    text = 'a,b,c\n1,"two\nlines",3\n4\n'
    table = read_csv(text)
    assert table.rows == [(2, {"a": "1", "b": "two\nlines", "c": "3"}), (4, {"a": "4", "b": "", "c": ""})]
    assert table.problems == []


def test_no_header():
    with pytest.raises(ValueError, match="no header"):
        read_csv("\n\n")
    with pytest.raises(ValueError, match="on_malformed"):
        read_csv("a\n", on_malformed="cut")
