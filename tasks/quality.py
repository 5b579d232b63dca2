"""Quality reports: per agency (JSON and HTML), across agencies (HTML), and the run's summary.

Pure: records in, documents and strings out. No prefect, boto3 or great_expectations here; the
pipeline writes what these functions return through its storage layer, and publishes
`run_summary` as Prefect markdown and table artifacts.

- `agency_quality` builds the JSON document of one agency (quality/<agency_id>.json);
- `agency_stats` and `offenders` say what the overview and the run summary show of each document;
- `run_summary` gives the markdown and the table rows of the run's artifacts.

The pages people read (quality/<agency_id>.html, index.html, quarantine.html) are rendered from
these documents by `tasks.quality_pages`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from tasks.records import CheckResult, Quarantined
from tasks.redact import redact_location, redact_text
from tasks.spec import t2, t3, t4

# ----------------------------------------------------------------------------------------------------
# the key totals charted across years
# ----------------------------------------------------------------------------------------------------


class KeyTotal(NamedTuple):
    name: str
    table: str
    row: str  # a canonical row key, or a derived one (t4 `litigation_all`: the sum of its parts)
    col: str
    caption: str


KEY_TOTALS: tuple[KeyTotal, ...] = (
    KeyTotal("new_received", "t3", "new_received", "total", "本年新收申请"),
    KeyTotal("total_processed", "t3", "total_processed", "total", "办理结果总计"),
    KeyTotal("carried_forward", "t3", "carried_forward", "total", "结转下年度"),
    KeyTotal("admin_review", "t4", "admin_review", "total", "行政复议"),
    KeyTotal("litigation", "t4", "litigation_all", "total", "行政诉讼"),
    KeyTotal("licensing_decisions", "t2", "administrative_licensing", "decisions", "行政许可决定"),
    KeyTotal("penalty_decisions", "t2", "administrative_penalty", "decisions", "行政处罚决定"),
)
_DERIVED_ROWS: dict[tuple[str, str], tuple[str, ...]] = {("t4", k): v for k, v in t4.DERIVED_ROWS.items()}
_NO_NUMBER = frozenset({"blank", "dash", "text", "not_in_format", "not_found", "image_only", "out_of_range", "ocr_unconfirmed"})


def _cell_number(cell: Mapping[str, Any]) -> float | None:
    """The printed number of a cell dict; None for anything not printed as a number (blank is not 0)."""
    value = cell.get("value")
    if cell.get("status") in _NO_NUMBER or value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def key_totals(cells: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """The KEY_TOTALS of one report from its cell dicts (table, row, col, value, status).

    A derived total (行政诉讼) is the printed derived cell if there is one, else the sum of its
    parts when every part is a number; a blank anywhere gives None, never 0.
    """
    values = {(c.get("table"), c.get("row"), c.get("col")): _cell_number(c) for c in cells}
    out: dict[str, float | None] = {}
    for kt in KEY_TOTALS:
        value = values.get((kt.table, kt.row, kt.col))
        parts = _DERIVED_ROWS.get((kt.table, kt.row))
        if value is None and parts:
            found = [values.get((kt.table, r, kt.col)) for r in parts]
            value = None if any(v is None for v in found) else float(sum(v for v in found if v is not None))
        out[kt.name] = value
    return out


# ----------------------------------------------------------------------------------------------------
# labels: the printed Chinese label next to each canonical key
# ----------------------------------------------------------------------------------------------------

_SECTION = {"t2": "二", "t3": "三", "t4": "四"}
_T3_SUBGROUPS = {t3.DENIED, t3.UNAVAILABLE, t3.NOT_PROCESSED, t3.OTHER}
_TRAILING_NOTE = re.compile(r"(?<=.)（[^（）]*）$")


def _short(label: str) -> str:
    """Drop a trailing filling note: （二）部分公开（区分处理的，…） → （二）部分公开."""
    return _TRAILING_NOTE.sub("", label)


def _t3_row_label(row: t3.Row) -> str:
    return f"{row.group}·{row.label}" if row.group in _T3_SUBGROUPS and row.group != row.label else row.label


_ROW_LABELS: dict[tuple[str, str], str] = {
    **{("t2", r.key): r.label for b in t2.BLOCKS for r in b.rows},
    **{("t3", r.key): _t3_row_label(r) for r in t3.ROWS},
    **{("t3", k): f"{g}·小计" for k, g in zip(t3.DERIVED_GROUPS, (t3.DENIED, t3.UNAVAILABLE, t3.NOT_PROCESSED))},
    **{("t4", r.key): f"{r.group}·{r.label}" if r.group else r.label for r in t4.ROWS},
    ("t4", "litigation_all"): "行政诉讼·合计",
}
_COL_LABELS: dict[tuple[str, str], str] = {
    **{("t3", c.key): c.label for c in t3.COLUMNS},
    ("t3", "legal_person_subtotal"): "法人或其他组织·小计",
    **{("t4", c.key): c.label for c in t4.COLUMNS},
}
_T2_COL_LABELS: dict[tuple[str, str], str] = {}
for _block in t2.BLOCKS:
    for _fmt, _cols in _block.columns.items():
        for _col in _cols:
            _T2_COL_LABELS.setdefault((_fmt, _col.key), _col.label)
            _COL_LABELS.setdefault(("t2", _col.key), _col.label)


def cell_label(table: str, row: str | None, col: str | None, format_version: str | None = None) -> str:
    """The printed label of a cell, e.g. `三·（一）予以公开 × 总计`; unknown keys are shown as they are."""
    fmt = "2019" if format_version == "2019" else "2021" if format_version else None
    col_label = _T2_COL_LABELS.get((fmt or "", col or "")) if table == "t2" else None
    col_label = col_label or _COL_LABELS.get((table, col or ""), col)
    row_label = _ROW_LABELS.get((table, row or ""), row)
    parts = [_short(x) for x in (row_label, col_label) if x]
    return f"{_SECTION.get(table, table)}·{' × '.join(parts) if parts else '（整表）'}"


def cell_key(cell: Mapping[str, Any]) -> str:
    """The canonical key of a cell dict as `t3.granted.total`."""
    return ".".join(str(cell[k]) for k in ("table", "row", "col") if cell.get(k) is not None)


# ----------------------------------------------------------------------------------------------------
# the JSON document of one agency
# ----------------------------------------------------------------------------------------------------


@dataclass
class ReportEntry:
    """One published report of an agency, as the quality report sees it."""

    year: int | None
    report_id: str
    source: str
    status: str  # "passed" | "warned" | "failed"
    format_version: str
    media: str
    agency: str | None = None  # as printed in this report's title
    last_modified: datetime | None = None
    superseded: bool = False  # a later upload of the same agency and year replaced it
    checks: list[CheckResult] = field(default_factory=list)
    key_totals: dict[str, float | None] = field(default_factory=dict)
    ocr: dict[str, int] = field(default_factory=dict)
    """Cells read by OCR and published (`cells`), and refused as ocr_unconfirmed (`refused`)."""


def ocr_counts(cells: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of a report's cells came from OCR and were published, and how many were refused."""
    read = refused = 0
    for c in cells:
        if c.get("status") == "ocr_unconfirmed":
            refused += 1
        elif c.get("source_kind") == "ocr":
            read += 1
    return {"cells": read, "refused": refused}


def safe_source(source: str | None) -> str:
    """An object key or path fit to publish: every URL in it without credentials (tasks/redact.py)."""
    return redact_location(source)


def scrub(text: str | None) -> str:
    """A message fit to publish: every URL in it without credentials (tasks/redact.py)."""
    return redact_text(text)


def _jsonable(x: Any) -> Any:
    if isinstance(x, Decimal):
        return int(x) if x == x.to_integral_value() else float(x)
    if isinstance(x, datetime):
        return x.isoformat()
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [_jsonable(v) for v in x]
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    return str(x)


def _check_dict(c: CheckResult) -> dict[str, Any]:
    """A check as JSON; a passed one compactly (no cells, no origin)."""
    cells = [] if c.passed else _jsonable(c.cells)
    return {
        "rule": c.rule,
        "severity": c.severity,
        "passed": c.passed,
        "message": c.message,
        "cells": cells,
        "origin": None if c.passed else c.origin,
    }


def _counts(checks: Sequence[CheckResult]) -> dict[str, int]:
    failed = [c for c in checks if not c.passed]
    return {
        "failed_errors": sum(c.severity == "error" for c in failed),
        "warnings": sum(c.severity == "warn" for c in failed),
        "infos": sum(c.severity == "info" for c in failed),
        "passed": len(checks) - len(failed),
    }


def _sort_time(t: datetime | None) -> float:
    return t.timestamp() if t else -math.inf


def _report_dict(e: ReportEntry) -> dict[str, Any]:
    return {
        "year": e.year,
        "report_id": e.report_id,
        "source": safe_source(e.source),
        "status": e.status,
        "format_version": e.format_version,
        "media": e.media,
        "agency": e.agency,
        "last_modified": e.last_modified.isoformat() if e.last_modified else None,
        "superseded": e.superseded,
        "counts": _counts(e.checks),
        "checks": [_check_dict(c) for c in e.checks],
        "key_totals": _jsonable(dict(e.key_totals)),
        "ocr": {"cells": e.ocr.get("cells", 0), "refused": e.ocr.get("refused", 0)},
    }


def _quarantine_dict(q: Quarantined) -> dict[str, Any]:
    return {**q.to_dict(), "source": safe_source(q.source), "message": scrub(q.message)}


def _summary(reports: list[dict[str, Any]], quarantine: list[dict[str, Any]]) -> dict[str, Any]:
    current = [r for r in reports if not r["superseded"]]
    years = sorted({r["year"] for r in current if r["year"] is not None})
    out: dict[str, Any] = {"reports": len(current), "superseded": len(reports) - len(current)}
    out |= {s: sum(r["status"] == s for r in current) for s in ("passed", "warned", "failed")}
    out |= {k: sum(r["counts"][k] for r in current) for k in ("failed_errors", "warnings", "infos")}
    out |= {f"ocr_{k}": sum(r.get("ocr", {}).get(k, 0) for r in current) for k in ("cells", "refused")}
    return out | {"quarantined": len(quarantine), "years": years}


def agency_quality(
    agency: str | None,
    agency_id: str,
    entries: list[ReportEntry],
    quarantined: list[Quarantined],
    generated_at: datetime,
) -> dict[str, Any]:
    """The quality document of one agency (quality/<agency_id>.json): plain JSON types only."""
    ordered = sorted(entries, key=lambda e: (e.year is None, e.year or 0, _sort_time(e.last_modified)))
    reports = [_report_dict(e) for e in ordered]
    quarantine = [_quarantine_dict(q) for q in sorted(quarantined, key=lambda q: _sort_time(q.at))]
    return {
        "agency": agency,
        "agency_id": agency_id,
        "generated_at": generated_at.isoformat(),
        "reports": reports,
        "quarantine": quarantine,
        "summary": _summary(reports, quarantine),
    }


QUARANTINE_ID = "quarantine"
"""agency_id of the pseudo-agency that lists quarantined files whose agency could not be told."""


# ----------------------------------------------------------------------------------------------------
# across agencies
# ----------------------------------------------------------------------------------------------------


@dataclass
class AgencyStats:
    """What the overview and the run summary say about one agency document (its current reports)."""

    agency: str
    agency_id: str
    years: list[int]
    statuses: dict[str, int]
    failed_errors: int
    warnings: int
    quarantined: int
    by_year: dict[int, str]  # year → status of the current report


def agency_stats(doc: Mapping[str, Any]) -> AgencyStats:
    current = [r for r in doc.get("reports", []) if not r.get("superseded")]
    counts = [r.get("counts") or {} for r in current]
    by_year = {r["year"]: str(r.get("status")) for r in current if r.get("year") is not None}
    return AgencyStats(
        agency=str(doc.get("agency") or "（未识别的机关）"),
        agency_id=str(doc.get("agency_id") or ""),
        years=sorted(by_year),
        statuses={s: sum(r.get("status") == s for r in current) for s in ("passed", "warned", "failed")},
        failed_errors=sum(int(c.get("failed_errors", 0)) for c in counts),
        warnings=sum(int(c.get("warnings", 0)) for c in counts),
        quarantined=len(doc.get("quarantine", [])),
        by_year=by_year,
    )


def offenders(stats: Sequence[AgencyStats], limit: int = 20) -> list[AgencyStats]:
    """Agencies with failed reports or failed error checks, the worst first."""
    bad = [s for s in stats if s.failed_errors or s.statuses["failed"]]
    bad.sort(key=lambda s: (-s.failed_errors, -s.statuses["failed"], -s.warnings, s.agency_id))
    return bad[:limit]


# ----------------------------------------------------------------------------------------------------
# the run's Prefect artifacts
# ----------------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|<>#])")


def _md(x: Any, limit: int = 160) -> str:
    """A markdown table cell: one line, markdown and HTML metacharacters escaped, shortened."""
    s = " ".join(str("" if x is None else x).split())
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", s)


def _summary_rows(agencies: Sequence[Mapping[str, Any]], quarantined: Sequence[Quarantined]) -> list[dict[str, Any]]:
    rows = []
    for doc in agencies:
        for r in doc.get("reports", []):
            if r.get("superseded"):
                continue
            counts = r.get("counts") or {}
            ocr = r.get("ocr") or {}
            rows.append(
                {
                    "agency": doc.get("agency"),
                    "agency_id": doc.get("agency_id"),
                    "year": r.get("year"),
                    "status": r.get("status"),
                    "failed_errors": int(counts.get("failed_errors", 0)),
                    "warnings": int(counts.get("warnings", 0)),
                    "source": safe_source(r.get("source")),
                    "note": (f"OCR: {ocr.get('cells', 0)} cells published, {ocr.get('refused', 0)} refused (ocr_unconfirmed)"
                             if ocr.get("cells") or ocr.get("refused") else ""),
                }
            )
    for q in quarantined:
        rows.append(
            {
                "agency": q.agency_hint,
                "agency_id": None,
                "year": None,
                "status": "quarantined",
                "failed_errors": None,
                "warnings": None,
                "source": safe_source(q.source),
                "note": f"{q.error_type}: {' '.join(scrub(q.message).split())[:300]}",
            }
        )
    return rows


def run_summary(agencies: list[dict[str, Any]], quarantined: list[Quarantined]) -> tuple[str, list[dict[str, Any]]]:
    """(markdown, table rows) for the run's Prefect artifacts; sources without query strings."""
    rows = _summary_rows(agencies, quarantined)
    stats = [agency_stats(d) for d in agencies if d.get("agency_id") != QUARANTINE_ID]  # not an agency
    reports = [r for r in rows if r["status"] != "quarantined"]
    n = {s: sum(r["status"] == s for r in reports) for s in ("passed", "warned", "failed")}
    lines = [
        "# 年报质量汇总 (quality summary)",
        "",
        (
            f"- agencies: **{len(stats)}**; current reports: **{len(reports)}** "
            f"(passed {n['passed']}, warned {n['warned']}, failed {n['failed']})"
        ),
        (
            f"- failed error checks: **{sum(r['failed_errors'] for r in reports)}**; "
            f"warnings: **{sum(r['warnings'] for r in reports)}**"
        ),
        f"- quarantined files: **{len(quarantined)}**",
    ]
    worst = offenders(stats, limit=10)
    if worst:
        lines += [
            "",
            "## Worst offenders",
            "",
            "| agency | agency_id | failed error checks | failed reports |",
            "|---|---|---:|---:|",
        ]
        lines += [
            f"| {_md(s.agency)} | {_md(s.agency_id)} | {s.failed_errors} | {s.statuses['failed']} |" for s in worst
        ]
    if quarantined:
        lines += ["", "## Quarantined", "", "| source | error | message |", "|---|---|---|"]
        lines += [
            f"| {_md(safe_source(q.source))} | {_md(q.error_type)} | {_md(scrub(q.message))} |" for q in quarantined
        ]
    return "\n".join(lines) + "\n", rows
