import tracemalloc
from xml.sax.saxutils import quoteattr

import py7zr
import pytest

from collection.mining.posts import PostRules, PostsSelector, parse_tags, select_posts, title_word_pattern


def _row(**attrs):
    return "  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items()) + " />\n"


def _question(pid, title, views, tags, *, accepted=None, body="<p>body</p>"):
    attrs = {"Id": pid, "PostTypeId": 1, "Score": 2, "ViewCount": views, "Body": body, "Title": title, "Tags": tags}
    if accepted:
        attrs["AcceptedAnswerId"] = accepted
    return _row(**attrs)


def _answer(pid, parent, body):
    return _row(Id=pid, PostTypeId=2, ParentId=parent, Score=1, Body=body)


def posts_xml(rows: list[str]) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n<posts>\n' + "".join(rows) + "</posts>\n"


EDGE_CASES = [
    _question(1, "Tensor shape mismatch", 100, "<python><tensorflow>", accepted=2),
    _answer(2, 1, "<p>reshape it &amp; go</p>"),
    _question(3, "Loss < 0.5 and accuracy > 0.9", 300, "|tensorflow|keras|", accepted=4),
    _answer(4, 3, "<p>lower the learning rate</p>"),
    _question(5, "How do I fix NaN", 5000, "<tensorflow>", accepted=6),
    _answer(6, 5, "x"),
    _question(7, "showing a wrong accuracy", 200, "<tensorflow>", accepted=8),
    _answer(8, 7, "<p>shuffle</p>"),
    _question(9, "No accepted answer here", 9000, "<tensorflow>"),
    _question(10, "Keras only", 9999, "<keras>", accepted=11),
    _question(12, "Cannot INSTALL on Windows", 800, "|tensorflow|", accepted=13),
    _question(14, "tensorflow-gpu is a different tag", 700, "<tensorflow-gpu>", accepted=15),
    _question(16, "rebuild the graph", 50, "<TensorFlow>", accepted=17),
]


def _write(tmp_path, rows, name="Posts.xml"):
    path = tmp_path / name
    path.write_text(posts_xml(rows), encoding="utf-8")
    return path


def test_tags_in_both_formats():
    assert parse_tags("<python><tensorflow>") == ["python", "tensorflow"]
    assert parse_tags("|python|tensorflow|") == ["python", "tensorflow"]
    assert parse_tags("") == []


def test_title_words_are_whole_words_case_insensitive():
    pattern = title_word_pattern(["how", "install", "build"])
    assert pattern.search("How to")
    assert pattern.search("pip INSTALL fails")
    assert not pattern.search("showing")
    assert not pattern.search("rebuild")
    assert not pattern.search("installation")
    assert title_word_pattern([]) is None


def test_study_rules_on_edge_cases(tmp_path):
    path = _write(tmp_path, EDGE_CASES)
    questions, stats = select_posts(path, PostRules(tag="tensorflow", top=10))
    assert [q.id for q in questions] == [3, 7, 1, 16]  # by views, descending
    assert questions[0].title == "Loss < 0.5 and accuracy > 0.9"  # entities decoded by the XML parser
    assert questions[0].tags == ["tensorflow", "keras"]
    assert questions[2].answer_body == "<p>reshape it &amp; go</p>"
    assert questions[1].answer_body == "<p>shuffle</p>"
    assert stats.excluded_title == 2 and stats.without_accepted_answer == 1
    assert stats.questions == 9


def test_without_the_accepted_answer_rule_and_without_title_words(tmp_path):
    path = _write(tmp_path, EDGE_CASES)
    rules = PostRules(tag="tensorflow", excluded_title_words=(), accepted_answer=False, top=3)
    questions, _ = select_posts(path, rules)
    assert [q.id for q in questions] == [9, 5, 12]


def test_top_n_heap_keeps_best_and_their_answers_only(tmp_path):
    rows = []
    for i in range(1, 201):
        rows.append(_question(2 * i, f"q{i}", (i * 37) % 101, "<tensorflow>", accepted=2 * i + 1))
        rows.append(_answer(2 * i + 1, 2 * i, f"a{i}"))
    selector = PostsSelector(PostRules(tag="tensorflow", top=5))
    data = posts_xml(rows).encode()
    for start in range(0, len(data), 777):  # chunks split rows and attributes anywhere
        selector.feed(data[start : start + 777])
    selector.close()
    result = selector.result()
    expected = sorted(range(1, 201), key=lambda i: (-((i * 37) % 101), i))[:5]
    assert [q.id for q in result] == [2 * i for i in expected]
    assert [q.answer_body for q in result] == [f"a{i}" for i in expected]
    assert len(selector._by_id) == 5 and len(selector._wanted_answers) == 5


def test_inside_a_7z_archive(tmp_path):
    xml = _write(tmp_path, EDGE_CASES)
    archive = tmp_path / "stackoverflow.com-Posts.7z"
    with py7zr.SevenZipFile(archive, "w") as out:
        out.write(xml, "Posts.xml")
    questions, _ = select_posts(archive, PostRules(tag="tensorflow", top=10))
    assert [q.id for q in questions] == [3, 7, 1, 16]
    assert questions[2].answer_body == "<p>reshape it &amp; go</p>"


def test_7z_without_posts_xml(tmp_path):
    other = tmp_path / "Users.xml"
    other.write_text("<users/>")
    archive = tmp_path / "x.7z"
    with py7zr.SevenZipFile(archive, "w") as out:
        out.write(other, "Users.xml")
    with pytest.raises(ValueError, match="no Posts.xml"):
        select_posts(archive, PostRules(tag="tensorflow"))


def test_memory_stays_flat(tmp_path):
    body = "<p>" + "tensor " * 300 + "</p>"
    small = _write(
        tmp_path, [_question(i, f"q{i}", i, "<python>", accepted=i, body=body) for i in range(1, 500)], "s.xml"
    )
    large = _write(
        tmp_path, [_question(i, f"q{i}", i, "<python>", accepted=i, body=body) for i in range(1, 5000)], "l.xml"
    )
    peaks = []
    for path in (small, large):
        tracemalloc.start()
        select_posts(path, PostRules(tag="tensorflow"))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert large.stat().st_size > 9 * small.stat().st_size
    assert peaks[1] < 2 * peaks[0] + 1_000_000  # ten times the file, not ten times the memory


def test_rules_validation():
    with pytest.raises(ValueError):
        PostRules(tag=" ")
    with pytest.raises(ValueError):
        PostRules(tag="x", order="likes")
    with pytest.raises(ValueError):
        PostRules(tag="x", top=0)
