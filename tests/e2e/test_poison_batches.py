"""A batch mixing poison numbers with a good report, through `xxgk ingest` and the watcher (the
real flow on the Prefect test server): every report is published on the first run, the good one
exactly, the poison ones with their out-of-range cells as text; a rerun changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hostile.generate import BY_NAME, POISON_2019, POISON_2021, POISON_CASES
from tasks.cli import main

from .conftest import Outputs, assert_cells_equal, extracted, report_id_of, run_watch, sample

POISON = {"2021": POISON_2021, "2019": POISON_2019}


def _write_batch(src: Path) -> dict[str, bytes]:
    files = {BY_NAME[n].filename: BY_NAME[n].build() for n in POISON_CASES}
    files["good.txt"] = sample("jining_org_dept_2021_text")
    src.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (src / name).write_bytes(data)
    return files


def _assert_published(out: Path, files: dict[str, bytes]) -> None:
    o = Outputs.local(out)
    cells = o.rows("cells")
    assert {r["report_id"] for r in cells} == {report_id_of(d) for d in files.values()}
    good = files["good.txt"]
    assert_cells_equal([r for r in cells if r["report_id"] == report_id_of(good)], extracted(good))
    for name, (layout, _) in POISON_CASES.items():
        rid = report_id_of(files[BY_NAME[name].filename])
        mine = {(r["table"], r["row"], r["col"]): r for r in cells if r["report_id"] == rid}
        for key, (printed, value) in POISON[layout].items():
            if value is None:
                assert (mine[key]["value"], mine[key]["status"], mine[key]["raw"]) == (None, "out_of_range", printed)
        checks = [c for c in o.rows("checks") if c["report_id"] == rid and c["rule"] == "RANGE-01"]
        assert len(checks) == 1 and not checks[0]["passed"]
        named = {(c["table"], c["row"], c["col"]) for c in json.loads(checks[0]["cells"])}
        assert named == {k for k, (_, v) in POISON[layout].items() if v is None}
    assert not list(out.glob("quarantine/**/*.json"))


def test_xxgk_ingest_publishes_poison_numbers_and_the_good_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    files = _write_batch(src)
    assert main(["ingest", str(src), "--output", str(out)]) == 0
    assert "4 published" in capsys.readouterr().out
    _assert_published(out, files)
    before = {p: p.read_bytes() for p in (out / "parquet").rglob("*.parquet")}
    assert main(["ingest", str(src), "--output", str(out)]) == 0  # the rerun
    assert "0 published" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in (out / "parquet").rglob("*.parquet")} == before


def test_the_watcher_hands_off_a_poison_batch_once_and_it_publishes(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    files = _write_batch(src)
    assert run_watch(str(src), str(out), max_batches=1) == 1  # polling, the flow in this process
    _assert_published(out, files)
