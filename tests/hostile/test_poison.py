"""Poison values: a number, a page or a position that does not fit its published column is refused
per cell (published as text with status `out_of_range`, raw kept, or left null) and named by
RANGE-01; never rounded or clipped, and never an exception in publish. A report whose rows still
cannot be written is quarantined alone (`Unpublishable`); the rest of its batch is published."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tables
from helpers import compare_with_expected

from hostile.generate import BY_NAME, JINING_TEXT, POISON_2019, POISON_2021, POISON_CASES, poison_expected, sample_bytes
from tasks import pipeline, publish
from tasks.checks import validate_batch
from tasks.extract import extract_bytes
from tasks.publish import DatasetWriter, Publishable
from tasks.records import ReportMeta, Validated
from tasks.sandbox import ExtractorPool
from tasks.storage import LocalStore

POISON = {"2021": POISON_2021, "2019": POISON_2019}


def _cells(result: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(c["table"], c["row"], c["col"]): c for c in result["cells"]}


def _assert_poison_cells(result: dict[str, Any], name: str) -> None:
    layout = POISON_CASES[name][0]
    assert compare_with_expected(result, poison_expected(name)) == []
    got = _cells(result)
    for key, (printed, value) in POISON[layout].items():
        c = got[key]
        assert c["raw"] == printed, key
        if value is None:
            assert (c["value"], c["status"]) == (None, "out_of_range"), (key, c)
        else:
            assert c["status"] == "reported" and Decimal(str(c["value"])) == Decimal(str(value)), (key, c)


@pytest.mark.parametrize("name", sorted(POISON_CASES))
def test_extract_bytes_refuses_numbers_that_do_not_fit(name: str) -> None:
    result = extract_bytes(BY_NAME[name].build(), source=BY_NAME[name].filename).to_dict()
    _assert_poison_cells(result, name)
    json.dumps(result)  # the §10 JSON carries every value exactly: no Decimal, no float beyond 15 digits


def test_the_pool_gives_the_same_cells(small_pool: ExtractorPool) -> None:
    for name in POISON_CASES:
        out = small_pool.run(BY_NAME[name].build(), source=BY_NAME[name].filename)
        assert "error" not in out, out.get("error")
        _assert_poison_cells(out, name)


# ------------------------------------------------------------------ publishing


def _rows(root: Path, dataset: str) -> list[dict[str, Any]]:
    return tables.rows(root, dataset)


def _ingest_plain(src: Path, out: Path) -> tuple[publish.PublishSummary, pipeline.Prepared]:
    """The pipeline's steps without an orchestrator (the flows call the same functions): discover,
    extract in a worker process, prepare, validate with the Great Expectations suites, publish."""
    source, output = LocalStore(src), LocalStore(out)
    infos = pipeline.pending(source, output)
    with ExtractorPool(1) as pool:
        extracted = [pipeline.extract_one(source, i, pool) for i in infos]
    prepared = pipeline.prepare(extracted)
    validated = validate_batch([ex for _, ex in prepared.reports])  # cross-year checks run at publish, as in the flow
    items = pipeline.publishables(prepared, validated)
    summary = pipeline.publish_batch(output, items, False)
    records = [q for _, q in prepared.quarantined] + pipeline.refused_records(prepared, extracted, summary)
    pipeline.write_quarantine(output, records)
    pipeline.write_ledger(output, pipeline.batch_id(e.info for e in extracted),
                          pipeline.ledger_rows(extracted, prepared, summary, set(summary.withheld)))  # fmt: skip
    return summary, prepared


def _wide_value(rows: list[dict[str, Any]], report_id: str, key: tuple[str, str, str]) -> Any:
    _, row, col = key
    (r,) = [r for r in rows if r["report_id"] == report_id and r["row"] == row]
    return r[col]


def test_a_batch_of_poison_numbers_and_a_good_report_publishes_every_extreme(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for name in POISON_CASES:
        (src / BY_NAME[name].filename).write_bytes(BY_NAME[name].build())
    good = sample_bytes(JINING_TEXT)
    (src / "good.txt").write_bytes(good)

    summary, prepared = _ingest_plain(src, out)
    ids = {Path(m.source).name: m.report_id for m, _ in prepared.reports}
    assert sorted(summary.published) == sorted(ids.values()) and not summary.refused
    assert not prepared.quarantined

    cells = _rows(out, "cells")
    wide = {"t2": _rows(out, "t2_active_disclosure"), "t3": _rows(out, "t3_applications"),
            "t4": _rows(out, "t4_review_litigation")}  # fmt: skip
    checks = _rows(out, "checks")
    for name, (layout, _) in POISON_CASES.items():
        rid = ids[BY_NAME[name].filename]
        mine = {(c["table"], c["row"], c["col"]): c for c in cells if c["report_id"] == rid}
        refused = []
        for key, (printed, value) in POISON[layout].items():
            c = mine[key]
            assert c["raw"] == printed, (name, key)
            if value is None:
                assert (c["value"], c["status"]) == (None, "out_of_range"), (name, key, c)
                assert _wide_value(wide[key[0]], rid, key) is None
                refused.append(key)
            else:
                assert c["status"] == "reported" and c["value"] == Decimal(str(value)), (name, key, c)
                assert _wide_value(wide[key[0]], rid, key) == (Decimal(value) if isinstance(value, str) else value)
        (range01,) = [c for c in checks if c["report_id"] == rid and c["rule"] == "RANGE-01"]
        assert not range01["passed"] and range01["severity"] == "warn"
        named = {(c["table"], c["row"], c["col"]) for c in json.loads(range01["cells"])}
        assert named == set(refused), name
        assert "out_of_range" in range01["message"] and "never rounded" in range01["message"]
    good_id = ids["good.txt"]
    (g,) = [c for c in checks if c["report_id"] == good_id and c["rule"] == "RANGE-01"]
    assert g["passed"]
    assert sum(c["report_id"] == good_id for c in cells) == len(extract_bytes(good).cells)
    reports = {r["report_id"]: r for r in _rows(out, "reports")}
    assert set(reports) == set(ids.values()) and all(r["is_current"] for r in reports.values())
    assert {reports[ids[BY_NAME[n].filename]]["status"] for n in POISON_CASES} <= {"warned", "failed"}

    before = {d: sorted(map(repr, _rows(out, d))) for d in ("cells", "reports", "checks")}
    again, _ = _ingest_plain(src, out)  # the ledger has them all: nothing pending, nothing changes
    assert again.published == [] and again.refused == []
    assert len(pipeline.read_ledger(LocalStore(out))) == 4
    import shutil

    shutil.rmtree(out / "state")  # a rerun that finds every upload pending again (the ledger lost)
    rerun, _ = _ingest_plain(src, out)
    assert sorted(rerun.unchanged) == sorted(ids.values()) and not rerun.published and not rerun.refused
    assert {d: sorted(map(repr, _rows(out, d))) for d in ("cells", "reports", "checks")} == before


# ------------------------------------------------------------------ positions and counts of every type


@pytest.fixture(scope="module")
def text_extraction() -> dict[str, Any]:
    return extract_bytes(sample_bytes(JINING_TEXT)).to_dict()


def _item(ex: dict[str, Any], sha: str, agency_id: str = "agtest") -> Publishable:
    meta = ReportMeta("r" + sha, f"incoming/{sha}.txt", sha, "text", ex["agency"], agency_id, 2021, ex["format_version"])
    return Publishable(meta, ex, Validated("r" + sha, "passed", []))


def test_pages_and_positions_at_and_past_their_types(tmp_path: Path, text_extraction: dict[str, Any]) -> None:
    """int16 pages (32767 fits, 32768 does not), float32 bboxes (3.4e38 fits; 1e39, NaN and
    infinity do not), a decimal cell value given as a float past 15 digits, a page count of 40,000."""
    ex = json.loads(json.dumps(text_extraction))
    cells = ex["cells"]
    cells[0].update(page=32767, bbox=[0.0, -3.4e38, 3.4e38, 1.5])
    cells[1].update(page=32768, bbox=[0.0, 0.0, 1e39, 1.0])
    cells[2].update(page=-32769, bbox=[float("nan"), 0.0, 1.0, 1.0])
    cells[3].update(bbox=[0.0, float("inf"), 1.0, 1.0])
    cells[4].update(value=0.30000000000000004, status="reported", raw="0.30000000000000004")
    cells[5].update(value=-(2**63), status="reported", raw=str(-(2**63)))
    ex["pages"] = 40000
    summary = DatasetWriter(LocalStore(tmp_path)).publish([_item(ex, "aa")])
    assert summary.published == ["raa"] and not summary.refused

    got = {(c["table"], c["row"], c["col"]): c for c in _rows(tmp_path, "cells")}
    k = [(c["table"], c["row"], c["col"]) for c in cells]
    assert got[k[0]]["page"] == 32767 and got[k[0]]["bbox"] == [0.0, pytest.approx(-3.4e38), pytest.approx(3.4e38), 1.5]
    for i in (1, 2):
        assert got[k[i]]["page"] is None and got[k[i]]["bbox"] is None
    assert got[k[3]]["bbox"] is None
    for i in (4, 5):
        assert (got[k[i]]["value"], got[k[i]]["status"], got[k[i]]["raw"]) == (None, "out_of_range", cells[i]["raw"])
    (report,) = _rows(tmp_path, "reports")
    assert report["pages"] is None and report["status"] == "warned" and report["failed_warnings"] == 1
    (range01,) = [c for c in _rows(tmp_path, "checks") if c["rule"] == "RANGE-01"]
    assert not range01["passed"]
    named = sorted((c["refused"], c["row"], c["col"]) for c in json.loads(range01["cells"]))
    want = sorted([("page", *k[1][1:]), ("bbox", *k[1][1:]), ("page", *k[2][1:]), ("bbox", *k[2][1:]),
                   ("bbox", *k[3][1:]), ("value", *k[4][1:]), ("value", *k[5][1:]), ("pages", None, None)])  # fmt: skip
    assert named == want
    assert "40000" in range01["message"]


def test_one_report_that_cannot_be_written_is_refused_alone(tmp_path: Path, text_extraction: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(text_extraction))
    bad["cells"][0]["row"] = None  # a key column is never null: these rows cannot be written
    summary = DatasetWriter(LocalStore(tmp_path)).publish([_item(bad, "bb", "agbad"), _item(text_extraction, "cc")])
    assert summary.published == ["rcc"]
    (refused,) = summary.refused
    assert (refused.report_id, refused.error_type) == ("rbb", "Unpublishable")
    assert "cannot be published" in refused.message and "schema" in refused.message
    assert {r["report_id"] for r in _rows(tmp_path, "cells")} == {"rcc"}
    assert {r["report_id"] for r in _rows(tmp_path, "reports")} == {"rcc"}
