"""xxgk-ingest: a batch of uploads → extract → validate → publish → quality reports.

A table of contents of the steps in tasks/steps.py. One task run per report (extraction, in a
bounded worker process); one validation (a stacked Great Expectations run) and one publish per
batch of `XXGK_BATCH_SIZE` reports.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, unmapped
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from tasks import pipeline, steps
from tasks.settings import get_settings


def _run_name() -> str:
    p = flow_run.parameters
    keys = p.get("keys")
    what = p.get("label") or (f"{len(keys)} upload(s)" if keys else f"everything pending under {p.get('prefix') or '/'}")
    return f"ingest {what}"


def _workers() -> int:
    s = get_settings().pipeline
    import os

    return s.workers or os.cpu_count() or 1


@flow(name="xxgk-ingest", flow_run_name=_run_name, task_runner=ThreadPoolTaskRunner(max_workers=_workers()))
def ingest(
    source: str | None = None,
    output: str | None = None,
    keys: list[str] | str | None = None,
    prefix: str = "",
    label: str | None = None,
) -> dict[str, Any]:
    """Ingest the given object keys (or everything not yet ingested under `prefix`) from `source` into `output`.

    `keys` may arrive as text from an event trigger's template (a JSON or Python list literal).
    """
    settings = get_settings().pipeline
    keys = parse_keys(keys)
    source = source or settings.source
    output = output or settings.output
    todo = steps.discover(source, output, keys, prefix)
    chunks = pipeline.batches(todo, settings.batch_size)
    results = []
    for n, chunk in enumerate(chunks, 1):
        name = f"batch {n}/{len(chunks)} ({len(chunk)} reports)"
        extracted = [f.result() for f in steps.extract_report.map(unmapped(source), [i.key for i in chunk], chunk)]
        prepared = pipeline.prepare(extracted, settings.agency_aliases)
        validated = steps.validate_batch(name, prepared, output)
        results.append(steps.publish_batch(name, output, extracted, prepared, validated))
    steps.summarise(output, results)
    return summarize(results)


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
    for r in results:
        for k, v in r.statuses.items():
            out["statuses"][k] = out["statuses"].get(k, 0) + v
    return out
