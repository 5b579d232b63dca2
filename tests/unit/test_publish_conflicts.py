"""Two writers on one S3 bucket file, interleaved deterministically (moto over HTTP): no lost update.

Writer B runs a whole publish in the middle of writer A's, just before A's n-th write, for every n
of A's writes (cells, the three wide views, checks, reports). A read every file before that, so
each of its later writes is a lost update unless it is conditional on what A read. The outcome
must be that of the two publishes one after the other: every report and cell exactly once, and
for two versions of one agency and year, the newer upload current whoever commits last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tasks.extract import extract_path
from tasks.publish import DatasetWriter, Publishable, PublishConflict, read_versioned
from tasks.records import CheckResult, ReportMeta, Validated
from tasks.storage import S3Store

pytestmark = pytest.mark.slow  # moto

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
T0 = datetime(2025, 3, 1, tzinfo=UTC)
WRITES = 6  # one bucket: cells, t2, t3, t4, checks, reports
DATASETS = ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation", "checks", "reports")


@pytest.fixture(scope="module")
def extraction() -> dict[str, Any]:
    return extract_path(SAMPLE).to_dict()


def item(extraction: dict[str, Any], sha: str, agency_id: str, modified: datetime) -> Publishable:
    meta = ReportMeta("r" + sha, f"s3://src/{sha}.txt", sha, "text", f"机关{agency_id}", agency_id, 2021,
                      extraction["format_version"], modified)  # fmt: skip
    check = CheckResult("ID-01", "error", True, f"identity of {sha}", [], None)
    return Publishable(meta, extraction, Validated(meta.report_id, "passed", [check]))


class WriteHook:
    """The real S3Store; `run()` is called once, just before its `n`-th write (put or put_if)."""

    def __init__(self, store: S3Store, n: int, run: Callable[[], None]) -> None:
        self._store, self._n, self._run, self.writes = store, n, run, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _before_write(self) -> None:
        self.writes += 1
        if self.writes == self._n:
            self._run()

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._before_write()
        self._store.put(key, data, content_type)

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> None:
        self._before_write()
        self._store.put_if(key, data, etag, content_type)


def rows(store: S3Store, dataset: str) -> list[dict[str, Any]]:
    table, _ = read_versioned(store, f"parquet/{dataset}/year=2021/bucket-00.parquet")
    return [] if table is None else table.to_pylist()


def per_report(store: S3Store, dataset: str) -> Counter[str]:
    return Counter(r["report_id"] for r in rows(store, dataset))


def interleave(store: S3Store, n: int, batch_a: list[Publishable], batch_b: list[Publishable], **kw: Any) -> tuple:
    writer_b = DatasetWriter(store, buckets=1, **kw)
    b_summary: list[Any] = []
    hooked = WriteHook(store, n, lambda: b_summary.append(writer_b.publish(batch_b)))
    a_summary = DatasetWriter(hooked, buckets=1, backoff_s=0.001, **kw).publish(batch_a)  # type: ignore[arg-type]
    assert len(b_summary) == 1, "writer B did not run inside writer A"
    return a_summary, b_summary[0]


@pytest.fixture
def s3(moto_settings: Any, make_bucket: Callable[..., str]) -> S3Store:
    return S3Store(make_bucket(moto_settings), "out", moto_settings)


@pytest.mark.parametrize("n", range(1, WRITES + 1))
def test_distinct_agencies_interleaved_lose_nothing(s3: S3Store, extraction: dict[str, Any], n: int) -> None:
    batch_a = [item(extraction, f"a{i}", f"ag-a{i}", T0) for i in range(2)]
    batch_b = [item(extraction, f"b{i}", f"ag-b{i}", T0) for i in range(3)]
    a, b = interleave(s3, n, batch_a, batch_b)
    assert b.conflicts == 0 and a.conflicts >= 1  # A's n-th write was based on reads older than B's
    assert sorted(a.published) == ["ra0", "ra1"] and sorted(b.published) == ["rb0", "rb1", "rb2"]
    every = {"ra0", "ra1", "rb0", "rb1", "rb2"}
    n_cells = len(extraction["cells"])
    assert per_report(s3, "cells") == dict.fromkeys(every, n_cells)
    assert per_report(s3, "checks") == dict.fromkeys(every, 1)
    assert per_report(s3, "reports") == dict.fromkeys(every, 1)
    assert all(r["is_current"] for r in rows(s3, "reports"))
    for wide in ("t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        counts = per_report(s3, wide)
        assert counts.keys() == every and len(set(counts.values())) == 1, wide


@pytest.mark.parametrize("newer", ["a", "b"])
@pytest.mark.parametrize("n", range(1, WRITES + 1))
def test_two_versions_of_one_agency_and_year_interleaved(
    s3: S3Store, extraction: dict[str, Any], n: int, newer: str
) -> None:
    """A and B each publish a version of agency X's 2021 report (plus one agency of their own):
    whoever commits last, the newer upload (by LastModified) is current and the older is history."""
    t_a, t_b = (T0 + timedelta(days=2), T0) if newer == "a" else (T0, T0 + timedelta(days=2))
    batch_a = [item(extraction, "xa", "ag-x", t_a), item(extraction, "a0", "ag-a0", T0)]
    batch_b = [item(extraction, "xb", "ag-x", t_b), item(extraction, "b0", "ag-b0", T0)]
    a, b = interleave(s3, n, batch_a, batch_b)
    new, old = ("rxa", "rxb") if newer == "a" else ("rxb", "rxa")
    assert a.conflicts >= 1
    current_cells = per_report(s3, "cells")
    assert current_cells == {new: len(extraction["cells"]), "ra0": len(extraction["cells"]), "rb0": len(extraction["cells"])}
    assert set(per_report(s3, "t3_applications")) == {new, "ra0", "rb0"}
    assert per_report(s3, "checks") == {"rxa": 1, "rxb": 1, "ra0": 1, "rb0": 1}  # history kept
    reports = {r["report_id"]: r for r in rows(s3, "reports")}
    assert len(rows(s3, "reports")) == len(reports) == 4
    assert reports[new]["is_current"] and reports[new]["superseded_by"] is None
    assert not reports[old]["is_current"] and reports[old]["superseded_by"] == new
    # the writer that committed second saw the other's version: one of them reports the outcome
    assert new in a.published + b.published
    assert old in a.older + b.older + a.superseded + b.superseded


def test_a_writer_that_keeps_losing_fails_typed_and_commits_nothing(s3: S3Store, extraction: dict[str, Any]) -> None:
    batch_a = [item(extraction, "a0", "ag-a0", T0)]
    batch_b = [item(extraction, "b0", "ag-b0", T0)]
    with pytest.raises(PublishConflict, match="after 1 attempts"):
        interleave(s3, 1, batch_a, batch_b, attempts=1)
    assert per_report(s3, "reports") == {"rb0": 1} and per_report(s3, "cells") == {"rb0": len(extraction["cells"])}

