"""Run states that tell the truth, read back through the Prefect API of a real server:

- a batch with a quarantined file and a report failing error checks ends in the named Completed
  state `CompletedWithIssues`, with a WARNING log line for each, the outcome events
  (`xxgk.report.published|failed|quarantined|superseded`, labelled with agency, year, report id
  and reason), and artifacts holding the run's own numbers and a link to the quality index;
- a clean batch ends `Completed`; a run with nothing to do leaves the latest artifacts alone;
- a source that does not exist ends `Failed`, its discovery tried once (no retries of what
  retrying cannot fix), while a transient S3 error (503) is retried and the run completes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.sorting import ArtifactSort
from s3proxy import Fault, S3FaultProxy

from tasks.settings import StorageSettings

from .conftest import BAD_PDF, put, report_id_of, sample, sha256, wait_for

SHANGHAI = "上海市人民政府办公厅"


def altered_shanghai() -> bytes:
    """The 2019 Shanghai report with one printed number changed (252 → 253 in a row whose total
    no longer adds up): a report that fails error checks, read exactly as printed."""
    data = sample("shanghai_office_2019_html")
    assert data.count(b">252<") == 1
    return data.replace(b">252<", b">253<")


def _write(folder: Path, name: str, data: bytes, mtime: float | None = None) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def _ingest(source: str, output: str) -> Any:
    from flows.ingest import ingest

    return ingest(source=source, output=output, return_state=True)


def _run_of(state: Any) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def _logs(flow_run_id: Any, level: int) -> list[str]:
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [entry.message for entry in logs if entry.level == level]


def _events(api: str, flow_run_id: Any, since: datetime) -> list[dict[str, Any]]:
    body = {
        "filter": {
            "occurred": {"since": since.isoformat()},
            "event": {"prefix": ["xxgk.report."]},
            "related": {"id": [f"prefect.flow-run.{flow_run_id}"]},
        },
        "limit": 50,
    }
    response = httpx.post(f"{api}/events/filter", json=body, timeout=30)
    response.raise_for_status()
    return list(response.json()["events"])


def _artifacts(key: str, flow_run_id: Any | None = None) -> list[Any]:
    flt = ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
    if flow_run_id is not None:
        flt.flow_run_id = ArtifactFilterFlowRunId(any_=[flow_run_id])
    with get_client(sync_client=True) as client:
        return list(client.read_artifacts(artifact_filter=flt, sort=ArtifactSort.CREATED_DESC))


def test_quarantine_and_failed_checks_end_completed_with_issues(tmp_path: Path, pipeline_env: str) -> None:
    src, out = tmp_path / "bucket", tmp_path / "out"
    an_hour_ago = time.time() - 3600
    _write(src, "2024/hongze.pdf", sample("hongze_2024_pdf"))
    _write(src, "2019/shanghai.html", altered_shanghai(), mtime=an_hour_ago)
    _write(src, "2023/broken.pdf", BAD_PDF)
    since = datetime.now(UTC) - timedelta(seconds=5)

    state = _ingest(str(src), str(out))

    run = _run_of(state)
    assert run.state.type.value == "COMPLETED" and run.state.name == "CompletedWithIssues", run.state
    assert run.state.message.startswith("1 quarantined, 1 failed error checks; 2 published"), run.state.message
    broken, shanghai = str(src / "2023/broken.pdf"), str(src / "2019/shanghai.html")

    warnings = wait_for(lambda: _logs(run.id, 30) if len(_logs(run.id, 30)) >= 2 else None, timeout=30)
    assert warnings is not None and len(warnings) == 2, _logs(run.id, 30)
    assert any(w.startswith(f"quarantined {broken}: CorruptDocument") for w in warnings), warnings
    assert any(SHANGHAI in w and "2019" in w and shanghai in w and "failed error checks: " in w for w in warnings)

    events = wait_for(lambda: (e := _events(pipeline_env, run.id, since)) and len(e) >= 4 and e, timeout=30) or []
    by_kind: dict[str, list[dict[str, str]]] = {}
    for e in events:
        by_kind.setdefault(e["event"], []).append(e["resource"])
    assert sorted((k, len(v)) for k, v in by_kind.items()) == [
        ("xxgk.report.failed", 1), ("xxgk.report.published", 2), ("xxgk.report.quarantined", 1)
    ], events  # fmt: skip
    (failed,) = by_kind["xxgk.report.failed"]
    rid = report_id_of(altered_shanghai())
    assert failed["prefect.resource.id"] == f"xxgk.report.{rid}" and failed["xxgk.report-id"] == rid
    assert failed["xxgk.agency"] == SHANGHAI and failed["xxgk.year"] == "2019" and failed["xxgk.source"] == shanghai
    assert failed["xxgk.reason"].startswith("failed error checks: T3-")
    (quarantined,) = by_kind["xxgk.report.quarantined"]
    assert quarantined["xxgk.source"] == broken and quarantined["xxgk.reason"].startswith("CorruptDocument: ")
    assert quarantined["xxgk.report-id"] == "r" + sha256(BAD_PDF)[:24]
    published = {r["xxgk.agency"]: r for r in by_kind["xxgk.report.published"]}
    assert published[SHANGHAI]["xxgk.reason"] == "failed" and published[SHANGHAI]["xxgk.agency-id"]

    # what an automation on the state matches: the flow run's own state event carries the name
    def state_events() -> list[str]:
        body = {"filter": {"occurred": {"since": since.isoformat()}, "event": {"prefix": ["prefect.flow-run."]},
                           "resource": {"id": [f"prefect.flow-run.{run.id}"]}}, "limit": 50}  # fmt: skip
        return [e["event"] for e in httpx.post(f"{pipeline_env}/events/filter", json=body, timeout=30).json()["events"]]

    assert "prefect.flow-run.CompletedWithIssues" in (wait_for(
        lambda: "prefect.flow-run.CompletedWithIssues" in state_events() and state_events(), timeout=30) or state_events())

    (summary,) = _artifacts("xxgk-quality-summary", run.id)
    assert "CompletedWithIssues" in summary.data and "| quarantined files | 1 |" in summary.data
    assert "| published (now current) | 2 |" in summary.data and "| reports passed / warned / failed |" in summary.data
    (link,) = _artifacts("xxgk-quality-index", run.id)
    assert link.data == f"[quality index (index.html)]({(out / 'quality' / 'index.html').as_uri()})"  # Prefect: markdown

    # the corrected report arrives: the failed one is superseded, and that is an event too
    _write(src, "2019/shanghai-corrected.html", sample("shanghai_office_2019_html"))
    since = datetime.now(UTC) - timedelta(seconds=5)
    run2 = _run_of(_ingest(str(src), str(out)))
    superseded = wait_for(
        lambda: [e for e in _events(pipeline_env, run2.id, since) if e["event"] == "xxgk.report.superseded"], timeout=30
    )
    assert superseded and len(superseded) == 1, superseded
    res = superseded[0]["resource"]
    assert res["xxgk.report-id"] == rid and res["xxgk.agency"] == SHANGHAI and res["xxgk.year"] == "2019"
    assert res["xxgk.reason"] == f"superseded by {report_id_of(sample('shanghai_office_2019_html'))}"


def test_a_clean_batch_ends_completed_and_an_empty_run_keeps_the_latest_artifacts(tmp_path: Path) -> None:
    src, out = tmp_path / "bucket", tmp_path / "out"
    _write(src, "2021/jining.txt", sample("jining_org_dept_2021_text"))

    run = _run_of(_ingest(str(src), str(out)))
    assert run.state.type.value == "COMPLETED" and run.state.name == "Completed", run.state
    assert run.state.message == "1 published, 0 unchanged, 0 superseded"
    assert _logs(run.id, 30) == []

    empty = _run_of(_ingest(str(src), str(out)))  # nothing new
    assert empty.state.name == "Completed" and empty.state.message == "nothing to ingest"
    assert _artifacts("xxgk-quality-summary", empty.id) == []
    latest = _artifacts("xxgk-quality-summary")[0]
    assert latest.flow_run_id == run.id and "| published (now current) | 1 |" in latest.data


def _discover_runs(flow_run_id: Any) -> list[Any]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return [t for t in runs if t.name.startswith("discover ")]


def test_a_missing_source_ends_failed_without_retries(tmp_path: Path) -> None:
    from tasks.errors import SourceNotFound

    state = _ingest(str(tmp_path / "no-such-folder"), str(tmp_path / "out"))
    assert state.is_failed()
    with pytest.raises(SourceNotFound):
        state.result()
    run = _run_of(state)
    assert run.state.type.value == "FAILED"
    (discover,) = wait_for(lambda: [t for t in _discover_runs(run.id) if t.state and t.state.is_final()], timeout=20)
    assert discover.state.type.value == "FAILED" and discover.run_count == 1
    assert not (tmp_path / "out").exists()


class FlakyListing(S3FaultProxy):
    """The first two listings of the bucket answer 503 SlowDown; everything else is forwarded."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.listings = 0

    def fault_for(self, method: str, path: str) -> Fault:
        if method == "GET" and "list-type=2" in path:
            self.listings += 1
            if self.listings <= 2:
                return ("status", 503)
        return None


@pytest.fixture
def flaky(moto_server: str) -> Iterator[FlakyListing]:
    proxy = FlakyListing(moto_server)
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()


def test_a_transient_s3_error_is_retried(
    flaky: FlakyListing, moto_env: StorageSettings, make_bucket: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bucket = make_bucket(moto_env)
    put(moto_env, bucket, "2021/jining.txt", sample("jining_org_dept_2021_text"))
    monkeypatch.setenv("XXGK_S3_ENDPOINT_URL", flaky.url)
    monkeypatch.setenv("XXGK_S3_MAX_ATTEMPTS", "1")  # botocore gives up at once: the task retry is what helps

    run = _run_of(_ingest(f"s3://{bucket}", str(tmp_path / "out")))

    assert run.state.name == "Completed", run.state
    (discover,) = wait_for(lambda: [t for t in _discover_runs(run.id) if t.state and t.state.is_final()], timeout=20)
    assert discover.run_count == 3 and flaky.listings >= 3


def test_a_run_split_into_child_runs_reports_their_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "bucket", tmp_path / "out"
    _write(src, "a/jining.txt", sample("jining_org_dept_2021_text"))
    _write(src, "b/broken.pdf", BAD_PDF)
    monkeypatch.setenv("XXGK_BATCH_SIZE", "1")  # two batches: one child flow run each

    parent = _run_of(_ingest(str(src), str(out)))

    assert parent.state.name == "CompletedWithIssues", parent.state
    assert parent.state.message == "1 quarantined; 1 published, 0 unchanged, 0 superseded"
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(flow_run_filter=FlowRunFilter(parent_task_run_id={"is_null_": False}))
    mine = sorted((c.name, c.state.name) for c in children if c.parameters.get("source") == str(src))
    assert mine == [("ingest batch 1/2", "Completed"), ("ingest batch 2/2", "CompletedWithIssues")], mine
    (summary,) = _artifacts("xxgk-quality-summary", parent.id)
    assert "| quarantined files | 1 |" in summary.data and "quarantined files: **1**" in summary.data
    assert str(src / "b" / "broken.pdf") in summary.data.replace("\\", "")
