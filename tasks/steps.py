"""The @task wrappers the flows call: the only Prefect import under tasks/.

Each task is one observable, retryable step named after the work. Retries are for transient
I/O only (object-store reads and writes), enforced by `retry_condition_fn=transient_only`: a
misconfiguration (`tasks.errors.ConfigurationError`), a typed document error or a bug fails the
task at once. Parsing is deterministic and never retried.

Tasks taking a whole batch (validate, publish, run summary) have no cache policy (results are not
persisted, so a cache key is never used) and the flow passes their batch-sized arguments inside
`quote(...)`: Prefect otherwise hashes and walks every nested object of them before the task starts,
about 2 s per 100 reports for `publish` (bench/pipeline_speed.py).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict, cast

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks import outcomes, pipeline, progress, publish, quality
from tasks.records import ObjectInfo, Quarantined
from tasks.redact import redact_location
from tasks.sandbox import ExtractorPool
from tasks.settings import get_settings
from tasks.storage import Store, is_transient, open_store, require_source

log = logging.getLogger(__name__)

_POOL: ExtractorPool | None = None
_POOL_LOCK = threading.Lock()
TRANSIENT_RETRIES = 3


def extractor_pool() -> ExtractorPool:
    """One pool of extraction processes per Python process, sized from settings (0 = cores)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            s = get_settings()
            workers = s.pipeline.workers or os.cpu_count() or 1
            _POOL = ExtractorPool(
                workers,
                timeout_s=s.extract.timeout_s,
                max_memory_mb=s.extract.max_memory_mb,
                max_bytes=s.extract.max_bytes,
                ocr=s.ocr.options(),
                ocr_workers=s.ocr.workers,
                ocr_timeout_s=s.ocr.timeout_s,
                ocr_memory_mb=s.ocr.max_memory_mb,
            )
            atexit.register(_POOL.close)
        return _POOL


def store(uri: str) -> Store:
    return open_store(uri, get_settings().storage)


def _run_name(template: str, *params: str) -> Callable[[], str]:
    """A task run name from its parameters with every location redacted (a key may hold a URL
    with user:password@; the name is shown in the UI, the logs and every state event)."""

    def name() -> str:
        from prefect.runtime import task_run

        values = {p: redact_location(str(task_run.parameters.get(p, ""))) for p in params}
        return template.format(**values)[:200]

    return name


def transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`: retry a failed task run only if its error was transient I/O."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            state.result(raise_on_failure=True)
        except BaseException as raised:  # noqa: BLE001 - classify whatever the run raised
            exc = raised
    return exc is not None and is_transient(exc)


class _Retry(TypedDict):
    retries: int
    retry_delay_seconds: float
    retry_condition_fn: Callable[[Any, Any, Any], bool]


RETRY: _Retry = {"retries": TRANSIENT_RETRIES, "retry_delay_seconds": 2, "retry_condition_fn": transient_only}


@task(name="discover", task_run_name=_run_name("discover uploads in {source}", "source"), **RETRY)
def discover(source: str, output: str, keys: list[str] | None = None, prefix: str = "") -> list[ObjectInfo]:
    """What is not yet ingested; a source that cannot be listed is a typed error (the run fails)."""
    src = store(source)
    require_source(src)
    found = pipeline.pending(src, store(output), keys, prefix)
    get_run_logger().info("%d upload(s) not yet ingested", len(found))
    progress.add_total(len(found))
    return found


@task(name="extract", task_run_name=_run_name("extract {key}", "key"), cache_policy=NO_CACHE)
def extract_report(source: str, key: str, info: ObjectInfo) -> pipeline.Extracted:
    e = pipeline.extract_one(store(source), info, extractor_pool(), get_settings().extract.max_bytes)
    progress.advance()
    _rename_after_extraction(e, key)
    return e


@task(name="extract", task_run_name=_run_name("extract {label}", "label"), cache_policy=NO_CACHE)
def extract_reports(source: str, label: str, infos: list[ObjectInfo]) -> list[pipeline.Extracted]:
    """Several uploads in one task run (see `pipeline.reports_per_task`); each file is still parsed
    on its own in a bounded worker process, and a bad file is still one typed error, not the group's."""
    src, pool, limit = store(source), extractor_pool(), get_settings().extract.max_bytes
    out = []
    for info in infos:
        out.append(pipeline.extract_one(src, info, pool, limit))
        progress.advance()
    return out


def _rename_after_extraction(e: pipeline.Extracted, key: str) -> None:
    """Once the agency and year are known, the task run is named after them in the UI."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import task_run

    key = redact_location(key)
    if e.error:
        name = f"extract {key} → {e.error['type']}"
    else:
        name = f"extract {e.outcome.get('agency') or '?'} {e.outcome.get('year') or '?'} ({key})"
    # The server records task runs from their state events, and each event carries the run's
    # name: an API rename alone is overwritten by the Completed event. Renaming the run held by
    # the engine makes that last event carry the new name.
    from prefect.context import TaskRunContext

    ctx = TaskRunContext.get()
    if ctx is not None and ctx.task_run is not None:
        ctx.task_run.name = name[:200]
    try:
        with get_client(sync_client=True) as client:
            client.set_task_run_name(task_run.id, name[:200])
    except Exception:  # a cosmetic rename never fails the report
        log.debug("could not rename task run", exc_info=True)


@dataclass
class BatchResult:
    label: str
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    older: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0  # bucket publishes redone because another writer changed a file meanwhile
    not_read: list[dict[str, str]] = field(default_factory=list)  # source, error, message: recorded pending


def merge_results(label: str, parts: list[BatchResult]) -> BatchResult:
    """One batch's result from the results of its parts (a batch published in halves)."""
    out = BatchResult(label)
    for p in parts:
        for name in ("published", "unchanged", "superseded", "older", "withheld", "quarantined"):
            getattr(out, name).extend(getattr(p, name))
        out.agencies = sorted(set(out.agencies) | set(p.agencies))
        for k, v in p.statuses.items():
            out.statuses[k] = out.statuses.get(k, 0) + v
        out.conflicts += p.conflicts
        out.not_read.extend(p.not_read)
    return out


@task(name="validate", task_run_name="validate {label}", cache_policy=NO_CACHE)
def validate_batch(label: str, prepared: pipeline.Prepared, output: str) -> dict[str, Any]:
    """The report's own checks; the cross-year ones run at publish, against what is published then
    (tasks/publish.py), so they are the same whatever the order the years arrive in."""
    from tasks.checks import validate_batch as run_suites

    return run_suites([ex for _, ex in prepared.reports])


@task(name="publish", task_run_name="publish {label}", cache_policy=NO_CACHE, **RETRY)
def publish_batch(
    label: str, output: str, extracted: list[pipeline.Extracted], prepared: pipeline.Prepared, validated: dict[str, Any]
) -> BatchResult:
    s = get_settings().pipeline
    dest = store(output)
    items = pipeline.publishables(prepared, validated)
    # no lock: Delta commits are atomic and concurrent writers reconcile (tasks/publish.py)
    summary = pipeline.publish_batch(dest, items, s.strict, s.publish_attempts)
    records = [q for _, q in prepared.quarantined] + pipeline.refused_records(prepared, extracted, summary)
    pipeline.write_quarantine(dest, records)
    agencies = sorted({p.meta.agency_id for p in items if p.meta.agency_id})
    pipeline.write_quality(dest, agencies, committed=summary.checks)  # their quarantine records: one read of the index
    rows = pipeline.ledger_rows(extracted, prepared, summary, set(summary.withheld))
    pipeline.write_ledger(dest, pipeline.batch_id(e.info for e in extracted), rows)  # after the commits
    compacted = pipeline.compact_fragmented(dest, items)
    # as published: the cross-year checks ran at publish
    validated = {rid: replace(v, status=summary.statuses.get(rid, v.status)) for rid, v in validated.items()}
    statuses: dict[str, int] = {}
    for v in validated.values():
        statuses[v.status] = statuses.get(v.status, 0) + 1
    unread = pipeline.not_read(extracted)
    logger = get_run_logger()
    logger.info(
        "%s: %d published, %d unchanged, %d superseded, %d quarantined, %d not read; %d write conflict(s) retried; "
        "%d report(s) of the next year checked again",
        label, len(summary.published), len(summary.unchanged), len(summary.superseded), len(records), len(unread),
        summary.conflicts, len(summary.rechecked),
    )
    for u in unread:
        logger.warning("not read (pending, read again by the next run): %s: %s", u["source"], u["error"])
    for c in compacted:
        logger.info("%s was fragmented: %d → %d files, %.1f s", c.dataset, c.files_before, c.files_after, c.seconds)
    superseded = _superseded_rows(dest, items, summary.superseded)
    events = outcomes.batch_outcomes(
        (p.meta for p in items), validated, summary.published, summary.older, summary.withheld, records, superseded
    )
    _report_outcomes(logger, events)
    return BatchResult(
        label, summary.published, summary.unchanged, summary.superseded, summary.older, summary.withheld,
        records, agencies, statuses, summary.conflicts, unread,
    )


def _superseded_rows(dest: Store, items: list[publish.Publishable], ids: list[str]) -> list[tuple[dict[str, Any], str]]:
    """(the `reports` row, the id replacing it) of each report this batch superseded: one read."""
    wanted = set(ids)
    if not wanted:
        return []
    by_id = {p.meta.report_id: p for p in items}
    agencies = {p.meta.agency_id for p in items if p.meta.agency_id}
    years = {p.meta.year for p in items if p.meta.year is not None}
    out = []
    for row in publish.agency_reports(publish.Tables(dest), agencies, years):
        if row["report_id"] in wanted:
            wanted.discard(row["report_id"])
            replacing = row.get("superseded_by") or next(
                (p.meta.report_id for p in by_id.values() if p.meta.agency_id == row["agency_id"]), row["report_id"])
            out.append((row, replacing))
    return out


def _report_outcomes(logger: Any, events: list[outcomes.Outcome]) -> None:
    """A WARNING per quarantined file and per report failing error checks; one Prefect event per
    outcome (related to this flow and task run, for automations)."""
    from prefect.events import emit_event

    for o in events:
        if o.event == outcomes.QUARANTINED:
            logger.warning("quarantined %s: %s", o.source, o.reason)
        elif o.event == outcomes.FAILED:
            logger.warning("%s %s (%s, %s): %s", o.agency, o.year, o.report_id, o.source, o.reason)
        emit_event(event=o.event, resource=o.resource(), payload=o.payload)


def final_state(summary: dict[str, Any]) -> Any:
    """The run's final state: `Completed`, or the named Completed state `CompletedWithIssues`
    (tasks/outcomes.py says when); the summary stays the run's result."""
    from prefect.states import Completed, Failed

    name, message = outcomes.run_state(summary)
    if name == outcomes.FAILED_BATCHES:
        return Failed(message=message, data=summary)
    return Completed(name=name, message=message, data=summary)


@task(name="quality index", task_run_name="quality index", **RETRY)
def write_index(output: str) -> int:
    return len(pipeline.write_index(store(output)))


@task(name="run summary", task_run_name="run summary", cache_policy=NO_CACHE, **RETRY)
def summarise(output: str, results: list[BatchResult], summary: dict[str, Any]) -> str | None:
    """The run's Prefect artifacts: its own numbers and the quality of the reports it touched
    (`xxgk-quality-summary`, the table `xxgk-quality-reports`) and a link to the quality index
    (`xxgk-quality-index`). A run that ingested nothing makes none: the latest keyed artifacts stay
    those of the last run that did something."""
    if not summary.get("batches"):
        get_run_logger().info("nothing ingested: the quality artifacts are left as they are")
        return None
    dest = store(output)
    touched = sorted(set(summary.get("agencies", [])) | {a for r in results for a in r.agencies})
    docs = [pipeline.read_quality(dest, aid) for aid in touched]
    quarantined = [q for r in results for q in r.quarantined]
    if not results and summary.get("quarantined"):  # batches ran as child runs: their records, from the output
        sources = {q["source"] for q in summary["quarantined"]}
        quarantined = pipeline.read_quarantine(dest, sources=sources)
    markdown, rows = quality.run_summary([d for d in docs if d is not None], quarantined)
    unread = summary.get("not_read", [])
    if unread:  # recorded pending: the next run, the sweep or the watcher reads them again
        markdown += f"\n## Not read ({len(unread)}: pending, read again by the next run)\n\n"
        markdown += "| source | error |\n|---|---|\n"
        markdown += "".join(f"| {quality.safe_source(u['source'])} | {u['error']} |\n" for u in unread)
    markdown = outcomes.run_markdown(summary) + "\n" + markdown
    create_markdown_artifact(key="xxgk-quality-summary", markdown=markdown, description="This run and the quality of its reports")
    if rows:
        create_table_artifact(key="xxgk-quality-reports", table=rows, description="One row per report or quarantined file")
    if dest.head("quality/index.html") is not None:
        url = dest.url("quality/index.html")
        link = url if "://" in url else Path(url).as_uri()
        create_link_artifact(key="xxgk-quality-index", link=link, link_text="quality index (index.html)",
                             description="The quality pages of every agency in this output")  # fmt: skip
    return markdown


@task(name="coverage", task_run_name="coverage {year}", **RETRY)
def coverage(output: str, year: int) -> dict[str, Any]:
    """Agencies already known to the dataset that have no current report for `year`."""
    dest = store(output)
    doc = pipeline.coverage(dest, year)
    create_markdown_artifact(key="xxgk-coverage", markdown=pipeline.coverage_markdown(doc), description=f"Coverage {year}")
    return doc


def deployment_exists(name: str) -> bool:
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
        return True
    except Exception:  # noqa: BLE001 - missing deployment or no server
        return False


def run_batches_on_workers(name: str, source: str, output: str, batches: list[tuple[list[str], str]]) -> dict[str, Any]:
    """Start one deployment run per batch (any worker of the pool may take it), wait for all, and
    summarise what they did from the ledger (the record of what was durably ingested)."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    runs = [
        # sync_compatible: called from sync code it returns the FlowRun itself, not a coroutine
        cast(
            FlowRun,
            run_deployment(
                name,
                parameters={"source": source, "output": output, "keys": keys, "label": label, "index": False},
                flow_run_name=f"ingest {label}",
                timeout=0,
                as_subflow=True,
            ),
        )
        for keys, label in batches
    ]
    logger = get_run_logger()
    logger.info("%d batch run(s) started on the work pool", len(runs))
    pending, ended = {r.id for r in runs}, []
    with get_client(sync_client=True) as client:
        while pending:
            time.sleep(5)
            for rid in list(pending):
                state = client.read_flow_run(rid).state
                if state is not None and state.is_final():
                    pending.discard(rid)
                    ended.append(state)
    src = store(source)
    urls = {redact_location(src.url(k)) for keys, _ in batches for k in keys}
    summary = pipeline.ledger_summary(store(output), urls)
    summary["batches"] = len(batches)
    summary["batch_runs"] = {
        "failed": sum(not st.is_completed() for st in ended),
        "with_issues": sum(st.name == outcomes.WITH_ISSUES for st in ended),
    }
    return summary
