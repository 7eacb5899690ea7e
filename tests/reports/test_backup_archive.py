"""The backup archive: manifest, JSON Lines per table, checksums; damaged or tampered archives refused."""

import datetime as dt
import decimal
import io
import json
import zipfile

import pytest

from reports.backup.archive import (
    FORMAT_VERSION,
    MANIFEST,
    ArchiveError,
    ArchiveReader,
    ArchiveWriter,
    dump_row,
    member_name,
)

ROWS = {
    "core.project": [{"id": 1, "slug": "demo", "created_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)}],
    "collection.artefact": [
        {"id": i, "url": f"https://github.com/a/b/issues/{i}", "metadata": {"score": decimal.Decimal("1.5")}}
        for i in range(1, 6)
    ],
    "labelling.annotation": [],
}


def build(created_at="2026-01-01T00:00:00+00:00", rows=ROWS) -> bytes:
    buf = io.BytesIO()
    with ArchiveWriter(buf, project="demo", concord_version="0.1.0", created_at=created_at) as writer:
        for table, table_rows in rows.items():
            writer.write_table(table, iter(table_rows))
        writer.extra["note"] = "x"
    return buf.getvalue()


def test_manifest_counts_and_checksums_and_rows_read_back():
    data = build()
    with ArchiveReader(io.BytesIO(data)) as reader:
        manifest = reader.manifest
        assert manifest["format_version"] == FORMAT_VERSION and manifest["project"] == "demo"
        assert manifest["concord_version"] == "0.1.0"
        assert reader.tables == list(ROWS)
        assert reader.counts == {"core.project": 1, "collection.artefact": 5, "labelling.annotation": 0}
        assert set(manifest["members"]) == {member_name(t) for t in ROWS}
        assert manifest["extra"] == {"note": "x"}
        with pytest.raises(ArchiveError, match="verify"):
            next(reader.rows("core.project"))
        reader.verify()
        assert list(reader.rows("core.project")) == [
            {"id": 1, "slug": "demo", "created_at": "2026-01-02T03:04:05+00:00"}
        ]
        assert [r["id"] for r in reader.rows("collection.artefact")] == [1, 2, 3, 4, 5]
        assert reader.rows("collection.artefact").__next__()["metadata"] == {"score": "1.5"}
        assert list(reader.rows("labelling.annotation")) == []


def test_two_exports_differ_only_in_the_manifest_timestamp():
    first = zipfile.ZipFile(io.BytesIO(build("2026-01-01T00:00:00+00:00")))
    second = zipfile.ZipFile(io.BytesIO(build("2026-02-02T00:00:00+00:00")))
    assert first.namelist() == second.namelist()
    for name in first.namelist():
        if name != MANIFEST:
            assert first.read(name) == second.read(name)
    one, two = json.loads(first.read(MANIFEST)), json.loads(second.read(MANIFEST))
    assert one["created_at"] != two["created_at"]
    one.pop("created_at"), two.pop("created_at")
    assert one == two


def test_rows_are_canonical_json_lines():
    assert dump_row({"b": 1, "a": "é"}) == '{"a":"é","b":1}\n'.encode()
    with pytest.raises(TypeError):
        dump_row({"x": object()})


def _rewrite(data: bytes, change) -> bytes:
    """A copy of the archive with `change(name, bytes) -> bytes | None` applied to every member (None drops it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in source.namelist():
            content = change(name, source.read(name))
            if content is not None:
                out.writestr(name, content)
    return buf.getvalue()


def _manifest_edit(edit):
    def change(name, content):
        if name != MANIFEST:
            return content
        manifest = json.loads(content)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


ARTEFACTS = member_name("collection.artefact")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # a row edited after export (same size): the checksum catches it
        (lambda n, c: c.replace(b"issues/3", b"issues/9") if n == ARTEFACTS else c, "SHA-256"),
        # a row added
        (lambda n, c: c + b'{"id":6}\n' if n == ARTEFACTS else c, "bytes"),
        # a member removed
        (lambda n, c: None if n == ARTEFACTS else c, "missing tables/collection.artefact.jsonl"),
        # a member added that the manifest does not list
        (lambda n, c: c, None),
        (lambda n, c: None if n == MANIFEST else c, "no manifest"),
        (lambda n, c: b"{not json" if n == MANIFEST else c, "manifest is damaged"),
        (_manifest_edit(lambda m: m.update(format_version=FORMAT_VERSION + 1)), "newer than this Concord"),
        (_manifest_edit(lambda m: m.update(format="other")), "format"),
        (_manifest_edit(lambda m: m.update(format_version="1")), "format_version"),
        (_manifest_edit(lambda m: m["tables"].append("labelling.verdict")), "without its member"),
        (_manifest_edit(lambda m: m["tables"].append("../x")), "bad table"),
        (_manifest_edit(lambda m: m["members"][ARTEFACTS].update(rows=4)), "rows"),
    ],
)
def test_damaged_or_tampered_archives_are_refused(change, message):
    if message is None:
        data = build()
        source = zipfile.ZipFile(io.BytesIO(data))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as out:
            for name in source.namelist():
                out.writestr(name, source.read(name))
            out.writestr("tables/evil.jsonl", b'{"id":1}\n')
        damaged, message = buf.getvalue(), "does not list: tables/evil.jsonl"
    else:
        damaged = _rewrite(build(), change)
    with pytest.raises(ArchiveError, match=message), ArchiveReader(io.BytesIO(damaged)) as reader:
        reader.verify()


def test_not_a_zip_and_a_truncated_zip_are_refused():
    with pytest.raises(ArchiveError, match="not a readable zip"):
        ArchiveReader(io.BytesIO(b"hello"))
    data = build()
    with pytest.raises(ArchiveError), ArchiveReader(io.BytesIO(data[: len(data) // 2])) as reader:
        reader.verify()


def test_a_table_cannot_be_written_twice_and_names_are_checked():
    writer = ArchiveWriter(io.BytesIO(), project="p", concord_version="0")
    writer.write_table("core.project", [])
    with pytest.raises(ValueError, match="twice"):
        writer.write_table("core.project", [])
    with pytest.raises(ValueError, match="bad table"):
        writer.write_table("../etc", [])
    writer.abort()


def test_writing_streams_rows_from_a_generator(tmp_path):
    path = tmp_path / "big.zip"
    consumed = []

    def rows():
        for i in range(20000):
            consumed.append(i)
            yield {"id": i, "text": "x" * 50}

    with ArchiveWriter(str(path), project="p", concord_version="0") as writer:
        assert writer.write_table("collection.artefact", rows()) == 20000
    with ArchiveReader(str(path)) as reader:
        reader.verify()
        assert reader.counts["collection.artefact"] == 20000
        assert sum(1 for _ in reader.rows("collection.artefact")) == 20000
