"""What a run did, told to the people and automations watching it (pure: no Prefect here).

- `run_state(summary)`: the name and message of the run's final state. `Completed` when every
  upload was published (or was already) and no report failed an error check;
  `CompletedWithIssues` (a Completed state: the run did its job) when a file was quarantined, an
  upload could not be read (recorded pending, read again later) or a report failed error checks.
  A run that could not do its job (a source that does not exist or cannot be listed, storage it
  cannot use, a publish that failed) raises, and ends `Failed`.
- `batch_outcomes(...)`: one `Outcome` per report and event — `xxgk.report.published`,
  `xxgk.report.failed`, `xxgk.report.quarantined`, `xxgk.report.superseded` — whose resource
  labels (`xxgk.agency`, `xxgk.agency-id`, `xxgk.year`, `xxgk.report-id`, `xxgk.reason`,
  `xxgk.source`) are what an automation matches on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.agency import report_id
from tasks.records import Quarantined, ReportMeta, Validated

PUBLISHED = "xxgk.report.published"
FAILED = "xxgk.report.failed"
QUARANTINED = "xxgk.report.quarantined"
SUPERSEDED = "xxgk.report.superseded"
OUTCOME_EVENTS = (PUBLISHED, FAILED, QUARANTINED, SUPERSEDED)

CLEAN = "Completed"
WITH_ISSUES = "CompletedWithIssues"
FAILED_BATCHES = "Failed"
REASON_MAX = 300
"""Resource labels are for matching and display: reasons are cut to this many characters."""


@dataclass(frozen=True)
class Outcome:
    event: str
    report_id: str
    source: str
    reason: str
    agency: str | None = None
    agency_id: str | None = None
    year: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def resource(self) -> dict[str, str]:
        """The event's resource: `xxgk.report.<report id>` and its labels (strings; unknown ones left out)."""
        labels = {
            "prefect.resource.id": f"xxgk.report.{self.report_id}",
            "prefect.resource.name": " ".join(str(x) for x in (self.agency or self.source, self.year) if x),
            "xxgk.report-id": self.report_id,
            "xxgk.source": self.source,
            "xxgk.reason": self.reason[:REASON_MAX],
            "xxgk.agency": self.agency,
            "xxgk.agency-id": self.agency_id,
            "xxgk.year": None if self.year is None else str(self.year),
        }
        return {k: v for k, v in labels.items() if v}


def run_state(summary: Mapping[str, Any]) -> tuple[str, str]:
    """(state name, message) of an ingest run from its summary (see the module docstring).

    A run that spread its batches over the work pool (`batch_runs`) fails if one of them failed,
    and has issues if one of them had."""
    quarantined = len(summary.get("quarantined", []))
    failed = int(summary.get("statuses", {}).get("failed", 0))
    runs = summary.get("batch_runs", {})
    done = (
        f"{summary.get('published', 0)} published, {summary.get('unchanged', 0)} unchanged, "
        f"{summary.get('superseded', 0)} superseded"
    )
    if runs.get("failed"):
        return FAILED_BATCHES, f"{runs['failed']} batch run(s) failed; {done}"
    issues = [
        f"{n} {what}"
        for n, what in ((quarantined, "quarantined"), (len(summary.get("not_read", [])), "not read (pending)"),
                        (failed, "failed error checks"), (runs.get("with_issues", 0), "batch run(s) with issues"))
        if n
    ]
    if not issues:
        return CLEAN, done if summary.get("batches") or summary.get("published") else "nothing to ingest"
    return WITH_ISSUES, f"{', '.join(issues)}; {done}"


def failed_rules(v: Validated) -> list[str]:
    return sorted({c.rule for c in v.checks if not c.passed and c.severity == "error"})


def _about(m: ReportMeta, event: str, reason: str, **payload: Any) -> Outcome:
    return Outcome(event, m.report_id, m.source, reason, m.agency, m.agency_id, m.year, payload)


def batch_outcomes(
    metas: Iterable[ReportMeta],
    validated: Mapping[str, Validated],
    published: Iterable[str],
    older: Iterable[str],
    withheld: Iterable[str],
    quarantined: Iterable[Quarantined],
    superseded: Iterable[tuple[ReportMeta | Mapping[str, Any], str]] = (),
) -> list[Outcome]:
    """The outcome events of one published batch. `superseded` pairs each report that stopped
    being current (its meta, or its `reports` row) with the id of the report replacing it."""
    published, older, withheld = set(published), set(older), set(withheld)
    out: list[Outcome] = []
    for m in metas:
        v = validated.get(m.report_id)
        status = v.status if v else "unknown"
        if m.report_id in published and m.report_id not in withheld:
            out.append(_about(m, PUBLISHED, status, status=status))
        if m.report_id in older:
            out.append(_about(m, SUPERSEDED, "older than the current version"))
        if v is not None and v.status == "failed" and (m.report_id in published or m.report_id in older):
            rules = failed_rules(v)
            held = " (withheld: XXGK_STRICT)" if m.report_id in withheld else ""
            out.append(_about(m, FAILED, f"failed error checks: {', '.join(rules)}{held}", rules=rules, withheld=bool(held)))
    for q in quarantined:
        reason = f"{q.error_type}: {q.message}"
        out.append(Outcome(QUARANTINED, report_id(q.sha256), q.source, reason, agency=q.agency_hint,
                           payload={"error_type": q.error_type, "sha256": q.sha256}))  # fmt: skip
    for old, by in superseded:
        row = old if isinstance(old, Mapping) else vars(old)
        out.append(Outcome(SUPERSEDED, row["report_id"], row.get("source") or "", f"superseded by {by}",
                           agency=row.get("agency"), agency_id=row.get("agency_id"), year=row.get("year"),
                           payload={"superseded_by": by}))  # fmt: skip
    return out


def run_markdown(summary: Mapping[str, Any]) -> str:
    """The head of the run's summary artifact: this run's own numbers and its state."""
    name, message = run_state(summary)
    statuses = summary.get("statuses", {})
    rows = [
        ("batches", summary.get("batches", 0)),
        ("published (now current)", summary.get("published", 0)),
        ("unchanged (already published)", summary.get("unchanged", 0)),
        ("superseded by a newer upload", summary.get("superseded", 0)),
        ("older versions kept as history", summary.get("older", 0)),
        ("withheld (XXGK_STRICT)", summary.get("withheld", 0)),
        ("quarantined files", len(summary.get("quarantined", []))),
        ("reports passed / warned / failed",
         f"{statuses.get('passed', 0)} / {statuses.get('warned', 0)} / {statuses.get('failed', 0)}"),
    ]  # fmt: skip
    lines = [f"# 本次运行 (this run): {name}", "", message, "", "| | |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n"
