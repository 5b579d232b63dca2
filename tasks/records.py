"""Records passed between the pipeline's steps: pure data, no I/O.

- `ObjectInfo`: an uploaded object (or local file) as listed by a store, or as a read returned it
  (then with its `version_id`, on a versioned bucket).
- `ReportMeta`: who and what a report is, once extracted (ids derive from content and name).
- `CheckResult` / `Validated`: the outcome of the validation rules for one report.
- `Quarantined`: a file that could not be published, and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

QUALITY_STATUSES = ("passed", "warned", "failed")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class ReportMeta:
    report_id: str
    source: str
    sha256: str
    media: str
    agency: str | None
    agency_id: str | None
    year: int | None
    format_version: str
    last_modified: datetime | None = None


@dataclass
class CheckResult:
    """One rule applied to one report (spec §6 rule ids).

    `cells` name the cells concerned: {"table", "row", "col", "page", "value"} and, where a
    single changed cell would satisfy every failing identity, "suggested" (never applied).
    `origin`, for a failure: "source" when the printed digits were read with certainty and
    the document disagrees with itself; "extraction" when a reading problem is more likely.
    """

    rule: str
    severity: str
    passed: bool
    message: str
    cells: list[dict[str, Any]] = field(default_factory=list)
    origin: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Validated:
    report_id: str
    status: str  # one of QUALITY_STATUSES
    checks: list[CheckResult]
    blank_readings: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(table, row, col) of each blank cell → "zero_confirmed" or "unknown" (BLANK-01)."""


@dataclass(frozen=True)
class Quarantined:
    source: str
    sha256: str
    error_type: str
    message: str
    at: datetime
    pipeline_version: str
    agency_hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return d
