"""The scheduled yearly flow on a local folder, in a real Prefect run: it ingests what is new,
then writes which agencies known to the dataset have no current report for the year."""

from __future__ import annotations

import json
from pathlib import Path

from flows.yearly import yearly
from tasks.agency import agency_id

from .conftest import extracted, sample


def test_yearly_ingests_and_writes_the_coverage_of_its_year(tmp_path: Path) -> None:
    src, out = tmp_path / "uploads", tmp_path / "out"
    src.mkdir()
    (src / "hongze.pdf").write_bytes(sample("hongze_2024_pdf"))  # 淮安市洪泽区人民政府, 2024
    (src / "jining.txt").write_bytes(sample("jining_org_dept_2021_text"))  # 2021

    result = yearly(source=str(src), output=str(out), year=2024)

    assert result["published"] == 2
    cov = result["coverage"]
    assert (cov["year"], cov["agencies_known"], cov["with_report"]) == (2024, 2, 1)
    jining = extracted(sample("jining_org_dept_2021_text"))["agency"]
    assert cov["missing"] == [{"agency_id": agency_id(jining), "agency": jining}]  # known, no 2024 report
    written = json.loads((out / "quality" / "coverage-2024.json").read_text("utf-8"))
    assert written["missing"] == cov["missing"]
