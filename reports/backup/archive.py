"""The whole-project backup archive: a zip of JSON Lines tables and a manifest, written and checked as streams.

Layout (format version 1):

    manifest.json              written last: what the archive holds
    tables/<app>.<model>.jsonl one JSON object per line, per table, in the order restored

`manifest.json`:

    {"format": "concord-project-backup", "format_version": 1, "concord_version": "…",
     "created_at": "…", "project": "<slug>", "tables": ["core.project", …],
     "counts": {"core.project": 1, …},
     "members": {"tables/core.project.jsonl": {"sha256": "…", "bytes": 123, "rows": 1}, …},
     "extra": {…}}

Rows are written with sorted keys and no spaces, and every entry carries a fixed date,
so the same project gives the same bytes for every member; only the manifest's
`created_at` changes between two exports. A reader refuses, before anything is
restored (ArchiveError with the reason): a file that is not a zip, a missing or
unreadable manifest, another format or a newer format version, a member listed but
missing, a member not listed, a size, row count or SHA-256 that differs from the manifest.
Members are hashed and read in chunks, so memory stays flat whatever their size.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import json
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

FORMAT = "concord-project-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLE_DIR = "tables/"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
CHUNK = 1 << 16
MAX_MANIFEST_BYTES = 16 << 20


class ArchiveError(Exception):
    """The archive cannot be restored: damaged, tampered with, or from an unknown format version."""


def encode_value(value: Any) -> Any:
    """JSON for the values a database row holds (dates as ISO 8601, decimals and UUIDs as text, bytes as base64)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_row(row: dict) -> bytes:
    return (
        json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=encode_value) + "\n"
    ).encode("utf-8")


def member_name(table: str) -> str:
    if not table or "/" in table or "\\" in table or table.startswith("."):
        raise ValueError(f"bad table name {table!r}")
    return f"{TABLE_DIR}{table}.jsonl"


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = 1  # fast (`compress_level` from Python 3.13 on): JSON Lines compress well even so
    info.external_attr = 0o644 << 16
    return info


class ArchiveWriter:
    """Write tables one after the other, then the manifest (on close)."""

    def __init__(self, target: str | BinaryIO, *, project: str, concord_version: str, created_at: str | None = None):
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.project = project
        self.concord_version = concord_version
        self.created_at = created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.tables: list[str] = []
        self.members: dict[str, dict] = {}
        self.extra: dict = {}
        self._closed = False

    def write_table(self, table: str, rows: Iterable[dict]) -> int:
        if table in self.tables:
            raise ValueError(f"table {table!r} written twice")
        name = member_name(table)
        digest = hashlib.sha256()
        size = count = 0
        with self._zip.open(_info(name), "w", force_zip64=True) as out:
            pending: list[bytes] = []
            for row in rows:
                pending.append(dump_row(row))
                count += 1
                if len(pending) >= 1000:  # one write (and hash update) per thousand rows
                    size += self._flush(out, digest, pending)
            size += self._flush(out, digest, pending)
        self.tables.append(table)
        self.members[name] = {"sha256": digest.hexdigest(), "bytes": size, "rows": count}
        return count

    @staticmethod
    def _flush(out, digest, pending: list[bytes]) -> int:
        if not pending:
            return 0
        chunk = b"".join(pending)
        pending.clear()
        out.write(chunk)
        digest.update(chunk)
        return len(chunk)

    def manifest(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "concord_version": self.concord_version,
            "created_at": self.created_at,
            "project": self.project,
            "tables": list(self.tables),
            "counts": {t: self.members[member_name(t)]["rows"] for t in self.tables},
            "members": self.members,
            "extra": self.extra,
        }

    def close(self) -> dict:
        if self._closed:
            return self.manifest()
        manifest = self.manifest()
        data = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        self._zip.writestr(_info(MANIFEST), data)
        self._zip.close()
        self._closed = True
        return manifest

    def abort(self) -> None:
        if not self._closed:
            self._zip.close()
            self._closed = True

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class ArchiveReader:
    """Open and check an archive (`verify`), then read its tables row by row."""

    def __init__(self, source: str | BinaryIO):
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveError(f"Not a Concord backup: the file is not a readable zip archive ({exc}).") from exc
        self.manifest = self._read_manifest()
        self._verified = False

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_manifest(self) -> dict:
        try:
            info = self._zip.getinfo(MANIFEST)
        except KeyError:
            raise ArchiveError("Not a Concord backup: the archive has no manifest.json.") from None
        if info.file_size > MAX_MANIFEST_BYTES:
            raise ArchiveError("The manifest is implausibly large; refusing the archive.")
        try:
            manifest = json.loads(self._zip.read(info).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(f"The manifest is damaged: {exc}.") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"Not a Concord backup: the manifest's format is not {FORMAT!r}.")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise ArchiveError(f"The manifest has no valid format_version ({version!r}).")
        if version > FORMAT_VERSION:
            raise ArchiveError(
                f"The archive is in backup format version {version}, newer than this Concord reads "
                f"(version {FORMAT_VERSION}); upgrade Concord to restore it."
            )
        tables, members = manifest.get("tables"), manifest.get("members")
        if not isinstance(tables, list) or not isinstance(members, dict):
            raise ArchiveError("The manifest lists no tables or members.")
        for table in tables:
            try:
                name = member_name(table)
            except (ValueError, TypeError):
                raise ArchiveError(f"The manifest names a bad table {table!r}.") from None
            if name not in members:
                raise ArchiveError(f"The manifest lists table {table!r} without its member.")
        return manifest

    @property
    def tables(self) -> list[str]:
        return list(self.manifest["tables"])

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.manifest.get("counts") or {})

    def verify(self) -> None:
        """Every listed member present with its size, row count and SHA-256; no member unlisted."""
        listed = set(self.manifest["members"])
        present = {i.filename for i in self._zip.infolist() if not i.is_dir()}
        missing = sorted(listed - present)
        if missing:
            raise ArchiveError(f"The archive is incomplete: missing {', '.join(missing)}.")
        unlisted = sorted(present - listed - {MANIFEST})
        if unlisted:
            raise ArchiveError(f"The archive holds members the manifest does not list: {', '.join(unlisted)}.")
        for name, expected in sorted(self.manifest["members"].items()):
            self._verify_member(name, expected)
        self._verified = True

    def _verify_member(self, name: str, expected: dict) -> None:
        info = self._zip.getinfo(name)
        if info.file_size != expected.get("bytes"):
            raise ArchiveError(f"{name} has {info.file_size} bytes, the manifest says {expected.get('bytes')}.")
        digest = hashlib.sha256()
        rows = 0
        try:
            with self._zip.open(info) as member:
                while chunk := member.read(CHUNK):
                    digest.update(chunk)
                    rows += chunk.count(b"\n")
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"{name} is damaged: {exc}.") from exc
        if digest.hexdigest() != expected.get("sha256"):
            raise ArchiveError(f"{name} does not match its SHA-256 checksum in the manifest; the archive was altered.")
        if rows != expected.get("rows"):
            raise ArchiveError(f"{name} has {rows} rows, the manifest says {expected.get('rows')}.")

    def rows(self, table: str) -> Iterator[dict]:
        if not self._verified:
            raise ArchiveError("verify() the archive before reading it")
        name = member_name(table)
        with self._zip.open(name) as member:
            for number, line in enumerate(io.TextIOWrapper(member, encoding="utf-8"), start=1):
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise ArchiveError(f"{name} line {number} is not JSON: {exc}.") from exc
                if not isinstance(row, dict):
                    raise ArchiveError(f"{name} line {number} is not an object.")
                yield row
