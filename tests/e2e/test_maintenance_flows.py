"""The scheduled upkeep flows on a real Prefect test server (the deployments' entrypoints,
flows/maintain.py and flows/snapshot.py), on a folder that publishing runs wrote: compaction and
vacuum leave the same rows (the quarantine index's too), the snapshot holds them, and a run finding
the lease held does nothing."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "storage"))
from writer_process import SAMPLE, item, workload

from tasks import maintain as upkeep, quarantine, snapshot as export
from tasks.publish import DatasetWriter, Tables
from tasks.records import Quarantined
from tasks.storage import open_store


def test_the_maintenance_and_snapshot_flows(tmp_path: Path) -> None:
    from flows.maintain import maintain
    from flows.snapshot import snapshot
    from tasks.extract import extract_path

    out = str(tmp_path / "out")
    store = open_store(out)
    extraction = extract_path(SAMPLE).to_dict()
    writer = DatasetWriter(store)
    for batch in workload(1, 3, 2)[0]:
        writer.publish([item(extraction, *r) for r in batch])
    for n in range(3):  # three batches' quarantine records: three appends to the quarantine index
        quarantine.write(store, [Quarantined(f"s3://src/bad{n}.pdf", f"{n:064x}", "CorruptDocument", "not a PDF",
                                             datetime.now(UTC), "0.1.0", "某县人民政府")])  # fmt: skip
    before = {name: tables.rows(out, name) for name in ("reports", "cells", "checks")}
    quarantined = quarantine.read(store)

    done = maintain(output=out)
    assert [d["dataset"] for d in done["datasets"]] == [*upkeep.schema.DATASETS, "quarantine_index"]
    assert all(d["files_before"] == 3 and d["files_after"] == 1 for d in done["datasets"]), done
    assert quarantine.read(store) == quarantined and len(quarantined) == 3
    assert all(d["files_vacuumed"] == 0 for d in done["datasets"])  # replaced just now: kept for the retention
    assert {name: tables.rows(out, name) for name in before} == before
    assert len(Tables(store).table("cells").file_uris()) == 1  # type: ignore[union-attr]

    made = snapshot(output=out)
    assert made["switched"] and made["rows"]["reports"] == len(before["reports"])
    assert made["rows"]["cells"] == len(before["cells"]) > 0
    assert export.read(store, "cells").num_rows == len(before["cells"])

    upkeep.take_lease(store, hours=1, owner="someone else", now=datetime.now(UTC) - timedelta(minutes=1))
    busy = maintain(output=out)
    assert "holds" in busy["busy"] and busy["datasets"] == []
