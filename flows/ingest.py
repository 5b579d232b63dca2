"""xxgk-ingest: a batch of uploads → extract → validate → publish → quality reports.

A table of contents of the steps in tasks/steps.py. Extraction task runs of a group of reports
each (`XXGK_REPORTS_PER_TASK`: one per report by default, or automatic; every file parsed in a bounded worker
process); one validation (a stacked Great Expectations run) and one publish per stage of a batch of
`XXGK_BATCH_SIZE` reports (with `pipeline.PIPELINE_STAGES` > 1, a batch of 100 or more is published in
stages, each while the extraction processes already parse the next stage's files: `pipeline.stages`).
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from prefect import flow, unmapped
from prefect.futures import PrefectFuture, wait
from prefect.runtime import deployment, flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from tasks import pipeline, steps
from tasks.redact import redact_location
from tasks.settings import get_settings

ON_UPLOAD = "xxgk-ingest/on-upload"


def _run_name() -> str:
    p = flow_run.parameters
    keys = p.get("keys")
    what = p.get("label") or (f"{len(keys)} upload(s)" if keys else f"everything pending under {p.get('prefix') or '/'}")
    return f"ingest {what}"


def _workers() -> int:
    s = get_settings().pipeline
    import os

    return s.workers or os.cpu_count() or 1


def _threads() -> int:
    """Task-run threads: two per extraction process plus one, so while one task run pays its
    orchestration (state changes, the rename) another already feeds that process the next file."""
    return 2 * _workers() + 1


T = TypeVar("T")


def _as_is(value: T) -> T:
    """`value` passed to a task as it is, not walked object by object (Prefect's quote(); the task
    receives the value itself, so it is typed as the value)."""
    return cast(T, quote(value))


@flow(
    name="xxgk-ingest",
    flow_run_name=_run_name,
    # Prefect's annotations want a TaskRunner[PrefectFuture]; its own ThreadPoolTaskRunner's futures are a subclass
    task_runner=ThreadPoolTaskRunner(max_workers=_threads()),  # type: ignore[arg-type]
)
def ingest(
    source: str | None = None,
    output: str | None = None,
    keys: list[str] | str | None = None,
    prefix: str = "",
    label: str | None = None,
    index: bool = True,
) -> dict[str, Any]:
    """Ingest the given object keys (or everything not yet ingested under `prefix`) from `source` into `output`.

    Ends `Completed`, `CompletedWithIssues` (files quarantined, uploads not read, reports failing error checks) or
    `Failed` (the source cannot be listed, storage cannot be used): tasks/outcomes.py. The result
    is the run's summary either way.

    Up to `XXGK_BATCH_SIZE` uploads are one batch in this flow run; more are split into child flow
    runs of one batch each. `index=False` skips rebuilding quality/index.html (the parent does it).

    `keys` may arrive as text from an event trigger's template (a JSON or Python list literal).
    """
    settings = get_settings().pipeline
    keys = parse_keys(keys)
    source = redact_location(source or settings.source, escape=False)  # child runs' parameters: no credentials
    output = redact_location(output or settings.output, escape=False)
    todo = steps.discover(source, output, keys, prefix)
    chunks = pipeline.batches(todo, settings.batch_size)
    if len(chunks) > 1:  # a flood: one child flow run per batch keeps every run's task count bounded
        summary = fan_out(source, output, chunks)
        steps.write_index(output)
        steps.summarise(output, [], _as_is(summary))
        return steps.final_state(summary)
    results = [run_batch(source, output, chunk, label or "batch") for chunk in chunks]
    summary = summarize(results)
    if index and results:
        steps.write_index(output)
    steps.summarise(output, _as_is(results), _as_is(summary))
    return steps.final_state(summary)


def fan_out(source: str, output: str, chunks: list[list[Any]]) -> dict[str, Any]:
    """One child flow run per batch. Running as a deployment on a worker, the children are runs of
    the on-upload deployment, picked up by every worker of the pool (that is how a yearly run or a
    backfill spreads over machines); otherwise they are subflows in this process."""
    batches = [([i.key for i in chunk], f"batch {n}/{len(chunks)}") for n, chunk in enumerate(chunks, 1)]
    if deployment.id and steps.deployment_exists(ON_UPLOAD):
        return steps.run_batches_on_workers(ON_UPLOAD, source, output, batches)
    children = [ingest(source=source, output=output, keys=keys, label=label, index=False) for keys, label in batches]
    return merge_summaries(children)


def run_batch(source: str, output: str, chunk: list, name: str) -> steps.BatchResult:
    """One batch: extraction task runs of `pipeline.reports_per_task` reports each (one per report
    with XXGK_REPORTS_PER_TASK=1), all submitted at once; the batch is validated and published in
    consecutive stages (`pipeline.stages`), each as soon as its own extractions are done, while the
    extraction processes already parse the next stage's files."""
    label = f"{name} ({len(chunk)} reports)"
    settings = get_settings().pipeline
    per_task = pipeline.reports_per_task(len(chunk), _workers(), settings.reports_per_task)
    stages = pipeline.stages(pipeline.batches(chunk, per_task))
    futures = [_submit_extraction(source, groups, per_task == 1) for groups in stages]
    results = []
    try:
        for n, pending in enumerate(futures, 1):
            extracted = [e for f in pending for e in _extracted(f)]
            part = label if len(stages) == 1 else f"{name} stage {n}/{len(stages)} ({len(extracted)} reports)"
            prepared = pipeline.prepare(extracted, settings.agency_aliases)
            # batch-sized arguments are passed as they are, not walked object by object by Prefect
            validated = steps.validate_batch(part, _as_is(prepared), output)
            results.append(publish_isolating(part, output, extracted, prepared, validated))
    except BaseException:
        wait([f for pending in futures for f in pending])  # no extraction left running for a failed run
        raise
    return results[0] if len(results) == 1 else steps.merge_results(label, results)


def _submit_extraction(source: str, groups: list[list[Any]], one_each: bool) -> list[PrefectFuture[Any]]:
    if one_each:
        return list(steps.extract_report.map(unmapped(source), [g[0].key for g in groups], [g[0] for g in groups]))
    labels = [f"{len(g)} reports ({g[0].key} … {g[-1].key})" if len(g) > 1 else g[0].key for g in groups]
    return list(steps.extract_reports.map(unmapped(source), labels, groups))


def _extracted(future: PrefectFuture[Any]) -> list[Any]:
    out = future.result()
    return out if isinstance(out, list) else [out]


def publish_isolating(
    name: str, output: str, extracted: list, prepared: pipeline.Prepared, validated: dict[str, Any]
) -> steps.BatchResult:
    """Publish a batch; one that fails twice the same way (not transient I/O) is split in halves,
    each published on its own (and split again), until the report that fails alone is found: it is
    quarantined (`Unpublishable`, with the failure) and the rest of the batch is published."""
    failures: list[str] = []
    while True:
        try:
            return steps.publish_batch(name, output, _as_is(extracted), _as_is(prepared), _as_is(validated))
        except Exception as exc:
            if pipeline.transient_failure(exc) or not prepared.reports:
                raise
            failures.append(pipeline.failure_signature(exc))
            if len(failures) < 2:
                continue
            if failures[-1] != failures[-2]:
                raise
            if len(prepared.reports) == 1:
                refused = pipeline.refuse_alone(extracted, prepared, exc)
                return steps.publish_batch(f"{name} (refused)", output, _as_is(extracted), _as_is(refused), _as_is({}))
            parts = [publish_isolating(f"{name} part {n}/2", output, ex, pr,
                                       {m.report_id: validated[m.report_id] for m, _ in pr.reports})
                     for n, (ex, pr) in enumerate(pipeline.split_batch(extracted, prepared), 1)]  # fmt: skip
            return steps.merge_results(name, parts)


def merge_summaries(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"batches": 0, "statuses": {}, "quarantined": [], "agencies": [], "not_read": []}
    for p in parts:
        out["batches"] += p["batches"]
        out["quarantined"] += p["quarantined"]
        out["not_read"] += p.get("not_read", [])
        out["agencies"] = sorted(set(out["agencies"]) | set(p.get("agencies", [])))
        out["conflicts"] = out.get("conflicts", 0) + p.get("conflicts", 0)
        for k in ("published", "unchanged", "superseded", "older", "withheld"):
            out[k] = out.get(k, 0) + p.get(k, 0)
        for k, v in p["statuses"].items():
            out["statuses"][k] = out["statuses"].get(k, 0) + v
    for k in ("published", "unchanged", "superseded", "older", "withheld"):
        out.setdefault(k, 0)
    return out


def parse_keys(keys: list[str] | str | None) -> list[str] | None:
    if keys is None or isinstance(keys, list):
        return keys
    import ast
    import json

    try:
        value = json.loads(keys)
    except ValueError:
        value = ast.literal_eval(keys)
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError("keys must be a list of object keys")
    return value


def summarize(results: list[steps.BatchResult]) -> dict[str, Any]:
    out: dict[str, Any] = {"batches": len(results), "statuses": {}}
    for field in ("published", "unchanged", "superseded", "older", "withheld"):
        out[field] = sum(len(getattr(r, field)) for r in results)
    out["quarantined"] = [{"source": q.source, "error": q.error_type, "message": q.message} for r in results for q in r.quarantined]
    out["agencies"] = sorted({a for r in results for a in r.agencies})
    out["conflicts"] = sum(r.conflicts for r in results)
    out["not_read"] = [u for r in results for u in r.not_read]  # recorded pending: read again by the next run
    for r in results:
        for k, v in r.statuses.items():
            out["statuses"][k] = out["statuses"].get(k, 0) + v
    return out
