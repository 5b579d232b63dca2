"""A batch of uploads is one flow run with one task run per report, visible through the Prefect API
(names, states, the quality artifacts), and a quarantined upload is listed in the run's artifact."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import NotifiedBucket
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterStartTime,
)

from tasks.settings import StorageSettings

from .conftest import BAD_PDF, Outputs, extracted, put, run_watch, sample, wait_for

UPLOADS = {
    "incoming/2024/hongze.pdf": sample("hongze_2024_pdf"),
    "incoming/2019/shanghai.html": sample("shanghai_office_2019_html"),
    "incoming/2021/jining.txt": sample("jining_org_dept_2021_text"),
    "incoming/2023/broken.pdf": BAD_PDF,
}


def _ingest_runs(client: Any, since: datetime) -> list[Any]:
    return client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=["xxgk-ingest"])),
        flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
    )


def _task_runs(client: Any, flow_run_id: Any) -> list[Any]:
    return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


def _artifact(client: Any, key: str, flow_run_id: Any) -> Any:
    found = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
        )
    )
    assert len(found) == 1, (key, found)
    return found[0]


def test_a_batch_of_uploads_is_one_flow_run_with_a_task_run_per_report(
    moto_env: StorageSettings,
    make_notified_bucket: Callable[..., NotifiedBucket],
    make_bucket: Callable[[StorageSettings], str],
) -> None:
    nb = make_notified_bucket(moto_env)
    src, out = f"s3://{nb.bucket}", f"s3://{make_bucket(moto_env)}/curated"
    for key, data in UPLOADS.items():
        put(moto_env, nb.bucket, key, data)
    since = datetime.now(UTC) - timedelta(seconds=1)

    assert run_watch(src, out, queue_url=nb.queue_url, max_batches=1) == 1

    with get_client(sync_client=True) as client:
        (run,) = _ingest_runs(client, since)
        assert run.name.startswith("ingest watch batch ") and run.name.endswith(f"({len(UPLOADS)} uploads)")
        assert run.state is not None and run.state.is_completed()
        assert sorted(run.parameters["keys"]) == sorted(UPLOADS)

        expected_extract = {
            f"extract {ex['agency']} {ex['year']} ({key})"
            for key, data in UPLOADS.items()
            if data is not BAD_PDF
            for ex in [extracted(data)]
        } | {"extract incoming/2023/broken.pdf → CorruptDocument"}

        def settled() -> list[Any] | None:  # task runs are recorded from events, asynchronously
            runs = _task_runs(client, run.id)
            names = {t.name for t in runs}
            done = all(t.state is not None and t.state.is_final() for t in runs)
            return runs if expected_extract <= names and len(runs) >= 4 + len(UPLOADS) and done else None

        task_runs = wait_for(settled, timeout=30) or _task_runs(client, run.id)
        names = sorted(t.name for t in task_runs)
        extract_runs = [t for t in task_runs if t.task_key.startswith("extract") or t.name.startswith("extract ")]
        assert {t.name for t in extract_runs} == expected_extract, names
        assert len(extract_runs) == len(UPLOADS)  # one task run per report, not per batch
        assert [n for n in names if n.startswith("discover ")] == [f"discover uploads in {src}"], names
        assert len([n for n in names if n.startswith("validate ")]) == 1, names
        assert len([n for n in names if n.startswith("publish ")]) == 1, names
        assert any(n.startswith("quality index") for n in names), names
        assert all(t.state.is_completed() for t in task_runs), [(t.name, t.state) for t in task_runs]

        summary = _artifact(client, "xxgk-quality-summary", run.id)
        assert summary.type == "markdown"
        assert "current reports: **3**" in summary.data and "quarantined files: **1**" in summary.data
        assert f"{src}/incoming/2023/broken.pdf" in summary.data.replace("\\", "")
        table = _artifact(client, "xxgk-quality-reports", run.id)
        assert table.type == "table"
        rows = json.loads(table.data) if isinstance(table.data, str) else table.data
        by_source = {r["source"]: r for r in rows}
        assert set(by_source) == {f"{src}/{k}" for k in UPLOADS}
        assert by_source[f"{src}/incoming/2023/broken.pdf"]["status"] == "quarantined"
        assert by_source[f"{src}/incoming/2023/broken.pdf"]["note"].startswith("CorruptDocument")
        assert {r["status"] for k, r in by_source.items() if "broken" not in k} <= {"passed", "warned", "failed"}

    # the quarantine record, next to the published reports
    o = Outputs.s3(moto_env, out)
    (qkey,) = o.files("quarantine")
    record = o.json(qkey)
    assert record["source"] == f"{src}/incoming/2023/broken.pdf" and record["error_type"] == "CorruptDocument"
    assert {"source", "sha256", "error_type", "message", "at", "pipeline_version"} <= set(record)
    assert o.table("reports").num_rows == 3
    assert f"{src}/incoming/2023/broken.pdf" in o.read("quality/index.html").decode()
