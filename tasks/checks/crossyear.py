"""Checks against the same agency's previous-year report: XY-01..03 (warn) and PLAUS-02 (info).

Both reports enter as `frames.Report` (so their blanks are read by BLANK-01 alike); cells
without a value on either side are skipped, never counted as disagreements.
"""

from __future__ import annotations

from tasks.checks.frames import Report
from tasks.checks.identities import T3_COLUMNS, Cell
from tasks.checks.localize import cell_ref
from tasks.checks.status import quality_status
from tasks.records import CheckResult
from tasks.spec import RULES_BY_ID, base_format

PLAUS_FACTOR = 10.0
PLAUS_MIN_ABS = 50.0
KEY_TOTALS: tuple[tuple[str, tuple[Cell, ...]], ...] = (
    ("new_received.total", (("t3", "new_received", "total"),)),
    ("admin_review.total", (("t4", "admin_review", "total"),)),
    ("litigation_all.total", (("t4", "litigation_direct", "total"), ("t4", "litigation_after_review", "total"))),
)
T2_CONTINUITY_ROWS = ("regulations", "normative_documents")
CROSS_YEAR_RULES = ("XY-01", "XY-02", "XY-03", "PLAUS-02")
"""The rules whose outcome depends on the previous year's report (`cross_year`)."""


def _result(rule: str, passed: bool, message: str, cells: list[dict[str, object]] | None = None) -> CheckResult:
    return CheckResult(rule, RULES_BY_ID[rule].severity, passed, message, cells or [])


def _sum(rep: Report, cells: tuple[Cell, ...]) -> float | None:
    vals = [rep.values.get(c) for c in cells]
    return None if any(v is None for v in vals) else float(sum(vals))  # type: ignore[arg-type]


def xy01(cur: Report, prev: Report) -> CheckResult:
    """carried_over(y) = carried_forward(y−1), per column."""
    bad = []
    for col in T3_COLUMNS:
        now, before = cur.values.get(("t3", "carried_over", col)), prev.values.get(("t3", "carried_forward", col))
        if now is not None and before is not None and now != before:
            bad.append((col, now, before))
    cells = [{**cell_ref(cur, ("t3", "carried_over", c), b), "previous": b} for c, _, b in bad]
    msg = "; ".join(f"carried_over.{c} {n:g} ≠ previous carried_forward.{c} {b:g}" for c, n, b in bad)
    return _result("XY-01", not bad, msg or "carried_over equals last year's carried_forward", cells)


def xy02(cur: Report, prev: Report) -> CheckResult:
    """in_force(y) ≈ in_force(y−1) + issued(y) − abolished(y), per 规章 / 行政规范性文件."""
    bad, cells = [], []
    for row in T2_CONTINUITY_ROWS:
        get = cur.values.get
        now, before = get(("t2", row, "in_force")), prev.values.get(("t2", row, "in_force"))
        issued, abolished = get(("t2", row, "issued")), get(("t2", row, "abolished"))
        if now is None or before is None or issued is None or abolished is None:
            continue
        expected = before + issued - abolished
        if now != expected:
            bad.append(f"{row}.in_force {now:g} vs {before:g} + {issued:g} − {abolished:g} = {expected:g} (gap {now - expected:+g})")
            cells.append({**cell_ref(cur, ("t2", row, "in_force")), "expected_by_continuity": expected})
    return _result("XY-02", not bad, "; ".join(bad) or "in_force continuous with last year", cells)


def xy03(cur: Report, prev: Report) -> CheckResult:
    """prior_year_items(y) = prior_year_items(y−1) + items_change(y−1), per 2019-format row."""
    bad, cells = [], []
    rows = sorted({k[1] for k in cur.values if k[0] == "t2" and k[2] == "prior_year_items"})
    for row in rows:
        now = cur.values.get(("t2", row, "prior_year_items"))
        before, change = prev.values.get(("t2", row, "prior_year_items")), prev.values.get(("t2", row, "items_change"))
        if None in (now, before, change):
            continue
        if now != before + change:  # type: ignore[operator]
            bad.append(f"{row}: {now:g} ≠ {before:g} + {change:g}")
            cells.append({**cell_ref(cur, ("t2", row, "prior_year_items")), "expected_by_continuity": before + change})  # type: ignore[operator]
    return _result("XY-03", not bad, "; ".join(bad) or "prior_year_items continuous with last year", cells)


def plaus02(cur: Report, prev: Report) -> CheckResult:
    """Key totals changing by more than a factor of 10 (and by at least 50) year over year."""
    bad = []
    for name, cells in KEY_TOTALS:
        now, before = _sum(cur, cells), _sum(prev, cells)
        if now is None or before is None or abs(now - before) < PLAUS_MIN_ABS:
            continue
        lo, hi = sorted((now, before))
        if lo == 0 or hi / lo > PLAUS_FACTOR:
            bad.append(f"{name} {before:g} → {now:g}")
    return _result("PLAUS-02", not bad, "; ".join(bad) or "key totals within a factor of 10 of last year")


def cross_year(cur: Report, prev: Report | None) -> list[CheckResult]:
    """The cross-year checks that apply to the pair (none without a previous year's report)."""
    if prev is None or not (cur.tables_read and prev.tables_read):
        return []
    out = [xy01(cur, prev)]
    fmt, pfmt = base_format(cur.format_version), base_format(prev.format_version)
    if fmt == pfmt == "2021":
        out.append(xy02(cur, prev))
    if fmt == pfmt == "2019":
        out.append(xy03(cur, prev))
    out.append(plaus02(cur, prev))
    return out


def rechecked(checks: list[CheckResult], cur: Report, prev: Report | None) -> tuple[list[CheckResult], str]:
    """The report's checks with its cross-year ones computed again against `prev` (none without
    one), and the quality status they give: the other checks depend on the report alone."""
    out = [c for c in checks if c.rule not in CROSS_YEAR_RULES] + cross_year(cur, prev)
    return out, quality_status(out)
