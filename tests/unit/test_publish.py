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


def test_reports_rows_carry_the_key_totals_and_ocr_counts_the_cells_give(tmp_path, extraction):
    from tasks import pipeline, publish, quality

    DatasetWriter(LocalStore(tmp_path)).publish([_item(extraction, "0a", T0)])
    (row,) = _rows(tmp_path, "reports")
    cells = [c for c in _rows(tmp_path, "cells") if c["report_id"] == "r0a"]
    want = quality.key_totals([{**c, "value": None if c["value"] is None else float(c["value"])} for c in cells])
    assert any(v is not None for v in want.values())
    assert {k: row[f"key_{k}"] for k in want} == {k: None if v is None else int(v) for k, v in want.items()}
    assert (row["ocr_cells"], row["ocr_refused"]) == (0, 0)
    assert publish.report_totals(row) == (want, {"cells": 0, "refused": 0})
    (doc,) = pipeline.agency_documents(LocalStore(tmp_path), ["agtest"])
    assert doc["reports"][0]["key_totals"] == want


def test_an_output_written_before_the_summary_columns_takes_them_on_and_its_pages_still_read_its_cells(
    tmp_path, extraction, monkeypatch
):
    import pyarrow as pa

    from tasks import pipeline, schema

    new = schema.DATASETS["reports"]
    old = pa.schema([f for f in new if f.name not in {"ocr_cells", "ocr_refused"} and not f.name.startswith("key_")],
                    metadata=new.metadata)  # fmt: skip
    with monkeypatch.context() as m:
        m.setitem(schema.DATASETS, "reports", old)
        DatasetWriter(LocalStore(tmp_path)).publish([_item(extraction, "0b", T0)])
    (before,) = pipeline.agency_documents(LocalStore(tmp_path), ["agtest"])
    assert "key_new_received" not in _rows(tmp_path, "reports")[0]
    meta = ReportMeta("r0c", "incoming/c.pdf", "0c", "pdf", extraction["agency"], "agother", 2024,
                      extraction["format_version"], T0)  # fmt: skip
    DatasetWriter(LocalStore(tmp_path)).publish([Publishable(meta, extraction, Validated("r0c", "passed", []))])
    rows = {r["report_id"]: r for r in _rows(tmp_path, "reports")}
    assert rows["r0b"]["key_new_received"] is None and rows["r0c"]["key_new_received"] is not None
    (after,) = pipeline.agency_documents(LocalStore(tmp_path), ["agtest"])
    assert after["reports"][0]["key_totals"] == before["reports"][0]["key_totals"]
    assert after["reports"][0]["key_totals"]["new_received"] == float(rows["r0c"]["key_new_received"])


def test_the_quality_pages_take_the_checks_a_publish_committed_and_read_only_the_others(tmp_path, extraction, monkeypatch):
    from tasks import pipeline, publish
    from tasks.records import CheckResult

    store = LocalStore(tmp_path)
    old, new = _item(extraction, "01", T0), _item(extraction, "02", T0 + timedelta(days=3))
    old.validated = Validated("r01", "passed", [CheckResult("T3-H1", "error", True, "holds", [], None)])
    new.validated = Validated("r02", "failed", [CheckResult("T3-H2", "error", False, "sum differs",
                                                            [{"table": "t3", "row": "carried_over", "col": "total"}], "x"),
                                                CheckResult("T3-H1", "error", True, "holds", [], None)])  # fmt: skip
    DatasetWriter(store).publish([old])
    summary = DatasetWriter(store).publish([new])
    pid = next(r["publish_id"] for r in _rows(tmp_path, "reports") if r["report_id"] == "r02")
    assert list(summary.checks) == [("r02", pid)] and [c["rule"] for c in summary.checks[("r02", pid)]] == ["T3-H2", "T3-H1"]
    asked = []
    real = publish.current_rows

    def recording(tables_, dataset, reports, columns=None):
        reports = list(reports)
        asked.append((dataset, sorted(r["report_id"] for r in reports)))
        return real(tables_, dataset, reports, columns)

    monkeypatch.setattr(publish, "current_rows", recording)
    (read,) = pipeline.agency_documents(store, ["agtest"])
    assert asked[0] == ("checks", ["r01", "r02"])
    asked.clear()
    (given,) = pipeline.agency_documents(store, ["agtest"], committed=summary.checks)
    assert asked[0] == ("checks", ["r01"])  # the other version only
    for doc in (read, given):
        doc.pop("generated_at", None)
    assert given == read
    assert [c["rule"] for c in given["reports"][-1]["checks"]] == ["T3-H2", "T3-H1"]
