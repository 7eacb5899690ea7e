"""Checks on an uploaded file before anything parses it.

Every upload path (pages, API, commands) calls `check_upload(f, kind=..., name=...)` first:
- its size against the limit of its kind (`CONCORD_UPLOAD_LIMITS` in settings, bytes);
- an XLSX/DOCX (a ZIP) is checked from its central directory only, without decompressing anything:
  the number of entries and the total declared size once unpacked. Python's zipfile never yields more
  than an entry's declared size (and then fails its CRC check), so the declared total bounds what
  openpyxl or python-docx can unpack;
- a CSV's shape: columns per row, characters per cell and rows.

A refused file raises `UploadRejected` (an InvalidInput) with a message for the user and an HTTP status
(413 for too large, 400 for malformed); nothing has been read into the database at that point.
"""

import csv
import io
import os
import zipfile
from dataclasses import dataclass

from django.conf import settings

from core.errors import InvalidInput

MB = 1024 * 1024
ZIP_SIGNATURE = b"PK\x03\x04"
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".docx", ".zip")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")

# Bytes per kind of upload; settings.CONCORD_UPLOAD_LIMITS overrides any of them.
DEFAULT_UPLOAD_LIMITS = {
    "artefacts": 50 * MB,
    "round": 50 * MB,
    "interview": 5 * MB,
    "interview_sheet": 10 * MB,
    "taxonomy": 10 * MB,
    "survey": 10 * MB,
    "vocabulary": 10 * MB,
    "default": 20 * MB,
}


@dataclass(frozen=True)
class Limits:
    size: int
    zip_unpacked: int = 200 * MB
    zip_entries: int = 2_000
    csv_columns: int = 500
    csv_cell: int = 100_000
    csv_rows: int = 1_000_000


class UploadRejected(InvalidInput):
    """A refused upload: a domain error (pages and API answer it as a 4xx naming the field)."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = "file"):
        super().__init__(message, field=field, code="upload_rejected")
        self.status = status
        self.status_code = status


def limits_for(kind: str) -> Limits:
    """The limits of one kind of upload, from settings (CONCORD_UPLOAD_LIMITS, CONCORD_UPLOAD_ZIP_*, _CSV_*)."""
    sizes = {**DEFAULT_UPLOAD_LIMITS, **getattr(settings, "CONCORD_UPLOAD_LIMITS", {})}
    defaults = Limits(size=0)
    return Limits(
        size=int(sizes.get(kind, sizes["default"])),
        zip_unpacked=int(getattr(settings, "CONCORD_UPLOAD_ZIP_UNPACKED", defaults.zip_unpacked)),
        zip_entries=int(getattr(settings, "CONCORD_UPLOAD_ZIP_ENTRIES", defaults.zip_entries)),
        csv_columns=int(getattr(settings, "CONCORD_UPLOAD_CSV_COLUMNS", defaults.csv_columns)),
        csv_cell=int(getattr(settings, "CONCORD_UPLOAD_CSV_CELL", defaults.csv_cell)),
        csv_rows=int(getattr(settings, "CONCORD_UPLOAD_CSV_ROWS", defaults.csv_rows)),
    )


# What a multipart form adds to its largest file (boundaries, headers, the other fields).
FORM_OVERHEAD = 1 * MB


def request_size_limit() -> int:
    """The largest request body Concord reads: CONCORD_MAX_REQUEST_BYTES, else the largest upload limit of
    any kind and its form. A larger one is refused from its Content-Length before any of it is read, so
    no upload is buffered (in memory or in a temporary file) beyond what some kind of upload may be."""
    configured = getattr(settings, "CONCORD_MAX_REQUEST_BYTES", None)
    if configured:
        return int(configured)
    sizes = {**DEFAULT_UPLOAD_LIMITS, **getattr(settings, "CONCORD_UPLOAD_LIMITS", {})}
    return max(int(size) for size in sizes.values()) + FORM_OVERHEAD


def check_request_size(content_length: int) -> None:
    limit = request_size_limit()
    if content_length > limit:
        raise UploadRejected(
            f"The request is {_megabytes(content_length)}; the largest upload accepted is {_megabytes(limit)}.",
            status=413,
            field=None,
        )


def _megabytes(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n} bytes"


def _as_file(data):
    return io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data


def file_size(f) -> int:
    """The size of an uploaded file (Django's UploadedFile.size) or of any seekable file object, unread."""
    size = getattr(f, "size", None)
    if isinstance(size, int):
        return size
    position = f.tell()
    f.seek(0, os.SEEK_END)
    end = f.tell()
    f.seek(position)
    return end


def check_size(f, *, limit: int, what: str = "file") -> int:
    size = file_size(_as_file(f))
    if size > limit:
        raise UploadRejected(
            f"The {what} is {_megabytes(size)}; the limit is {_megabytes(limit)}.",
            status=413,
        )
    return size


def looks_like_zip(f) -> bool:
    position = f.tell()
    f.seek(0)
    head = f.read(4)
    f.seek(position)
    return head == ZIP_SIGNATURE


def check_zip(f, *, max_unpacked: int, max_entries: int, what: str = "file") -> None:
    """Refuse a ZIP (XLSX, DOCX) with too many entries or too large once unpacked; nothing is decompressed.
    A file whose ZIP directory cannot be read passes: no reader can unpack it, and its reader names the problem."""
    position = f.tell()
    try:
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as archive:
                entries = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
            return  # nothing can be unpacked from it: the file's own reader says why it is unreadable
        if len(entries) > max_entries:
            raise UploadRejected(
                f"The {what} holds {len(entries)} entries; the limit is {max_entries}.",
                status=413,
            )
        unpacked = sum(entry.file_size for entry in entries)
        if unpacked > max_unpacked:
            raise UploadRejected(
                f"The {what} unpacks to {_megabytes(unpacked)}; the limit is {_megabytes(max_unpacked)}.",
                status=413,
            )
    finally:
        f.seek(position)


def check_csv_shape(
    f,
    *,
    max_columns: int,
    max_cell: int,
    max_rows: int,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
    what: str = "file",
) -> int:
    """Refuse a CSV with a row wider than max_columns, a cell longer than max_cell or more than max_rows rows.

    Reads the file once, as a stream (one row in memory); returns the number of rows.
    """
    f = _as_file(f)
    position = f.tell()
    f.seek(0)
    text = f if isinstance(f, io.TextIOBase) else io.TextIOWrapper(f, encoding=encoding, errors="replace", newline="")
    # csv's own field limit (131,072 characters) refuses a larger cell before it is built
    reader = csv.reader(text, delimiter=delimiter)
    rows = 0
    try:
        for rows, row in enumerate(reader, start=1):
            if rows > max_rows:
                raise UploadRejected(f"The {what} has more than {max_rows} rows.", status=413)
            if len(row) > max_columns:
                raise UploadRejected(
                    f"Row {rows} of the {what} has {len(row)} columns; the limit is {max_columns}.",
                    status=413,
                )
            longest = max(map(len, row), default=0)
            if longest > max_cell:
                raise UploadRejected(
                    f"Row {rows} of the {what} has a cell of {longest} characters; the limit is {max_cell}.",
                    status=413,
                )
    except csv.Error as exc:
        raise UploadRejected(f"The {what} is not a readable CSV file ({exc}).") from exc
    finally:
        if text is not f:
            text.detach()  # leaves the caller's file open
        f.seek(position)
    return rows


DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(f, *, default: str = ",") -> str:
    """The delimiter a CSV's readers will find: of `, ; tab |`, the most frequent in its first line (the
    header), `default` on a tie or when the line has none. Reads at most 64 KB; the position is kept."""
    f = _as_file(f)
    position = f.tell()
    f.seek(0)
    head = f.read(64 * 1024)
    f.seek(position)
    if isinstance(head, bytes):
        head = head.decode("utf-8", errors="replace")
    line = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts.values())
    if best == 0 or counts[default] == best:
        return default
    return next(d for d in DELIMITERS if counts[d] == best)


def check_upload(f, *, kind: str, name: str = "", limits: Limits | None = None, delimiter: str | None = None) -> int:
    """Every check that applies to this upload (size first, then ZIP or CSV shape); returns its size.

    `f` is bytes or a seekable binary file object (Django's UploadedFile); its position is kept. A CSV's
    columns are counted with `delimiter`, else tab for .tsv, else the one its header uses (`sniff_delimiter`:
    a `;`-separated export is counted by its semicolons).
    """
    f = _as_file(f)
    limits = limits or limits_for(kind)
    size = check_size(f, limit=limits.size)
    lowered = (name or getattr(f, "name", "") or "").lower()
    if lowered.endswith(ZIP_SUFFIXES) or looks_like_zip(f):
        check_zip(f, max_unpacked=limits.zip_unpacked, max_entries=limits.zip_entries)
    elif lowered.endswith(CSV_SUFFIXES):
        check_csv_shape(
            f,
            max_columns=limits.csv_columns,
            max_cell=limits.csv_cell,
            max_rows=limits.csv_rows,
            delimiter=delimiter or ("\t" if lowered.endswith(".tsv") else sniff_delimiter(f)),
        )
    return size


def read_upload(upload, *, kind: str, field: str = "file") -> bytes:
    """The bytes of an uploaded file (Django's UploadedFile), its size checked before anything is read
    and its shape (ZIP directory, CSV) checked after; UploadRejected naming `field` otherwise."""
    limits = limits_for(kind)
    try:
        check_size(upload, limit=limits.size)
        data = upload.read()
        check_upload(data, kind=kind, name=getattr(upload, "name", "") or "", limits=limits)
    except UploadRejected as exc:
        raise UploadRejected(exc.message, status=exc.status, field=field) from None
    return data
