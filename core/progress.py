"""Pieces shared by the importers: the report, progress, projects and labels in bulk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, message: str = "") -> None:
    return None


class Throttled:
    """Calls `progress` at most every `interval` seconds (and always for the last step)."""

    def __init__(self, progress: Progress | None, interval: float = 0.5):
        self.progress = progress or no_progress
        self.interval = interval
        self.last = 0.0

    def __call__(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self.last >= self.interval:
            self.last = now
            self.progress(done, total, message)


@dataclass
class Problems:
    """Rows skipped (not imported) and warnings (imported, with a remark), each with its row number."""

    skipped: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    @staticmethod
    def _entry(row, reason, sheet):
        entry = {"row": row, "reason": reason}
        if sheet:
            entry["sheet"] = sheet
        return entry

    def skip(self, row: int, reason: str, sheet: str | None = None) -> None:
        self.skipped.append(self._entry(row, reason, sheet))

    def warn(self, row: int | None, reason: str, sheet: str | None = None) -> None:
        self.warnings.append(self._entry(row, reason, sheet))
