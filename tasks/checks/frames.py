"""Extraction dicts → per-report effective values → stacked pandas frames for the suites.

Every frame carries the index columns `report_id`, `agency_id` and the row key; blank cells
enter with the value BLANK-01 gives them (0, or missing when unfilled); missing values are
skipped by the expectations, so identities over unknown cells are not evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tasks.checks.blanks import BlankResult, read_blanks
from tasks.checks.identities import T3_COLUMNS, T4_BLOCKS, Cell, t3_row_keys
from tasks.spec import SECTIONS, base_format, cell_keys, t2, t3, t4

INDEX = ["report_id", "agency_id", "row"]
"""Index columns of the table frames (`unexpected_index_column_names`)."""


@dataclass
class Report:
    """One extraction, keyed by canonical cell, with its BLANK-01 reading."""

    extraction: dict[str, Any]
    report_id: str
    agency_id: str
    format_version: str
    cells: dict[Cell, dict[str, Any]]
    blanks: BlankResult

    @property
    def values(self) -> dict[Cell, float | None]:
        return self.blanks.values

    @property
    def tables_read(self) -> bool:
        return self.format_version in ("2019", "2021", "2021_mixed")


def _cell_key(c: dict[str, Any]) -> Cell:
    return (str(c["table"]), str(c["row"]), str(c["col"]))


def _printed(c: dict[str, Any]) -> float | None:
    if c.get("status") != "reported" or c.get("value") is None:
        return None
    return float(c["value"])


def prepare(extraction: dict[str, Any]) -> Report:
    """Index an extraction dict by cell and read its blanks (BLANK-01)."""
    cells = {_cell_key(c): c for c in extraction.get("cells", [])}
    fv = str(extraction.get("format_version") or "unknown")
    printed = {k: _printed(c) for k, c in cells.items()}
    blanks = {k for k, c in cells.items() if c.get("status") == "blank"}
    id_fv = fv if fv in ("2019", "2021", "2021_mixed") else "2021"
    return Report(
        extraction,
        str(extraction["report_id"]),
        str(extraction.get("agency_id") or ""),
        fv,
        cells,
        read_blanks(printed, blanks, id_fv),
    )


def _nan(v: float | None) -> float:
    return math.nan if v is None else v


def t2_columns(fmt: str) -> tuple[str, ...]:
    """Value columns of table 2 in a base format, in spec order, each once."""
    seen: dict[str, None] = {}
    for block in t2.BLOCKS:
        for col in block.columns.get(fmt, ()):  # type: ignore[call-overload]
            seen.setdefault(col.key, None)
    return tuple(seen)


def t2_frame(reports: list[Report], fmt: str) -> pd.DataFrame:
    """One frame row per (report, table-2 row) of reports whose table 2 is printed in `fmt`."""
    cols = t2_columns(fmt)
    rows_ = [r.key for b in t2.BLOCKS for r in b.rows if fmt in r.formats]
    recs = []
    for rep in reports:
        if not rep.tables_read or base_format(rep.format_version) != fmt:
            continue
        for i, row in enumerate(rows_):
            vals = {c: _nan(rep.values.get(("t2", row, c))) for c in cols}
            recs.append({"report_id": rep.report_id, "agency_id": rep.agency_id, "row": row, "row_index": i, **vals})
    return _with_fraction(pd.DataFrame.from_records(recs, columns=[*INDEX, "row_index", *cols]), cols, fmt)


def _with_fraction(df: pd.DataFrame, cols: tuple[str, ...], fmt: str | None) -> pd.DataFrame:
    """Derived DOM-01 columns, one expectation each instead of one per cell column:
    `fraction` (fractional part of the row's count cells, expected 0) and `row_min` (smallest
    value of the row's unsigned cells, expected ≥ 0)."""
    counts = [c for c in cols if _kind(c, fmt) == "count"]
    unsigned = [c for c in cols if _kind(c, fmt) != "signed"]
    empty = pd.Series(dtype=float)
    df["fraction"] = (df[counts].fillna(0) % 1).abs().sum(axis=1) if len(df) else empty
    df["row_min"] = df[unsigned].min(axis=1) if len(df) else empty
    return df


def _kind(col: str, fmt: str | None) -> str:
    if fmt is None:
        return "count"
    for block in t2.BLOCKS:
        for c in block.columns.get(fmt, ()):  # type: ignore[call-overload]
            if c.key == col:
                return c.kind
    return "count"


def t3_family(format_version: str) -> str:
    """The table-3 suite of a format: `2021`, or `2019` (also `2021_mixed`: same rows)."""
    return "2021" if format_version == "2021" else "2019"


def t3_frame(reports: list[Report], family: str) -> pd.DataFrame:
    """One frame row per (report, table-3 row) with `parts_sum` = sum of the six applicant columns."""
    recs = []
    for rep in reports:
        if not rep.tables_read or t3_family(rep.format_version) != family:
            continue
        for i, row in enumerate(t3_row_keys(rep.format_version)):
            vals = {c: rep.values.get(("t3", row, c)) for c in T3_COLUMNS}
            parts = [vals[c] for c in t3.APPLICANT_COLUMNS]
            psum = math.nan if any(v is None for v in parts) else float(sum(parts))  # type: ignore[arg-type]
            recs.append(
                {"report_id": rep.report_id, "agency_id": rep.agency_id, "row": row, "row_index": i,
                 **{c: _nan(v) for c, v in vals.items()}, "parts_sum": psum}
            )
    df = pd.DataFrame.from_records(recs, columns=[*INDEX, "row_index", *T3_COLUMNS, "parts_sum"])
    return _with_fraction(df, T3_COLUMNS, None)


def t4_frame(reports: list[Report]) -> pd.DataFrame:
    """One frame row per (report, table-4 block) with `parts_sum` of 维持+纠正+其他+尚未审结."""
    cols = tuple(c.key for c in t4.COLUMNS)
    recs = []
    for rep in reports:
        if not rep.tables_read:
            continue
        for i, block in enumerate(T4_BLOCKS):
            vals = {c: rep.values.get(("t4", block, c)) for c in cols}
            parts = [vals[p] for p in t4.PARTS]
            psum = math.nan if any(v is None for v in parts) else float(sum(parts))  # type: ignore[arg-type]
            recs.append(
                {"report_id": rep.report_id, "agency_id": rep.agency_id, "row": block, "row_index": i,
                 **{c: _nan(v) for c, v in vals.items()}, "parts_sum": psum}
            )
    df = pd.DataFrame.from_records(recs, columns=[*INDEX, "row_index", *cols, "parts_sum"])
    return _with_fraction(df, cols, None)


STRUCTURE_COLUMNS = (
    "sections_found", "sections_in_order", "format_known", "tables_missing", "cells_missing", "mixed_layout",
)


def structure_frame(reports: list[Report]) -> pd.DataFrame:
    """One frame row per report: the counts the STRUCT rules test."""
    recs = [{"report_id": r.report_id, "agency_id": r.agency_id, "row": "report", **structure_counts(r)} for r in reports]
    return pd.DataFrame.from_records(recs, columns=[*INDEX, *STRUCTURE_COLUMNS])


def structure_counts(rep: Report) -> dict[str, int]:
    sections = rep.extraction.get("sections") or {}
    found = sum(1 for s in SECTIONS if str(s.number) in sections)
    struct01 = any(i.get("rule") == "STRUCT-01" for i in rep.extraction.get("issues", []))
    missing, tables_missing = _missing_cells(rep)
    return {
        "sections_found": found,
        "sections_in_order": 0 if struct01 else 1,
        "format_known": 1 if rep.tables_read else 0,
        "tables_missing": tables_missing,
        "cells_missing": missing,
        "mixed_layout": 1 if rep.format_version == "2021_mixed" else 0,
    }


_LOST = ("not_found", "image_only", "ocr_unconfirmed")


def expected_cells(rep: Report) -> list[Cell]:
    """Cells the report's layout must carry (2021_mixed: without the three absent （六） leaves)."""
    if not rep.tables_read:
        return []
    keys = [(k.table, k.row, k.col) for k in cell_keys(rep.format_version)]
    if rep.format_version == "2021_mixed":
        keys = [k for k in keys if k[1] not in t3.OTHER_LEAVES]
    return keys


def _missing_cells(rep: Report) -> tuple[int, int]:
    if not rep.tables_read:
        return 0, 3
    lost = [k for k in expected_cells(rep) if rep.cells.get(k, {}).get("status", "not_found") in _LOST]
    tables_missing = 0
    for table in ("t2", "t3", "t4"):
        exp = [k for k in expected_cells(rep) if k[0] == table]
        if exp and all(k in lost for k in exp):
            tables_missing += 1
    return len(lost), tables_missing
