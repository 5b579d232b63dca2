"""Cross-row arithmetic as lhs/rhs frames: one frame row per (report, rule, key).

Equalities (T3-H1, T3-H2) fill `lhs`/`rhs`; bounds (T3-C1) fill `small`/`big`. A side with
an unknown cell is missing, so the expectation skips it (not evaluated, never failed).
Within-row rules (T3-H3, T4-H1, T2-19-1) live in the table frames as derived columns.
"""

from __future__ import annotations

import math

import pandas as pd

from tasks.checks.frames import Report
from tasks.checks.identities import Cell, bounds, identities

CROSS_ROW_RULES = ("T3-H1", "T3-H2")
COLUMNS = ["report_id", "agency_id", "rule", "key", "lhs", "rhs", "small", "big"]
INDEX = ["report_id", "agency_id", "rule", "key"]


def side(cells: tuple[Cell, ...], values: dict[Cell, float | None]) -> float:
    vals = [values.get(c) for c in cells]
    return math.nan if any(v is None for v in vals) else float(sum(vals))  # type: ignore[arg-type]


def _rows(rep: Report) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    base = {"report_id": rep.report_id, "agency_id": rep.agency_id}
    for ident in identities(rep.format_version):
        if ident.rule in CROSS_ROW_RULES:
            out.append({**base, "rule": ident.rule, "key": ident.key, "lhs": side(ident.lhs, rep.values),
                        "rhs": side(ident.rhs, rep.values), "small": math.nan, "big": math.nan})
    for b in bounds(rep.format_version):
        out.append({**base, "rule": b.rule, "key": b.key, "lhs": math.nan, "rhs": math.nan,
                    "small": side(b.small, rep.values), "big": side(b.big, rep.values)})
    return out


def identity_frame(reports: list[Report]) -> pd.DataFrame:
    """The lhs/rhs frame of every report whose tables were read."""
    recs = [r for rep in reports if rep.tables_read for r in _rows(rep)]
    return pd.DataFrame.from_records(recs, columns=COLUMNS)
