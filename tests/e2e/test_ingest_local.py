"""`xxgk ingest` and the ingest flow over a local folder: layout, schemas, cells, quarantine,
idempotency, supersession by LastModified, bounded files per partition."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tables

from tasks import publish, schema
from tasks.agency import agency_id
from tasks.cli import EXIT_QUARANTINED, main

from .conftest import (
    BAD_PDF,
    DATASETS,
    Outputs,
    assert_cells_equal,
    extracted,
    jining_variant,
    report_id_of,
    sample,
    sha256,
)

REPORTS = {  # file name in the source folder → sample
    "hongze.pdf": "hongze_2024_pdf",
    "jining.txt": "jining_org_dept_2021_text",
    "shanghai.html": "shanghai_office_2019_html",
    "synthetic.pdf": "synthetic_2021_pdf",
}


def _write(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_cli_ingest_publishes_quarantines_and_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "uploads", tmp_path / "out"
    for name, s in REPORTS.items():
        _write(src / name, sample(s))
    bad = _write(src / "broken" / "bad.pdf", BAD_PDF)

    assert main(["ingest", str(src), "--output", str(out)]) == EXIT_QUARANTINED
    printed = capsys.readouterr().out
    assert "4 published" in printed and "1 quarantined" in printed and str(bad) in printed

    o = Outputs.local(out)
    # layout: DEST/delta/<dataset>/ Delta tables: _delta_log/ and year=Y/part-*.parquet, nothing else
    files = o.files("delta")
    data = [f for f in files if "/_delta_log/" not in f]
    years = {2019, 2021, 2023, 2024}
    for f in data:
        ds_name, part, name = f.split("/")[1:]
        assert ds_name in DATASETS and part.startswith("year=") and int(part[5:]) in years, f
        assert name.startswith("part-") and name.endswith(".parquet"), f
    assert {f.split("/")[1] for f in data} == set(DATASETS)
    assert {int(f.split("/")[2][5:]) for f in data} == years
    assert not [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]

    # explicit schemas: every table's is the spec's (year the partition column), the schema
    # version in every commit's metadata, year only in the path of the data files
    from deltalake import DeltaTable

    for ds_name in DATASETS:
        dt = DeltaTable(str(out / "delta" / ds_name))
        assert dt.metadata().partition_columns == ["year"]
        got = pa.schema(dt.schema().to_arrow())
        want = schema.delta_schema(ds_name).remove_metadata()
        assert [(f.name, str(f.type).replace("element", "item")) for f in got] == [(f.name, str(f.type)) for f in want], ds_name
        assert all(h.get("xxgk.schema_version") == schema.SCHEMA_VERSION for h in dt.history() if h["operation"] == "WRITE")
    for f in data:
        assert "year" not in pq.read_schema(out / f).names

    # cells read back with pyarrow equal `xxgk extract`'s (the CLI itself, for one report)
    cells = o.rows("cells")
    for name, s in REPORTS.items():
        rid = report_id_of(sample(s))
        own = [r for r in cells if r["report_id"] == rid]
        assert own and {r["source"] for r in own} == {str(src / name)}
        assert_cells_equal(own, extracted(sample(s)))
    assert main(["extract", str(src / "hongze.pdf")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert_cells_equal([r for r in cells if r["report_id"] == report_id_of(sample("hongze_2024_pdf"))], printed)

    # ... and with DuckDB: a plain scan holds each current report exactly once
    con = o.duck()
    per_report = con.execute(
        "SELECT agency_id, year, count(DISTINCT report_id), count(*) FROM cells GROUP BY ALL ORDER BY year"
    ).fetchall()
    assert [(y, n) for _, y, n, _ in per_report] == [(2019, 1), (2021, 1), (2023, 1), (2024, 1)]
    assert sum(c for *_, c in per_report) == len(cells) == sum(len(extracted(sample(s))["cells"]) for s in REPORTS.values())
    assert con.execute("SELECT count(*), count(DISTINCT report_id) FROM reports WHERE is_current").fetchone() == (4, 4)
    assert con.execute("SELECT count(DISTINCT report_id) FROM t3_applications").fetchone() == (4,)

    # quarantine record under DEST/quarantine/
    (qfile,) = out.glob("quarantine/**/*.json")
    q = json.loads(qfile.read_text("utf-8"))
    assert qfile.relative_to(out).as_posix() == f"quarantine/{sha256(BAD_PDF)[:2]}/{sha256(BAD_PDF)}.json"
    assert q["source"] == str(bad) and q["sha256"] == sha256(BAD_PDF)
    assert q["error_type"] == "CorruptDocument" and q["message"]
    assert q["pipeline_version"] == publish.PIPELINE_VERSION
    assert datetime.fromisoformat(q["at"]).tzinfo is not None

    # quality: one JSON + HTML per agency, the index lists the reports' agencies and the bad file
    index = (out / "quality" / "index.html").read_text("utf-8")
    assert str(bad) in index and "CorruptDocument" in index
    links = set(re.findall(r'href="([^"#]+)"', index))
    assert links and all((out / "quality" / link).is_file() for link in links), links  # no dead link
    assert str(bad) in (out / "quality" / "quarantine.html").read_text("utf-8")
    for name, s in REPORTS.items():
        ex = extracted(sample(s))
        aid = agency_id(ex["agency"])
        doc = json.loads((out / "quality" / f"{aid}.json").read_text("utf-8"))
        assert (out / "quality" / f"{aid}.html").is_file()
        assert doc["agency"] == ex["agency"] and doc["agency_id"] == aid
        (entry,) = doc["reports"]
        assert entry["year"] == ex["year"] and entry["report_id"] == report_id_of(sample(s))
        assert entry["source"] == str(src / name) and entry["status"] in ("passed", "warned", "failed")
        assert entry["checks"] and all({"rule", "severity", "passed", "message", "cells"} <= set(c) for c in entry["checks"])
        assert ex["agency"] in index

    # idempotent: nothing new → exit 0 and not a byte changed; the same bytes under a new name → "unchanged"
    before = {f: (out / f).read_bytes() for f in files}
    assert main(["ingest", str(src), "--output", str(out)]) == 0
    assert "0 published" in capsys.readouterr().out
    shutil.copy(src / "hongze.pdf", src / "hongze-again.pdf")
    (src / "jining.txt").write_bytes(sample("jining_org_dept_2021_text"))  # re-upload: new mtime, same bytes
    assert main(["ingest", str(src), "--output", str(out)]) == 0
    assert "0 published, 2 unchanged" in capsys.readouterr().out
    assert {f: (out / f).read_bytes() for f in o.files("delta")} == before


@pytest.mark.parametrize("newer_first", [True, False], ids=["newer-ingested-first", "older-ingested-first"])
def test_corrected_report_supersedes_by_last_modified(tmp_path: Path, newer_first: bool) -> None:
    """Same agency and year: the upload with the later LastModified is current, whatever the order of ingestion."""
    from flows.ingest import ingest

    src, out = tmp_path / "uploads", tmp_path / "out"
    old, new = sample("synthetic_2021_pdf"), sample("synthetic_2021_docx")
    _write(src / "original.pdf", old, mtime=1_700_000_000)
    _write(src / "corrected.docx", new, mtime=1_700_000_000 + 3600)
    order = ["corrected.docx", "original.pdf"] if newer_first else ["original.pdf", "corrected.docx"]

    first = ingest(source=str(src), output=str(out), keys=[order[0]])
    second = ingest(source=str(src), output=str(out), keys=[order[1]])
    assert first["published"] == 1
    if newer_first:
        assert (second["published"], second["older"], second["superseded"]) == (0, 1, 0)
    else:
        assert (second["published"], second["older"], second["superseded"]) == (1, 0, 1)

    o = Outputs.local(out)
    old_id, new_id = report_id_of(old), report_id_of(new)
    reports = {r["report_id"]: r for r in o.rows("reports")}
    assert set(reports) == {old_id, new_id}  # the superseded version stays, as history
    assert reports[new_id]["is_current"] and reports[new_id]["superseded_by"] is None
    assert not reports[old_id]["is_current"] and reports[old_id]["superseded_by"] == new_id
    assert {r["report_id"] for r in o.rows("checks")} == {old_id, new_id}
    for name in ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        assert {r["report_id"] for r in o.rows(name)} == {new_id}, name
    assert_cells_equal(o.rows("cells"), extracted(new))
    # the tables are append-only: the older version's cells stay as history when it was current once
    kept = {r["report_id"] for r in tables.raw(out, "cells").to_pylist()}
    assert kept == ({new_id} if newer_first else {old_id, new_id})

    aid = agency_id(extracted(new)["agency"])
    doc = o.json(f"quality/{aid}.json")
    by_id = {r["report_id"]: r for r in doc["reports"]}
    assert by_id[old_id]["superseded"] and not by_id[new_id]["superseded"]
    assert by_id[new_id]["source"] == str(src / "corrected.docx")


def test_files_per_partition_stay_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seven agencies of one year in two runs: each run appends one file per table and year,
    each report once."""
    from flows.ingest import ingest

    src, out = tmp_path / "uploads", tmp_path / "out"
    counties = "甲乙丙丁戊己"
    for c in counties[:3]:
        _write(src / f"{c}.txt", jining_variant(c))
    ingest(source=str(src), output=str(out))
    for c in counties[3:]:
        _write(src / f"{c}.txt", jining_variant(c))
    _write(src / "jining.txt", sample("jining_org_dept_2021_text"))
    result = ingest(source=str(src), output=str(out))
    assert result["published"] == 4

    o = Outputs.local(out)
    for name in DATASETS:
        files = [f for f in o.files(f"delta/{name}") if "/_delta_log/" not in f]
        assert len(files) == 2 and all(f.split("/")[2] == "year=2021" for f in files), files
    con = o.duck()
    assert con.execute("SELECT count(DISTINCT agency_id), count(DISTINCT report_id) FROM cells").fetchone() == (7, 7)
    assert con.execute("SELECT count(*) FROM cells").fetchone() == (7 * 200,)
    assert con.execute("SELECT count(*) FROM reports WHERE is_current").fetchone() == (7,)
