"""Pure parts without GX: BLANK-01, localisation and status on hand-made values."""

from __future__ import annotations

from tasks.checks.blanks import read_blanks
from tasks.checks.frames import prepare
from tasks.checks.localize import localise
from tasks.checks.status import quality_status
from tasks.records import CheckResult


def _mutate(d, table, row, col, value):  # type: ignore[no-untyped-def]
    for c in d["cells"]:
        if (c["table"], c["row"], c["col"]) == (table, row, col):
            c["value"], c["raw"], c["status"] = value, str(value), "reported"


def test_two_wrong_cells_in_distinct_rows_and_columns_of_different_size(sample) -> None:  # type: ignore[no-untyped-def]
    d = sample("synthetic_2021_pdf")
    _mutate(d, "t3", "granted", "natural_person", 215 + 3)
    _mutate(d, "t3", "denied_other_law", "commercial_enterprise", 9 + 5)
    loc = localise(prepare(d))
    assert loc.suggestions == {("t3", "granted", "natural_person"): 215, ("t3", "denied_other_law", "commercial_enterprise"): 9}


def test_blank_that_breaks_an_identity_is_not_hidden() -> None:
    # one block of table 4: parts 5, blank, 0, 0; total 7 → the blank could be an unfilled 2,
    # and no other identity contradicts it, so it is read as unfilled (implied 2)
    printed = {("t4", "admin_review", k): v for k, v in
               {"upheld": 5.0, "corrected": None, "other_result": 0.0, "pending": 0.0, "total": 7.0}.items()}
    res = read_blanks(printed, {("t4", "admin_review", "corrected")}, "2021")
    assert res.implied == {("t4", "admin_review", "corrected"): 2.0}
    # total smaller than the parts: no blank can explain it → blank read as 0, failure stays
    printed[("t4", "admin_review", "total")] = 3.0
    res = read_blanks(printed, {("t4", "admin_review", "corrected")}, "2021")
    assert not res.unfilled and res.values[("t4", "admin_review", "corrected")] == 0.0
    assert res.readings[("t4", "admin_review", "corrected")] == "unknown"


def test_status_aggregation() -> None:
    ok = CheckResult("T3-H1", "error", True, "")
    assert quality_status([ok, CheckResult("PLAUS-01", "info", False, "")]) == "passed"
    assert quality_status([ok, CheckResult("TXT-01", "warn", False, "")]) == "warned"
    assert quality_status([CheckResult("TXT-01", "warn", False, ""), CheckResult("T3-H1", "error", False, "")]) == "failed"
