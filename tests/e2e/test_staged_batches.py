"""A batch is validated and published in stages while the extraction processes parse the next
stage's files (`pipeline.stages`): the first stage's rows and ledger are committed before the
batch's last file is parsed, and nothing is lost, duplicated or ingested twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterStartTime,
)

from tasks import pipeline

from .conftest import BAD_PDF, Outputs, jining_variant, report_id_of, wait_for

COUNTIES = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]


def test_a_batch_publishes_its_first_stage_while_its_last_file_is_still_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    src, out = tmp_path / "uploads", tmp_path / "out"
    src.mkdir()
    reports = {f"{n:02d}.txt": jining_variant(c) for n, c in enumerate(COUNTIES)}
    for name, data in reports.items():
        (src / name).write_bytes(data)
    (src / "99-broken.pdf").write_bytes(BAD_PDF)  # listed last: its extraction waits for the first commit
    monkeypatch.setattr(pipeline, "PIPELINE_STAGES", 4)
    monkeypatch.setattr(pipeline, "MIN_STAGE_REPORTS", 2)  # 9 uploads → 4 stages

    committed = threading.Event()
    seen: dict[str, Any] = {}
    write_ledger, extract_one = pipeline.write_ledger, pipeline.extract_one

    def ledger_then_signal(output: Any, bid: str, rows: list[dict[str, Any]]) -> str:
        key = write_ledger(output, bid, rows)
        committed.set()
        return key

    def last_waits_for_a_commit(source: Any, info: Any, pool: Any, max_bytes: Any = None) -> Any:
        if info.key == "99-broken.pdf":
            seen["committed_before_last_parse"] = committed.wait(timeout=60)
        return extract_one(source, info, pool, max_bytes)

    monkeypatch.setattr(pipeline, "write_ledger", ledger_then_signal)
    monkeypatch.setattr(pipeline, "extract_one", last_waits_for_a_commit)
    since = datetime.now(UTC) - timedelta(seconds=1)

    summary = ingest(source=str(src), output=str(out))

    assert seen == {"committed_before_last_parse": True}
    assert summary["batches"] == 1 and summary["published"] == len(reports)
    assert [q["error"] for q in summary["quarantined"]] == ["CorruptDocument"]
    assert summary["not_read"] == []

    # one ledger file per stage; every upload exactly once, as published or quarantined
    rows = pipeline.ledger_entries(_store(out))
    ledger_files = sorted(p.name for p in (out / "state" / "ledger").glob("*.parquet"))
    assert len(ledger_files) == 4, ledger_files
    assert sorted(Path(r["url"]).name for r in rows) == sorted([*reports, "99-broken.pdf"])
    assert sorted(r["outcome"] for r in rows) == ["published"] * len(reports) + ["quarantined"]

    o = Outputs.local(out)
    published = sorted(r["report_id"] for r in o.rows("reports"))
    assert published == sorted(report_id_of(d) for d in reports.values())
    quality_pages = {p.name for p in (out / "quality").glob("*.json")}
    assert len(quality_pages) == len(reports), quality_pages  # one page per agency, each in its own stage's commit

    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["xxgk-ingest"])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
        )
        assert run.state is not None and run.state.name == "CompletedWithIssues"

        def names() -> list[str] | None:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            got = sorted(t.name for t in runs if t.state is not None and t.state.is_final())
            return got if len([n for n in got if n.startswith("publish ")]) == 4 else None

        got = wait_for(names, timeout=30) or []
        stages = ["publish batch stage 1/4 (3 reports)"] + [f"publish batch stage {n}/4 (2 reports)" for n in (2, 3, 4)]
        assert [n for n in got if n.startswith("publish ")] == stages, got  # the last stage is the smallest
        assert len([n for n in got if n.startswith("validate batch stage ")]) == 4, got

    # a rerun finds everything ingested: no batch, no new ledger file, the same rows
    monkeypatch.setattr(pipeline, "extract_one", extract_one)
    assert ingest(source=str(src), output=str(out))["batches"] == 0
    assert sorted(p.name for p in (out / "state" / "ledger").glob("*.parquet")) == ledger_files
    assert sorted(r["report_id"] for r in o.rows("reports")) == published


def _store(path: Path) -> Any:
    from tasks.storage import LocalStore

    return LocalStore(str(path))
