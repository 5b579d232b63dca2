"""The run-state policy and the outcome events, as pure functions (tasks/outcomes.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.outcomes import FAILED, PUBLISHED, QUARANTINED, SUPERSEDED, batch_outcomes, run_state
from tasks.records import CheckResult, Quarantined, ReportMeta, Validated


def _summary(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"batches": 1, "published": 2, "unchanged": 0, "superseded": 0, "statuses": {}, "quarantined": []}
    return {**base, **kw}


def test_run_state_policy() -> None:
    assert run_state(_summary()) == ("Completed", "2 published, 0 unchanged, 0 superseded")
    assert run_state(_summary(batches=0, published=0)) == ("Completed", "nothing to ingest")
    assert run_state(_summary(statuses={"passed": 1, "warned": 1}))[0] == "Completed"
    assert run_state(_summary(statuses={"failed": 1}, quarantined=[{}, {}])) == (
        "CompletedWithIssues", "2 quarantined, 1 failed error checks; 2 published, 0 unchanged, 0 superseded"
    )  # fmt: skip
    assert run_state(_summary(not_read=[{}])) == (
        "CompletedWithIssues", "1 not read (pending); 2 published, 0 unchanged, 0 superseded"
    )  # fmt: skip
    assert run_state(_summary(batch_runs={"failed": 0, "with_issues": 1}))[1].startswith("1 batch run(s) with issues;")
    assert run_state(_summary(batch_runs={"failed": 1, "with_issues": 1})) == (
        "Failed", "1 batch run(s) failed; 2 published, 0 unchanged, 0 superseded"
    )  # fmt: skip


def _meta(rid: str, year: int = 2023) -> ReportMeta:
    return ReportMeta(rid, f"src/{rid}.pdf", "0" * 64, "pdf", "某县人民政府", "a1", year, "2021")


def test_batch_outcomes_labels() -> None:
    failing = Validated("r2", "failed", [CheckResult("T3-H2", "error", False, ""), CheckResult("TXT-01", "warn", False, "")])
    validated = {"r1": Validated("r1", "passed", []), "r2": failing, "r3": Validated("r3", "warned", [])}
    q = Quarantined("src/bad.pdf", "ab" * 32, "CorruptDocument", "damaged", datetime.now(UTC), "0.1.0", "某市")
    old_row = {"report_id": "r0", "source": "src/r0.pdf", "agency": "某县人民政府", "agency_id": "a1", "year": 2022}
    got = batch_outcomes([_meta("r1"), _meta("r2"), _meta("r3")], validated, ["r1", "r2"], ["r3"], [], [q],
                         [(old_row, "r1")])  # fmt: skip
    kinds = [(o.event, o.report_id, o.reason) for o in got]
    assert kinds == [
        (PUBLISHED, "r1", "passed"),
        (PUBLISHED, "r2", "failed"),
        (FAILED, "r2", "failed error checks: T3-H2"),
        (SUPERSEDED, "r3", "older than the current version"),
        (QUARANTINED, "r" + "ab" * 12, "CorruptDocument: damaged"),
        (SUPERSEDED, "r0", "superseded by r1"),
    ]
    res = got[2].resource()
    assert res == {
        "prefect.resource.id": "xxgk.report.r2", "prefect.resource.name": "某县人民政府 2023", "xxgk.report-id": "r2",
        "xxgk.source": "src/r2.pdf", "xxgk.reason": "failed error checks: T3-H2", "xxgk.agency": "某县人民政府",
        "xxgk.agency-id": "a1", "xxgk.year": "2023",
    }  # fmt: skip
    assert got[4].resource()["xxgk.agency"] == "某市" and "xxgk.year" not in got[4].resource()
    assert got[5].resource()["xxgk.year"] == "2022"


def test_withheld_reports_are_failed_not_published() -> None:
    failing = Validated("r2", "failed", [CheckResult("T4-H1", "error", False, "")])
    got = batch_outcomes([_meta("r2")], {"r2": failing}, ["r2"], [], ["r2"], [])
    assert [(o.event, o.reason) for o in got] == [(FAILED, "failed error checks: T4-H1 (withheld: XXGK_STRICT)")]
