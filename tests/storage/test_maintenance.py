"""Compaction and vacuum of the Delta outputs (tasks/maintain.py), on a local folder and on S3 (moto
over HTTP): every row exactly once after compaction while writers append, a compaction planned
before an append committed on top of it, a conflicting compaction retried then given up with the
table as it was, one maintenance run at a time (the lease)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tables
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, unique_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from writer_process import SAMPLE, item, workload

from tasks import maintain
from tasks.publish import DatasetWriter, Tables
from tasks.storage import Store, open_store

pytestmark = pytest.mark.slow  # subprocesses, moto

WORKER = str(Path(__file__).with_name("writer_process.py"))


@pytest.fixture(scope="module")
def extraction() -> dict[str, Any]:
    from tasks.extract import extract_path

    return extract_path(SAMPLE).to_dict()


@pytest.fixture(params=["folder", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """An output root: a folder, or a prefix of a fresh moto bucket; its store, delta-rs options and
    the environment a writer process needs to reach it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env["PYTHONIOENCODING"] = "utf-8"
    if request.param == "folder":
        out = str(tmp_path / "out")
        return {"output": out, "store": open_store(out), "options": None, "env": env}
    moto_server: str = request.getfixturevalue("moto_server")
    settings = request.getfixturevalue("moto_settings")
    bucket = unique_name("maintain")
    raw_client("s3", settings).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    env.update({"XXGK_S3_ENDPOINT_URL": moto_server, "XXGK_S3_ACCESS_KEY_ID": DUMMY_KEY_ID,
                "XXGK_S3_SECRET_ACCESS_KEY": DUMMY_SECRET, "XXGK_S3_ADDRESSING_STYLE": "path",
                "XXGK_S3_REGION": "us-east-1", "XXGK_PUBLISH_ATTEMPTS": "20"})  # fmt: skip
    out = f"s3://{bucket}/out"
    return {"output": out, "store": open_store(out, settings), "options": tables.s3_options(settings), "env": env}


def _publish(store: Store, extraction: dict[str, Any], batches: list[list[tuple[str, str, datetime]]]) -> None:
    writer = DatasetWriter(store)
    for batch in batches:
        writer.publish([item(extraction, *r) for r in batch])


def _exactly_once(where: dict[str, Any], work: list[tuple[str, str, datetime]], cells_per_report: int) -> None:
    """Every report of `work` once in `reports`, the newer version of each agency current, its cells
    and wide rows once, every version's checks once: read through the log, as a user would."""
    root, options = where["output"], where["options"]
    newest: dict[str, tuple[datetime, str]] = {}
    for sha, agency, modified in work:
        newest[agency] = max(newest.get(agency, (modified, "r" + sha)), (modified, "r" + sha))
    current = {rid for _, rid in newest.values()}
    want = {"r" + sha for sha, _, _ in work}
    reports = tables.rows(root, "reports", options)
    assert Counter(r["report_id"] for r in reports) == dict.fromkeys(want, 1), "a report lost or twice"
    assert {r["report_id"] for r in reports if r["is_current"]} == current
    cells = tables.rows(root, "cells", options)
    assert Counter(c["report_id"] for c in cells) == dict.fromkeys(current, cells_per_report), "current cells"
    assert len({(c["report_id"], c["table"], c["block"], c["row"], c["col"]) for c in cells}) == len(cells)
    assert Counter(c["report_id"] for c in tables.rows(root, "checks", options)) == dict.fromkeys(want, 1)
    for wide in ("t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        got = Counter(r["report_id"] for r in tables.rows(root, wide, options))
        assert set(got) == current and len(set(got.values())) == 1, wide


def _live_files(where: dict[str, Any], dataset: str) -> int:
    dt = Tables(where["store"]).table(dataset)
    assert dt is not None
    return len(dt.file_uris())


def _stored_parquet(where: dict[str, Any], dataset: str) -> int:
    """Data files in storage (the log's checkpoints are parquet too)."""
    return sum(1 for i in where["store"].list(f"delta/{dataset}/year=") if i.key.endswith(".parquet"))


def test_compaction_while_writers_append_keeps_every_row_exactly_once(where: dict[str, Any], extraction: dict[str, Any],
                                                                      tmp_path: Path) -> None:  # fmt: skip
    writers, batches, per_batch = 2, 5, 2
    _publish(where["store"], extraction, workload(1, 2, 2)[0])  # something to compact from the start
    procs = [subprocess.Popen([sys.executable, WORKER, where["output"], str(w), str(writers), str(batches),
                               str(per_batch)], env=where["env"], stdout=subprocess.PIPE,
                              stderr=(tmp_path / f"w{w}.log").open("w"), text=True)
             for w in range(writers)]  # fmt: skip
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "publishing"
    runs, while_writing = [], 0
    deadline = time.monotonic() + 300
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        got = maintain.maintain(where["store"], retention_hours=168)  # the safe retention: writers are reading
        runs.append(got)
        if any(p.poll() is None for p in procs):
            while_writing += sum(d.files_compacted for d in got.datasets)
    for w, p in enumerate(procs):
        p.communicate(timeout=300)
        assert p.returncode == 0, (tmp_path / f"w{w}.log").read_text()[-3000:]
    assert while_writing > 0, "no compaction ran while the writers appended"
    final = maintain.maintain(where["store"], retention_hours=0)  # nobody writes now: vacuum everything replaced
    work = [r for b in workload(1, 2, 2)[0] for r in b] + [r for ws in workload(writers, batches, per_batch)
                                                            for b in ws for r in b]  # fmt: skip
    _exactly_once(where, work, len(extraction["cells"]))
    *tables_done, index = final.datasets
    assert index.dataset == maintain.QUARANTINE_INDEX and index.version_before is None  # nothing quarantined here
    for d in tables_done:
        assert _live_files(where, d.dataset) == d.files_after <= 1, d  # one year: one file per table
        assert _stored_parquet(where, d.dataset) == d.files_after, f"{d.dataset}: replaced files left after vacuum"
    print(f"\n{len(runs)} maintenance runs while {writers} writers appended; {while_writing} files compacted meanwhile")


class _AppendsWhilePlanning(maintain.Maintainer):
    """Publishes a batch between reading a table's log and committing its compaction."""

    def __init__(self, store: Store, extraction: dict[str, Any], batch: list[tuple[str, str, datetime]]) -> None:
        super().__init__(store, retention_hours=0)
        self.extraction, self.batch, self.done = extraction, batch, False

    def _planned(self, dataset: str) -> None:
        if not self.done:
            self.done = True
            _publish(self.store, self.extraction, [self.batch])


def test_a_compaction_planned_before_an_append_commits_on_top_of_it(where: dict[str, Any],
                                                                     extraction: dict[str, Any]) -> None:  # fmt: skip
    first, late = workload(1, 3, 2)[0][:2], workload(1, 3, 2)[0][2]
    _publish(where["store"], extraction, first)
    before = {d: _live_files(where, d) for d in ("cells", "reports")}
    m = _AppendsWhilePlanning(where["store"], extraction, late)
    got = maintain.maintain(where["store"], retention_hours=0, maintainer=m)
    cells = next(d for d in got.datasets if d.dataset == "cells")
    assert m.done and cells.files_compacted == before["cells"] and cells.gave_up is None
    assert _live_files(where, "cells") == 2  # the compacted file and the late append's, both live
    _exactly_once(where, [r for b in (*first, late) for r in b], len(extraction["cells"]))


class _MetadataChanges(maintain.Maintainer):
    """Another commit that conflicts with any compaction (a table property changed) lands between
    planning and committing, the first `times` times."""

    def __init__(self, store: Store, times: int, attempts: int) -> None:
        super().__init__(store, retention_hours=0, attempts=attempts, backoff_s=0.01)
        self.times = times

    def _planned(self, dataset: str) -> None:
        if self.times > 0:
            self.times -= 1
            dt = self.tables.table(dataset)
            assert dt is not None
            dt.alter.set_table_properties({"delta.logRetentionDuration": f"interval {30 + self.times} days"})


@pytest.mark.parametrize("times, gives_up", [(1, False), (3, True)])
def test_a_conflicting_compaction_is_retried_then_given_up_with_the_table_as_it_was(
    where: dict[str, Any], extraction: dict[str, Any], times: int, gives_up: bool
) -> None:
    work = workload(1, 3, 2)[0]
    _publish(where["store"], extraction, work)
    before = _live_files(where, "cells")
    got = maintain.maintain(where["store"], retention_hours=0, datasets=["cells"],
                            maintainer=_MetadataChanges(where["store"], times, attempts=3))  # fmt: skip
    [cells] = got.datasets
    assert cells.conflicts == times
    if gives_up:
        assert cells.gave_up is not None and "conflicted 3 times" in cells.gave_up
        assert cells.files_compacted == 0 and _live_files(where, "cells") == before == 3
    else:
        assert cells.gave_up is None and cells.files_compacted == before and _live_files(where, "cells") == 1
    _exactly_once(where, [r for b in work for r in b], len(extraction["cells"]))


def test_one_maintenance_run_at_a_time(where: dict[str, Any], extraction: dict[str, Any]) -> None:
    _publish(where["store"], extraction, workload(1, 2, 2)[0])
    store = where["store"]
    held = maintain.take_lease(store, hours=1)
    versions = {d: Tables(store).table(d).version() for d in ("cells", "reports")}  # type: ignore[union-attr]
    with pytest.raises(maintain.MaintenanceBusy, match="holds"):
        maintain.maintain(store, retention_hours=0)
    assert {d: Tables(store).table(d).version() for d in versions} == versions  # type: ignore[union-attr]
    later = datetime.now(UTC) + timedelta(hours=2)  # the lease has expired by then: another run may take it
    taken = maintain.take_lease(store, hours=1, now=later)
    with pytest.raises(maintain.MaintenanceBusy, match="taken by another run"):
        maintain.renew_lease(store, held, hours=1)
    maintain.release_lease(store, held)  # not ours any more: left alone
    assert store.head(maintain.LEASE_KEY) is not None
    maintain.release_lease(store, taken)
    assert store.head(maintain.LEASE_KEY) is None
    got = maintain.maintain(store, retention_hours=0)
    assert [d.files_after for d in got.datasets] == [1] * 6 + [0] and store.head(maintain.LEASE_KEY) is None


def test_a_batch_compacts_a_fragmented_reports_partition_only(where: dict[str, Any], extraction: dict[str, Any]) -> None:
    work = workload(1, 3, 2)[0]  # three publishes: three files in each table's 2021 partition
    _publish(where["store"], extraction, work)
    store = where["store"]
    assert maintain.compact_fragmented(store, [2021], max_files=3) == []  # not more than 3: left alone
    assert maintain.compact_fragmented(store, [2021], max_files=0) == []  # 0: only the weekly run compacts
    held = maintain.take_lease(store, hours=1)
    assert maintain.compact_fragmented(store, [2021], max_files=2) == []  # the weekly run is at it
    maintain.release_lease(store, held)
    [done] = maintain.compact_fragmented(store, [2021, 2022], max_files=2)
    assert (done.dataset, done.files_before, done.files_after, done.files_compacted) == ("reports year=2021", 3, 1, 3)
    assert _live_files(where, "reports") == 1 and _live_files(where, "cells") == 3  # the other tables: weekly
    assert store.head(maintain.LEASE_KEY) is None
    _exactly_once(where, [r for b in work for r in b], len(extraction["cells"]))
