"""Two writers on one S3 output's Delta tables, interleaved deterministically (moto over HTTP).

Writer B runs a whole publish in the middle of writer A's, just before A's n-th commit, for every
n (cells, the three wide views, checks, reports, the reconcile). A read `reports` before that, so
its view is stale from then on. The outcome must be that of the two publishes one after the other:
every report and current cell exactly once, and for two versions of one agency and year, the
newer upload current whoever commits last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tables

from tasks.extract import extract_path
from tasks.publish import DatasetWriter, Publishable, PublishConflict
from tasks.records import CheckResult, ReportMeta, Validated
from tasks.storage import S3Store

pytestmark = pytest.mark.slow  # moto

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
T0 = datetime(2025, 3, 1, tzinfo=UTC)
WRITES = 6  # cells, t2, t3, t4, checks, reports: six appends
DATASETS = ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation", "checks", "reports")


@pytest.fixture(scope="module")
def extraction() -> dict[str, Any]:
    return extract_path(SAMPLE).to_dict()


def item(extraction: dict[str, Any], sha: str, agency_id: str, modified: datetime) -> Publishable:
    meta = ReportMeta("r" + sha, f"s3://src/{sha}.txt", sha, "text", f"机关{agency_id}", agency_id, 2021,
                      extraction["format_version"], modified)  # fmt: skip
    check = CheckResult("ID-01", "error", True, f"identity of {sha}", [], None)
    return Publishable(meta, extraction, Validated(meta.report_id, "passed", [check]))


class Interleaved(DatasetWriter):
    """A real writer; `run()` is called once, just before its `n`-th commit (an append, or the
    reconcile's MERGE once its rows are read)."""

    def __init__(self, store: S3Store, n: int, run: Callable[[], None], **kw: Any) -> None:
        super().__init__(store, **kw)
        self._n, self._run, self.commits = n, run, 0

    def _before_commit(self, what: str) -> None:
        self.commits += 1
        if self.commits == self._n:
            self._run()


def rows(store: S3Store, dataset: str) -> list[dict[str, Any]]:
    return tables.rows(store.url("").rstrip("/"), dataset, tables.s3_options(store.settings))


def raw_rows(store: S3Store, dataset: str) -> list[dict[str, Any]]:
    t = tables.raw(store.url("").rstrip("/"), dataset, tables.s3_options(store.settings))
    return [] if t is None else t.to_pylist()


def per_report(store: S3Store, dataset: str) -> Counter[str]:
    return Counter(r["report_id"] for r in rows(store, dataset))


def interleave(store: S3Store, n: int, batch_a: list[Publishable], batch_b: list[Publishable], **kw: Any) -> tuple:
    writer_b = DatasetWriter(store)
    b_summary: list[Any] = []
    writer_a = Interleaved(store, n, lambda: b_summary.append(writer_b.publish(batch_b)), backoff_s=0.001, **kw)
    a_summary = writer_a.publish(batch_a)
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
    assert b.conflicts == 0 and a.conflicts == 0  # appends never conflict
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
    current_cells = per_report(s3, "cells")
    assert current_cells == {new: len(extraction["cells"]), "ra0": len(extraction["cells"]), "rb0": len(extraction["cells"])}
    assert set(per_report(s3, "t3_applications")) == {new, "ra0", "rb0"}
    assert per_report(s3, "checks") == {"rxa": 1, "rxb": 1, "ra0": 1, "rb0": 1}  # history kept
    reports = {r["report_id"]: r for r in rows(s3, "reports")}
    assert len(rows(s3, "reports")) == len(reports) == 4
    assert reports[new]["is_current"] and reports[new]["superseded_by"] is None
    assert not reports[old]["is_current"] and reports[old]["superseded_by"] == new
    # neither saw the other's version (B's ran after A's read, A's `reports` row after B): each
    # reports its own as published; which one is current is the tables' to say, as checked above
    assert "rxa" in a.published and "rxb" in b.published


def test_two_writers_of_the_same_bytes_keep_one_row(s3: S3Store, extraction: dict[str, Any]) -> None:
    """B publishes the same report while A is between its read and its appends: both append it,
    and readers count the report once (its row with the smaller publish id), with one set of cells."""
    batch = [item(extraction, "dd", "ag-d", T0)]
    a, b = interleave(s3, 1, batch, list(batch))
    assert a.published == b.published == ["rdd"]
    assert len([r for r in raw_rows(s3, "reports") if r["report_id"] == "rdd"]) == 2
    assert len(raw_rows(s3, "cells")) == 2 * len(extraction["cells"])
    assert per_report(s3, "reports") == {"rdd": 1}
    assert per_report(s3, "cells") == {"rdd": len(extraction["cells"])}
    assert per_report(s3, "checks") == {"rdd": 1}


class Losing(DatasetWriter):
    """Every commit before the `wins`-th loses its race (as delta-rs reports it)."""

    def __init__(self, store: S3Store, wins: int, **kw: Any) -> None:
        super().__init__(store, backoff_s=0.001, **kw)
        self.tries, self.wins = 0, wins

    def _before_commit(self, what: str) -> None:
        from deltalake.exceptions import CommitFailedError

        self.tries += 1
        if self.tries < self.wins:
            raise CommitFailedError(f"{what}: version 3 already exists")


def test_a_lost_commit_is_retried(s3: S3Store, extraction: dict[str, Any]) -> None:
    summary = Losing(s3, wins=3).publish([item(extraction, "x0", "ag-x", T0)])
    assert summary.published == ["rx0"] and summary.conflicts == 2
    assert per_report(s3, "cells") == {"rx0": len(extraction["cells"])} and per_report(s3, "reports") == {"rx0": 1}


def test_a_writer_that_keeps_losing_fails_typed(s3: S3Store, extraction: dict[str, Any]) -> None:
    with pytest.raises(PublishConflict, match="after 2 attempts"):
        Losing(s3, wins=99, attempts=2).publish([item(extraction, "x0", "ag-x", T0)])
    assert rows(s3, "reports") == [] and rows(s3, "cells") == []
