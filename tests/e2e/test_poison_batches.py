"""A batch mixing poison numbers with a good report, through `xxgk ingest` and the watcher (the
real flow on the Prefect test server): every report is published on the first run, the good one
exactly, the poison ones with their out-of-range cells as text; a rerun changes nothing."""

from __future__ import annotations

import json
import re
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
    before = {p: p.read_bytes() for p in (out / "delta").rglob("*") if p.is_file()}
    assert before
    assert main(["ingest", str(src), "--output", str(out)]) == 0  # the rerun
    assert "0 published" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in (out / "delta").rglob("*") if p.is_file()} == before


def test_the_watcher_hands_off_a_poison_batch_once_and_it_publishes(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    files = _write_batch(src)
    assert run_watch(str(src), str(out), max_batches=1) == 1  # polling, the flow in this process
    _assert_published(out, files)


def test_a_poison_batch_is_split_and_its_poison_dead_lettered_not_retried_forever(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-off that fails the same way every time it holds one upload (as a batch whose publish
    raises did before): the watcher splits the batch, the three good uploads are ingested, the
    poison one is dead-lettered (record, ledger row, WARNING with the count, the count printed by
    `xxgk watch`) and acknowledged; no later poll hands it off again, a re-upload is ingested."""
    import logging

    from flows.ingest import ingest
    from tasks import pipeline
    from tasks.storage import LocalStore

    from .conftest import jining_variant

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for county in ("子", "丑", "寅"):
        (src / f"{county}.txt").write_bytes(jining_variant(county))
    (src / "poison.txt").write_bytes(jining_variant("卯"))
    calls: list[list[str]] = []

    def handoff(keys: list[str], label: str) -> None:
        calls.append(sorted(keys))
        if "poison.txt" in keys:
            raise ValueError("Decimal type with precision 19 does not fit into precision 18")
        ingest(source=str(src), output=str(out), keys=keys, label=label)

    class Kept(logging.Handler):  # on the watcher's logger itself: a flow run reconfigures the root's handlers
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    kept = Kept()
    logging.getLogger("xxgk.watch").addHandler(kept)
    try:
        assert run_watch(str(src), str(out), max_batches=1, handoff=handoff, limit_s=150) == 1
    finally:
        logging.getLogger("xxgk.watch").removeHandler(kept)
    everything = sorted(["子.txt", "丑.txt", "寅.txt", "poison.txt"])
    assert calls[:2] == [everything, everything]  # the same failure twice, then split
    good = [c for c in calls[2:] if "poison.txt" not in c]
    assert sorted(k for c in good for k in c) == sorted(["子.txt", "丑.txt", "寅.txt"])  # each handed off once
    assert sum(c == ["poison.txt"] for c in calls) == 2  # alone, twice, then dead-lettered
    assert len(calls) == 2 + 2 + 2 + len(good)  # the batch twice, its poisoned half twice, the poison twice

    reports = Outputs.local(out).rows("reports")
    assert sorted(r["agency"] for r in reports) == sorted(f"{c}县人民政府" for c in ("子", "丑", "寅"))
    (dead,) = pipeline.read_dead_letters(LocalStore(out))
    assert dead["source"] == str(src / "poison.txt") and dead["error_type"] == "ValueError"
    assert "precision" in dead["message"] and dead["attempts"] == 2
    assert [p.parent.parent.name for p in out.glob("dead-letter/*/*.json")] == ["dead-letter"]
    warnings = [r.getMessage() for r in kept.records if r.levelno == logging.WARNING]
    assert any("dead-lettered" in w and "poison.txt" in w and "1 upload(s) dead-lettered" in w for w in warnings), warnings
    assert pipeline.pending(LocalStore(src), LocalStore(out)) == []  # no sweep or ingest retries it

    before = len(calls)
    assert run_watch(str(src), str(out), max_batches=1, handoff=handoff, limit_s=4) == 0  # nothing new: no hand-off
    assert len(calls) == before

    (src / "辰.txt").write_bytes(jining_variant("辰"))  # `xxgk watch` ingests a new upload and prints the count
    assert main(["watch", str(src), "--output", str(out), "--max-batches", "1"]) == 0
    assert "1 upload(s) dead-lettered" in capsys.readouterr().out

    (src / "poison.txt").write_bytes(jining_variant("卯") + b"\n")  # uploaded again (a fix): pending once more
    assert [i.key for i in pipeline.pending(LocalStore(src), LocalStore(out))] == ["poison.txt"]


def test_a_report_whose_publishing_fails_twice_the_same_way_is_quarantined_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fault injected into publishing (a bug that raises for one agency's rows, past the per-report
    schema check): the batch fails twice the same way, is split, the report that fails alone is
    quarantined as Unpublishable with the failure, and the other three are published; the rerun
    finds nothing pending."""
    from tasks import publish

    from .conftest import jining_variant

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for county in ("巳", "午", "未", "申"):
        (src / f"{county}.txt").write_bytes(jining_variant(county))
    real = publish.merge_reports

    def failing(existing, new):  # type: ignore[no-untyped-def]
        if any(r["agency"] == "午县人民政府" for r in new):
            raise KeyError("agency_id")
        return real(existing, new)

    monkeypatch.setattr(publish, "merge_reports", failing)
    assert main(["ingest", str(src), "--output", str(out)]) == 4
    printed = capsys.readouterr().out
    # the first two attempts already wrote the buckets without 午 (a failure is per bucket): the halves
    # find those reports "unchanged", as a rerun after a crash does
    counts = re.search(r"ingested: (\d+) published, (\d+) unchanged", printed)
    assert counts and int(counts[1]) + int(counts[2]) == 3 and "1 quarantined" in printed
    assert "Unpublishable" in printed and "KeyError" in printed
    reports = Outputs.local(out).rows("reports")
    assert sorted(r["agency"] for r in reports) == sorted(f"{c}县人民政府" for c in ("巳", "未", "申"))
    (q,) = [json.loads(p.read_text("utf-8")) for p in out.glob("quarantine/**/*.json")]
    assert q["source"] == str(src / "午.txt") and q["error_type"] == "Unpublishable" and "KeyError" in q["message"]
    assert main(["ingest", str(src), "--output", str(out)]) == 0  # ledgered: nothing pending
    assert "0 published" in capsys.readouterr().out
