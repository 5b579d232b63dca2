"""The ledger's reading rules: what counts as ingested, which failed reads are due again, and
which version the poll checkpoint may mark as seen (tasks/pipeline.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tasks import pipeline
from tasks.records import ObjectInfo
from tasks.storage import LocalStore

NOW = datetime.now(UTC)


def _row(
    source: LocalStore, key: str, outcome: str, etag: str | None, ago_s: float, error: str | None = None
) -> dict[str, Any]:
    return {
        "url": source.url(key), "key": key, "etag": etag, "version_id": None, "size": 1,
        "last_modified": NOW, "sha256": None, "report_id": None, "agency_id": None,
        "outcome": outcome, "error_type": error, "at": NOW - timedelta(seconds=ago_s),
    }  # fmt: skip


def _ledger(tmp_path: Path, batches: list[list[dict[str, Any]]]) -> LocalStore:
    out = LocalStore(tmp_path / "out")
    for n, rows in enumerate(batches):
        out.put(f"{pipeline.LEDGER_PREFIX}b{n}.parquet", _parquet(rows))
    return out


def _parquet(rows: list[dict[str, Any]]) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=pipeline.LEDGER_SCHEMA), buf)
    return buf.getvalue()


def test_failed_reads_are_due_again_with_a_doubling_delay(tmp_path: Path) -> None:
    src = LocalStore(tmp_path / "src")
    other = LocalStore(tmp_path / "elsewhere")
    out = _ledger(tmp_path, [
        [_row(src, "a.pdf", "pending", None, 5.0, "AccessDenied"),  # 1st failure, 5 s ago: due (delay 1 s)
         _row(src, "b.pdf", "pending", None, 9.0, "AccessDenied"),
         _row(src, "c.pdf", "pending", None, 9.0, "AccessDenied"),
         _row(src, "d.pdf", "pending", None, 9.0, "AccessDenied"),
         _row(other, "e.pdf", "pending", None, 9.0, "AccessDenied")],  # another source: not ours
        [_row(src, "b.pdf", "pending", None, 3.0, "EndpointConnectionError"),  # 2nd failure, 3 s ago: due (2 s)
         _row(src, "c.pdf", "pending", None, 1.5, "EndpointConnectionError"),  # 2nd failure, 1.5 s ago: not yet
         _row(src, "d.pdf", "published", "e1", 2.0)],  # read since: settled
        [_row(src, "f.pdf", "pending", None, 0.2, "AccessDenied")],  # just failed: not yet
    ])  # fmt: skip
    assert sorted(pipeline.due_reads(out, src, 1.0, 3600.0, now=NOW)) == ["a.pdf", "b.pdf"]
    assert sorted(pipeline.due_reads(out, src, 0.1, 0.2, now=NOW)) == ["a.pdf", "b.pdf", "c.pdf", "f.pdf"]  # capped
    assert pipeline.due_reads(out, src, 1.0, 3600.0, prefix="b", now=NOW) == ["b.pdf"]
    later = NOW + timedelta(seconds=1)
    assert sorted(pipeline.due_reads(out, src, 1.0, 3600.0, now=later)) == ["a.pdf", "b.pdf", "c.pdf", "f.pdf"]


def test_only_identified_versions_read_count_as_ingested(tmp_path: Path) -> None:
    src = LocalStore(tmp_path / "src")
    out = _ledger(tmp_path, [[
        _row(src, "read.pdf", "published", "e1", 1.0),
        _row(src, "failed.pdf", "pending", None, 1.0, "AccessDenied"),
        _row(src, "gone.pdf", "quarantined", None, 1.0, "ObjectNotFound"),
        _row(src, "big.pdf", "quarantined", "e9", 1.0, "DocumentTooLarge"),
    ], [{**_row(src, "x", "quarantined", None, 1.0, "UnsafeKey"), "url": "../x"}]])  # fmt: skip
    assert pipeline.read_ledger(out) == {(src.url("read.pdf"), "e1"), (src.url("big.pdf"), "e9"), ("../x", None)}


def test_the_checkpoint_marks_the_version_that_was_read(tmp_path: Path) -> None:
    src = LocalStore(tmp_path / "src")
    out = _ledger(tmp_path, [[
        _row(src, "overwritten.pdf", "published", "e2", 2.0),  # listed as e1, read as e2
        _row(src, "failed.pdf", "pending", None, 1.0, "AccessDenied"),
        _row(src, "gone.pdf", "quarantined", None, 1.0, "ObjectNotFound"),
        _row(src, "plain.pdf", "published", "p1", 1.0),
    ]])  # fmt: skip
    etags = {"overwritten.pdf": "e1", "failed.pdf": "f1", "gone.pdf": "g1", "plain.pdf": "p1", "new.pdf": "n1"}
    listed = [ObjectInfo(key, 1, NOW, etag) for key, etag in etags.items()]
    got = {i.key: i.etag for i in pipeline.accounted_for(out, src, listed)}
    assert got == {"overwritten.pdf": "e2", "failed.pdf": "f1", "plain.pdf": "p1"}
