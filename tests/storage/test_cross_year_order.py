"""Quality is a function of the data, not of the order the years arrive in (issue #11).

Three years of one agency whose numbers break the cross-year rules (XY-01 carried over ≠ last
year's carried forward in 2022 and 2023; XY-02 in_force not continuous in 2022, continuous in 2023),
ingested through the pipeline's steps (extract in a worker process, prepare, the validate step,
publish) into a local folder output, one year per run in all six orders and all three in one run:
the `reports` statuses and the current cross-year check rows are the same in all seven, and the
cells and wide rows of every current report carry its status. A newer upload of 2022 makes 2023
checked again against it (and the snapshot export shows it so). Two writers publishing 2022 and 2023 at once, neither seeing the
other when it read, still end with 2023 checked against 2022.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
import tables

from tasks import pipeline, snapshot, steps
from tasks.publish import DatasetWriter, Publishable
from tasks.sandbox import ExtractorPool
from tasks.storage import LocalStore

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
YEARS = (2021, 2022, 2023)
CARRIED = {2021: 1, 2022: 2, 2023: 3}  # carried over = carried forward within a year (T3 holds); XY-01 breaks
IN_FORCE = {2021: 24, 2022: 30, 2023: 54}  # issued 24, abolished 0 each year: 2022 ≠ 24 + 24, 2023 = 30 + 24
XY = ("XY-01", "XY-02", "XY-03", "PLAUS-02")


def report_text(year: int, carried: int, in_force: int) -> bytes:
    """The Jining 2021 text report, re-dated to `year`, its 行政规范性文件 in force and its carried
    applications (自然人 and 总计 of 二 and 四, so every identity of table 3 still holds) set."""
    lines = SOURCE.read_text("utf-8").split("\n")

    def values_after(label: str) -> int:
        return next(i for i, line in enumerate(lines) if label in line) + 1

    for label in ("二、上年结转政府信息公开申请数量", "四、结转下年度继续办理"):
        at = values_after(label)
        assert [lines[at + k].strip() for k in range(7)] == ["0"] * 7, label
        lines[at] = lines[at + 6] = f"\t{carried}"
    at = values_after("行政规范性文件")
    assert [lines[at + k].strip() for k in range(3)] == ["24", "0", "24"]
    lines[at + 2] = f"\t{in_force}"
    return "\n".join(lines).replace("2021年", f"{year}年").encode("utf-8")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pipeline.Extracted]:
    """The three years and a newer upload of 2022 (2022b: carried 3, so 2023 carries on from
    it), extracted once in a worker process as the pipeline does."""
    src = tmp_path_factory.mktemp("src")
    for year in YEARS:
        (src / f"{year}.txt").write_bytes(report_text(year, CARRIED[year], IN_FORCE[year]))
    (src / "2022b.txt").write_bytes(report_text(2022, 3, IN_FORCE[2022]))
    stamp = (src / "2023.txt").stat().st_mtime
    os.utime(src / "2022b.txt", (stamp + 60, stamp + 60))  # the newer upload of 2022
    source = LocalStore(src)
    with ExtractorPool(1) as pool:
        got = {Path(i.key).stem: pipeline.extract_one(source, i, pool) for i in source.list("")}
    assert all(e.error is None for e in got.values()), {k: e.error for k, e in got.items()}
    return got


def validated_batch(out: Path, batch: list[pipeline.Extracted]) -> list[Publishable]:
    """A run's prepare and validate steps (the flow's `validate` task, without Prefect)."""
    prepared = pipeline.prepare(batch)
    assert not prepared.quarantined
    validated = steps.validate_batch.fn("test", prepared, str(out))
    return pipeline.publishables(prepared, validated)


def ingest(out: Path, batch: list[pipeline.Extracted]) -> None:
    """One run: prepare, validate, publish (as the flow's tasks do)."""
    summary = pipeline.publish_batch(LocalStore(out), validated_batch(out, batch), strict=False)
    assert not summary.refused


def outcome(out: Path) -> dict[str, Any]:
    """What a reader sees: each current report's status, and its cross-year check rows."""
    reports = [r for r in tables.rows(out, "reports") if r["is_current"]]
    by_id = {r["report_id"]: r["year"] for r in reports}
    statuses = {r["year"]: (r["status"], r["failed_warnings"], r["failed_infos"]) for r in reports}
    checks = {
        (by_id[c["report_id"]], c["rule"]): (c["passed"], c["severity"], c["message"], json.loads(c["cells"]))
        for c in tables.rows(out, "checks")
        if c["report_id"] in by_id and c["rule"] in XY
    }
    for dataset in ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        rows = [r for r in tables.rows(out, dataset) if r["report_id"] in by_id]
        assert {r["report_id"] for r in rows} == set(by_id), dataset  # one current copy per report
        for r in rows:
            assert r["quality_status"] == statuses[by_id[r["report_id"]]][0], (dataset, by_id[r["report_id"]])
    return {"statuses": statuses, "checks": checks}


def test_the_same_years_give_the_same_statuses_in_any_order(tmp_path: Path, extracted) -> None:  # type: ignore[no-untyped-def]
    runs = {"one batch": [list(YEARS)]} | {"then ".join(map(str, o)): [[y] for y in o] for o in itertools.permutations(YEARS)}
    seen = {}
    for name, batches in runs.items():
        out = tmp_path / name.replace(" ", "_")
        for years in batches:
            ingest(out, [extracted[str(y)] for y in years])
        seen[name] = outcome(out)

    first = seen["one batch"]
    assert first["statuses"][2021][0] == "passed" and first["statuses"][2022][0] == first["statuses"][2023][0] == "warned"
    passed = {(year, rule): v[0] for (year, rule), v in first["checks"].items()}
    assert not any(year == 2021 for year, _ in passed)  # no previous year: no cross-year checks
    assert passed[(2022, "XY-01")] is False and passed[(2022, "XY-02")] is False
    assert passed[(2023, "XY-01")] is False and passed[(2023, "XY-02")] is True
    assert "carried_over.total 3 ≠ previous carried_forward.total 2" in first["checks"][(2023, "XY-01")][2]
    assert "normative_documents.in_force 30 vs 24 + 24 − 0 = 48" in first["checks"][(2022, "XY-02")][2]
    for name, got in seen.items():
        assert got == first, name


def test_a_newer_upload_of_the_year_before_checks_the_next_year_again(tmp_path: Path, extracted) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    for year in YEARS:
        ingest(out, [extracted[str(year)]])
    assert outcome(out)["statuses"][2023][0] == "warned"
    ingest(out, [extracted["2022b"]])  # 2022 carried forward 3: 2023's carried over 3 now continues it
    after = outcome(out)
    assert after["checks"][(2023, "XY-01")][0] is True and after["checks"][(2023, "XY-02")][0] is True
    assert after["statuses"][2023][0] == "passed"
    snapshot.export(LocalStore(out))  # the plain-parquet export reads the same rows as a reader does
    exported = snapshot.read(LocalStore(out), "reports").to_pylist()
    assert {r["year"]: r["status"] for r in exported if r["is_current"]} == {y: v[0] for y, v in after["statuses"].items()}

    fresh = tmp_path / "fresh"  # the same data in one run
    ingest(fresh, [extracted[k] for k in ("2021", "2022", "2022b", "2023")])
    assert outcome(fresh) == after


class Interleaved(DatasetWriter):
    """Runs `other` (another writer's whole publish) just before this writer's first commit: each
    has read the tables before the other committed."""

    def __init__(self, store: LocalStore, other: Any) -> None:
        super().__init__(store)
        self.other = other

    def _before_commit(self, what: str) -> None:
        if self.other is not None:
            other, self.other = self.other, None
            other()


def test_two_writers_publishing_neighbouring_years_at_once_converge(tmp_path: Path, extracted) -> None:  # type: ignore[no-untyped-def]
    out, reference = tmp_path / "out", tmp_path / "reference"
    ingest(out, [extracted["2021"]])
    y2022, y2023 = validated_batch(out, [extracted["2022"]]), validated_batch(out, [extracted["2023"]])
    later = DatasetWriter(LocalStore(out))
    summary = Interleaved(LocalStore(out), lambda: later.publish(y2023)).publish(y2022)
    assert summary.rechecked  # 2023, published meanwhile without a previous year, was checked again
    ingest(reference, [extracted[str(y)] for y in YEARS])
    assert outcome(out) == outcome(reference)
