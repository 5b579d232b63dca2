"""The plain-parquet snapshot (tasks/snapshot.py) on a local folder and on S3 (moto over HTTP): its
rows are the tables' current rows as a Delta reader computes them; a reader reading all along while
snapshots are replaced only ever sees one whole snapshot; an export that dies half-way changes
nothing a reader sees; an older export never replaces a newer one; replaced snapshots go after
their grace period, the current one never."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import tables
from conftest import raw_client, unique_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from writer_process import SAMPLE, item

from tasks import snapshot
from tasks.publish import DatasetWriter
from tasks.storage import Store, open_store

pytestmark = pytest.mark.slow  # moto

T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def extraction() -> dict[str, Any]:
    from tasks.extract import extract_path

    return extract_path(SAMPLE).to_dict()


@pytest.fixture(params=["folder", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "folder":
        out = str(tmp_path / "out")
        return {"output": out, "store": open_store(out), "options": None}
    settings = request.getfixturevalue("moto_settings")
    bucket = unique_name("snapshot")
    raw_client("s3", settings).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    out = f"s3://{bucket}/out"
    return {"output": out, "store": open_store(out, settings), "options": tables.s3_options(settings)}


def _publish(store: Store, extraction: dict[str, Any], reports: list[tuple[str, str, int]]) -> None:
    """(sha, agency_id, hours after T0) per report, one batch; year 2021 (the sample's)."""
    DatasetWriter(store).publish([item(extraction, sha, agency, T0 + timedelta(hours=h)) for sha, agency, h in reports])


def _read_whole(store: Store) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """What a reader does: the pointer, then every file it names; checks each file's row count."""
    pointer, _ = snapshot.read_pointer(store)
    assert pointer is not None
    out: dict[str, list[dict[str, Any]]] = {}
    for dataset, years in pointer["datasets"].items():
        out[dataset] = []
        for f in years.values():
            t = pq.read_table(io.BytesIO(store.get(f["key"])))
            assert t.num_rows == f["rows"], f["key"]
            out[dataset] += t.to_pylist()
    return pointer["id"], out


def _consistent(rows: dict[str, list[dict[str, Any]]]) -> None:
    """One snapshot's datasets agree: the cells and checks are exactly the current reports'."""
    current = {(r["report_id"], r["publish_id"]) for r in rows["reports"] if r["is_current"]}
    assert Counter(r["report_id"] for r in rows["reports"]).most_common(1)[0][1] == 1
    for dataset in ("cells", "checks", "t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        assert {(r["report_id"], r["publish_id"]) for r in rows[dataset]} == current, dataset


def test_the_snapshot_holds_the_current_rows_a_delta_reader_computes(where: dict[str, Any],
                                                                       extraction: dict[str, Any]) -> None:  # fmt: skip
    store = where["store"]
    _publish(store, extraction, [("a1", "ag-a", 0), ("b1", "ag-b", 0)])
    _publish(store, extraction, [("a2", "ag-a", 5), ("b0", "ag-b", -5)])  # a newer version of a, an older of b
    got = snapshot.export(store)
    assert got.switched and got.files == 6
    sid, rows = _read_whole(store)
    assert sid == got.id
    _consistent(rows)
    by_id = {r["report_id"]: r for r in rows["reports"]}
    assert {k: (v["is_current"], v["superseded_by"]) for k, v in by_id.items()} == {
        "ra1": (False, "ra2"), "ra2": (True, None), "rb1": (True, None), "rb0": (False, "rb1")}
    delta = {name: tables.rows(where["output"], name, where["options"]) for name in snapshot.DATASETS}
    assert sorted(r["report_id"] for r in rows["cells"]) == sorted(c["report_id"] for c in delta["cells"])
    assert len(rows["cells"]) == 2 * len(extraction["cells"])
    for name in ("reports", "cells", "t3_applications"):
        key = ("report_id", "publish_id", "row", "col") if name == "cells" else ("report_id", "publish_id", "row")
        def norm(rs: list[dict[str, Any]], key: tuple[str, ...] = key) -> list[dict[str, Any]]:
            return sorted(rs, key=lambda r: tuple(str(r.get(k)) for k in key))
        assert norm(rows[name]) == norm(delta[name]), name  # every column, as the Delta reader computes it
    assert {r["report_id"] for r in rows["checks"]} == {"ra2", "rb1"}  # the current reports' checks
    assert snapshot.read(store, "cells").num_rows == len(rows["cells"])


def test_readers_only_ever_see_one_whole_snapshot_while_snapshots_are_replaced(where: dict[str, Any],
                                                                                extraction: dict[str, Any]) -> None:  # fmt: skip
    store = where["store"]
    _publish(store, extraction, [("v0", "ag-x", 0)])
    snapshot.export(store)
    seen: Counter[str] = Counter()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                sid, rows = _read_whole(store)
                _consistent(rows)
                seen[sid] += 1
        except Exception as exc:  # noqa: BLE001 - any failure of the reader fails the test below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    ids = []
    try:
        for n in range(1, 5):  # a newer version of the agency and a new agency each time, then a new snapshot
            _publish(store, extraction, [(f"v{n}", "ag-x", n), (f"n{n}", f"ag-{n}", 0)])
            ids.append(snapshot.Exporter(store, grace_hours=24).export().id)
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not errors, errors
    assert len(seen) >= 2, f"the reader saw only {dict(seen)}: the test did not overlap a switch"
    sid, rows = _read_whole(store)
    assert sid == ids[-1] and {r["report_id"] for r in rows["reports"] if r["is_current"]} == {
        "rv4", "rn1", "rn2", "rn3", "rn4"}
    assert set(snapshot.Exporter(store).snapshot_ids()) >= set(ids)  # none removed within the grace period


class _DiesHalfWay(snapshot.Exporter):
    def __init__(self, store: Store, after: int) -> None:
        super().__init__(store, grace_hours=1)
        self.left = after

    def _write(self, key: str, sch: Any, parts: Any) -> int:
        self.left -= 1
        if self.left > 0:
            return super()._write(key, sch, parts)

        def cut_short() -> Any:  # the file is being written when the exporter dies
            yield from list(parts)[:1]
            raise OSError("the exporter died here")

        return super()._write(key, sch, cut_short())


def test_an_export_that_dies_half_way_changes_nothing_readers_see(where: dict[str, Any], extraction: dict[str, Any]) -> None:
    store = where["store"]
    _publish(store, extraction, [("a1", "ag-a", 0)])
    first = snapshot.Exporter(store, grace_hours=1).export()
    before = _read_whole(store)
    _publish(store, extraction, [("a2", "ag-a", 1)])
    with pytest.raises(OSError, match="died here"):
        _DiesHalfWay(store, after=4).export()
    assert _read_whole(store) == before  # the same snapshot, whole
    ids = snapshot.Exporter(store).snapshot_ids()
    assert len(ids) == 2 and ids[0] == first.id  # the half-written one is there, named by no pointer
    later = datetime.now(UTC) + timedelta(hours=2)
    assert snapshot.Exporter(store, grace_hours=1).clean(now=later) == [ids[1]]  # abandoned: removed
    assert snapshot.Exporter(store).snapshot_ids() == [first.id] and _read_whole(store) == before


def test_an_older_export_never_replaces_a_newer_and_replaced_ones_go_after_the_grace(where: dict[str, Any],
                                                                                      extraction: dict[str, Any]) -> None:  # fmt: skip
    store = where["store"]
    _publish(store, extraction, [("a1", "ag-a", 0)])
    newer = snapshot.Exporter(store, grace_hours=1).export()
    slow = snapshot.Exporter(store, grace_hours=1).export(now=datetime.now(UTC) - timedelta(minutes=5))
    assert newer.switched and not slow.switched and slow.id < newer.id
    assert json.loads(store.get(snapshot.POINTER))["id"] == newer.id
    third = snapshot.Exporter(store, grace_hours=1).export()
    assert third.switched and third.removed == []  # within the grace period: the replaced ones stay
    later = datetime.now(UTC) + timedelta(hours=2)
    assert sorted(snapshot.Exporter(store, grace_hours=1).clean(now=later)) == sorted([newer.id, slow.id])
    assert snapshot.Exporter(store).snapshot_ids() == [third.id] and _read_whole(store)[0] == third.id
    assert snapshot.Exporter(store, grace_hours=0).export().removed == [third.id]  # grace 0: at once
