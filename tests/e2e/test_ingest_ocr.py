"""A report whose table 四 is a picture goes through `xxgk ingest` (real Prefect, the pool's OCR lane)
and publishes instead of losing the table: its OCR cells carry `source_kind`/`confidence` in the
parquet, the quality report counts them, and a text report of the same batch is untouched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tasks.agency import agency_id
from tasks.cli import main

from .conftest import Outputs, extracted, report_id_of, sample

TESTS = Path(__file__).resolve().parents[1]
PICTURE = TESTS / "fixtures" / "generated" / "pdf_2021_table4_image" / "source.pdf"


def _truth() -> dict:
    sys.path.insert(0, str(TESTS / "ocr"))
    sys.path.insert(0, str(TESTS / "fixtures" / "producers"))
    from ocr.ocr_support import truth_of_table4_image

    return truth_of_table4_image()


def test_a_table_printed_as_a_picture_publishes_through_ocr(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src, out = tmp_path / "uploads", tmp_path / "out"
    src.mkdir()
    (src / "picture.pdf").write_bytes(PICTURE.read_bytes())
    (src / "jining.txt").write_bytes(sample("jining_org_dept_2021_text"))
    assert main(["ingest", str(src), "--output", str(out)]) == 0  # nothing quarantined
    assert "2 published" in capsys.readouterr().out

    o = Outputs.local(out)
    cells = o.rows("cells")
    rid = report_id_of(PICTURE.read_bytes())
    own = {(r["table"], r["row"], r["col"]): r for r in cells if r["report_id"] == rid}
    truth = {(c["table"], c["row"], c["col"]): c for c in _truth()["cells"]}
    t4 = {k: r for k, r in own.items() if k[0] == "t4"}
    assert len(t4) == 15 and {r["source_kind"] for r in t4.values()} == {"ocr"}
    published = [k for k, r in t4.items() if r["status"] != "ocr_unconfirmed"]
    assert len(published) >= 13
    for k in published:  # right, never a guessed number
        assert r_value(t4[k]) == truth[k]["value"] and t4[k]["confidence"] is not None, (k, t4[k])
    assert {r["source_kind"] for k, r in own.items() if k[0] != "t4"} == {"text"}
    text_rows = [r for r in cells if r["report_id"] == report_id_of(sample("jining_org_dept_2021_text"))]
    assert text_rows and {r["source_kind"] for r in text_rows if r["status"] != "not_found"} == {"text"}

    aid = agency_id(extracted(PICTURE.read_bytes())["agency"])
    doc = json.loads((out / "quality" / f"{aid}.json").read_text("utf-8"))
    (entry,) = doc["reports"]
    assert entry["ocr"] == {"cells": len(published), "refused": 15 - len(published)}
    assert doc["summary"]["ocr_cells"] == len(published)
    assert "OCR" in (out / "quality" / f"{aid}.html").read_text("utf-8")


def r_value(row: dict):  # type: ignore[no-untyped-def]
    v = row["value"]
    return None if v is None else int(v) if v == int(v) else v
