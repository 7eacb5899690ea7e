"""core.uploads: size, ZIP bomb and CSV shape checks on an upload, before anything parses it."""

import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from core import uploads
from core.jobs import job_create
from core.models import Job
from core.uploads import Limits, UploadRejected, check_upload, request_size_limit, sniff_delimiter

MB = 1024 * 1024


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def bomb(unpacked: int) -> bytes:
    """A small ZIP holding `unpacked` bytes of zeros (an XLSX/DOCX bomb's shape)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            chunk = b"0" * MB
            for _ in range(unpacked // MB):
                entry.write(chunk)
    return buffer.getvalue()


def test_size_from_uploaded_file_and_from_a_plain_file_object():
    assert uploads.file_size(SimpleUploadedFile("a.csv", b"x" * 10)) == 10
    f = io.BytesIO(b"x" * 25)
    f.seek(3)
    assert uploads.file_size(f) == 25
    assert f.tell() == 3


def test_check_size_refuses_a_file_over_its_limit_with_413():
    uploads.check_size(io.BytesIO(b"x" * 100), limit=100)
    with pytest.raises(UploadRejected) as caught:
        uploads.check_size(io.BytesIO(b"x" * 101), limit=100)
    assert caught.value.status == 413
    assert "limit is 100 bytes" in caught.value.message


def test_a_zip_bomb_is_refused_from_its_directory_quickly_and_in_little_memory():
    data = bomb(300 * MB)
    assert len(data) < 2 * MB
    tracemalloc.start()
    try:
        with pytest.raises(UploadRejected) as caught:
            uploads.check_zip(io.BytesIO(data), max_unpacked=200 * MB, max_entries=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status == 413
    assert "unpacks to 300 MB" in caught.value.message
    assert peak < 5 * MB


def test_a_zip_with_too_many_entries_is_refused():
    data = zip_bytes({f"e{i}.xml": b"" for i in range(30)})
    uploads.check_zip(io.BytesIO(data), max_unpacked=MB, max_entries=30)
    with pytest.raises(UploadRejected, match="30 entries; the limit is 29"):
        uploads.check_zip(io.BytesIO(data), max_unpacked=MB, max_entries=29)


def test_a_file_named_xlsx_that_is_not_a_zip_is_left_to_its_reader():
    """Nothing can be unpacked from it, so no limit applies; the XLSX reader names the problem."""
    assert uploads.check_upload(io.BytesIO(b"not a zip"), kind="round", name="round_1.xlsx") == 9


def test_python_zipfile_never_yields_more_than_the_declared_size():
    """Why the declared sizes bound decompression: a directory that lies makes reading fail, not grow."""
    data = bytearray(zip_bytes({"a.xml": b"A" * 10_000}))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("a.xml")
    lie = (100).to_bytes(4, "little")
    # uncompressed size in the local header (offset 22) and the central directory (offset 24)
    data[info.header_offset + 22 : info.header_offset + 26] = lie
    central = bytes(data).rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = lie
    uploads.check_zip(io.BytesIO(bytes(data)), max_unpacked=100, max_entries=1)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive, pytest.raises(zipfile.BadZipFile):
        archive.read("a.xml")


def test_check_zip_keeps_the_file_position():
    f = io.BytesIO(zip_bytes({"a": b"1"}))
    f.seek(7)
    uploads.check_zip(f, max_unpacked=10, max_entries=10)
    assert f.tell() == 7


def test_csv_within_limits_passes_and_counts_rows():
    data = b'a,b,c\r\n1,2,3\r\n"x,\ny",5,6\r\n'
    assert uploads.check_csv_shape(io.BytesIO(data), max_columns=3, max_cell=10, max_rows=3) == 3


def test_csv_with_too_many_columns_is_refused_in_bounded_memory():
    data = ("," * 1_000_000 + "\n").encode()
    tracemalloc.start()
    try:
        with pytest.raises(UploadRejected) as caught:
            uploads.check_csv_shape(io.BytesIO(data), max_columns=500, max_cell=1000, max_rows=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status == 413
    assert "Row 1 of the file has 1000001 columns; the limit is 500" in caught.value.message
    assert peak < 30 * MB


def test_csv_cell_and_row_limits():
    with pytest.raises(UploadRejected, match="cell of 11 characters; the limit is 10"):
        uploads.check_csv_shape(io.BytesIO(b"a,bbbbbbbbbbb\n"), max_columns=5, max_cell=10, max_rows=10)
    with pytest.raises(UploadRejected, match="more than 2 rows"):
        uploads.check_csv_shape(io.BytesIO(b"a\nb\nc\n"), max_columns=5, max_cell=10, max_rows=2)


def test_a_huge_cell_is_refused_whatever_the_csv_modules_own_limit():
    data = b'"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(UploadRejected) as caught:
        uploads.check_csv_shape(io.BytesIO(data), max_columns=5, max_cell=150_000, max_rows=10)
    assert "limit is 150000" in caught.value.message or "not a readable CSV file" in caught.value.message


def test_tsv_is_checked_with_tabs():
    limits = Limits(size=MB, csv_columns=2)
    uploads.check_upload(io.BytesIO(b"a,b,c\td\n"), kind="round", name="x.tsv", limits=limits)
    with pytest.raises(UploadRejected, match="3 columns"):
        uploads.check_upload(io.BytesIO(b"a\tb\tc\n"), kind="round", name="x.tsv", limits=limits)


def test_csv_check_keeps_an_uploaded_file_open_and_at_its_position():
    upload = SimpleUploadedFile("a.csv", b"a,b\n1,2\n")
    uploads.check_upload(upload, kind="artefacts", name=upload.name)
    assert not upload.closed
    assert upload.read() == b"a,b\n1,2\n"


def test_check_upload_detects_a_zip_without_its_name():
    data = bomb(5 * MB)
    with pytest.raises(UploadRejected, match="unpacks to 5 MB"):
        uploads.check_upload(data, kind="interview", limits=Limits(size=MB, zip_unpacked=4 * MB))


def test_check_upload_checks_size_before_anything_else():
    data = b"x" * 11
    with pytest.raises(UploadRejected) as caught:
        uploads.check_upload(data, kind="interview", name="a.xlsx", limits=Limits(size=10))
    assert caught.value.status == 413


@override_settings(CONCORD_UPLOAD_LIMITS={"interview": 1234}, CONCORD_UPLOAD_CSV_COLUMNS=7)
def test_limits_come_from_settings_per_kind():
    limits = uploads.limits_for("interview")
    assert limits.size == 1234
    assert limits.csv_columns == 7
    assert uploads.limits_for("round").size == uploads.DEFAULT_UPLOAD_LIMITS["round"]
    assert uploads.limits_for("unknown kind").size == uploads.DEFAULT_UPLOAD_LIMITS["default"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"url,title,body\n", ","),
        (b"\xef\xbb\xbfurl;title;body\n", ";"),
        (b"url\ttitle\n", "\t"),
        (b"url|title|body\n", "|"),
        (b"url\n", ","),
        (b"", ","),
        (b'"a;b",c,d\n', ","),  # a tie or more commas: the comma
    ],
)
def test_the_delimiter_is_the_one_the_header_uses(header, expected):
    assert sniff_delimiter(io.BytesIO(header + b"x;y,z\n")) == expected


def test_a_semicolon_csv_is_counted_by_its_semicolons():
    limits = Limits(size=10 * MB, csv_columns=50)
    wide = ";".join(f"c{i}" for i in range(60)).encode() + b"\n"
    with pytest.raises(UploadRejected) as caught:
        check_upload(wide, kind="survey", name="export.csv", limits=limits)
    assert caught.value.message == "Row 1 of the file has 60 columns; the limit is 50."
    narrow = b"url;title\n" + b"https://x.example/1;" + b"a, b, c, " * 20 + b"\n"  # commas inside a cell
    assert check_upload(narrow, kind="survey", name="export.csv", limits=limits) == len(narrow)


@pytest.mark.django_db
def test_a_job_keeps_no_limit_of_its_own_but_the_largest_request(team, settings):
    """Each kind's limit is checked by its app (and set in settings); a job refuses only what no request may
    carry, so raising a kind's limit is enough for its uploads to become jobs."""
    settings.CONCORD_UPLOAD_LIMITS = {"artefacts": 200}
    assert request_size_limit() == max(*uploads.DEFAULT_UPLOAD_LIMITS.values(), 200) + uploads.FORM_OVERHEAD
    settings.CONCORD_MAX_REQUEST_BYTES = 150
    kept = job_create(
        project=team.project,
        user=team.lead,
        kind=Job.Kind.IMPORT_ARTEFACTS,
        input_name="a.csv",
        input_data=b"x" * 150,
        requires_input=True,
    )
    assert bytes(kept.input_data) == b"x" * 150
    with pytest.raises(UploadRejected) as caught:
        job_create(
            project=team.project,
            user=team.lead,
            kind=Job.Kind.IMPORT_ARTEFACTS,
            input_name="b.csv",
            input_data=b"x" * 151,
            requires_input=True,
        )
    assert caught.value.status == 413 and Job.objects.count() == 1
