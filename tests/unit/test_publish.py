"""Publishing to the Delta tables of a local store: idempotent, superseding by LastModified, history kept."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tables

from tasks.extract import extract_path
from tasks.publish import DatasetWriter, Publishable
from tasks.records import ReportMeta, Validated
from tasks.storage import LocalStore

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "hongze_2024_pdf" / "source.pdf"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def extraction():
    return extract_path(SAMPLE).to_dict()


def _item(extraction, sha: str, modified: datetime, source: str = "incoming/a.pdf") -> Publishable:
    meta = ReportMeta("r" + sha, source, sha, "pdf", extraction["agency"], "agtest", 2024, extraction["format_version"], modified)
    return Publishable(meta, extraction, Validated("r" + sha, "passed", []))


def _rows(root: Path, dataset: str) -> list[dict]:
    return tables.rows(root, dataset)


def test_same_bytes_twice_in_one_batch_publish_once(tmp_path, extraction):
    summary = DatasetWriter(LocalStore(tmp_path)).publish(
        [_item(extraction, "aa", T0), _item(extraction, "aa", T0, "incoming/copy.pdf")]
    )
    assert summary.published == ["raa"] and summary.unchanged == ["raa"]
    assert len(_rows(tmp_path, "cells")) == len(extraction["cells"])
    assert len(_rows(tmp_path, "reports")) == 1


@pytest.mark.parametrize("order", ["newer_first", "older_first"])
def test_newer_upload_wins_whatever_the_order(tmp_path, extraction, order):
    old, new = _item(extraction, "01", T0), _item(extraction, "02", T0 + timedelta(days=3))
    writer = DatasetWriter(LocalStore(tmp_path))
    for item in ([new, old] if order == "newer_first" else [old, new]):
        writer.publish([item])
    cells = _rows(tmp_path, "cells")
    assert {r["report_id"] for r in cells} == {"r02"} and len(cells) == len(extraction["cells"])
    reports = {r["report_id"]: r for r in _rows(tmp_path, "reports")}
    assert reports["r02"]["is_current"] and not reports["r01"]["is_current"]
    assert reports["r01"]["superseded_by"] == "r02"
    writer.publish([old, new])  # a rerun changes nothing
    assert len(_rows(tmp_path, "cells")) == len(extraction["cells"]) and len(_rows(tmp_path, "reports")) == 2


def test_strict_withholds_failed_reports_from_curated_data(tmp_path, extraction):
    item = _item(extraction, "0f", T0)
    item.validated = Validated(item.meta.report_id, "failed", [])
    summary = DatasetWriter(LocalStore(tmp_path), withhold_failed=True).publish([item])
    assert summary.withheld == ["r0f"]
    assert _rows(tmp_path, "cells") == [] and len(_rows(tmp_path, "reports")) == 1
    assert [r["status"] for r in _rows(tmp_path, "reports")] == ["failed"]
