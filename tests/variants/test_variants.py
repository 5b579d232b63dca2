"""Every fixture folder (generated variants and the shared samples) extracts to its expected.json, and every
generated fixture really shows the layout variant it claims (checks.json, see tests/fixtures/generate.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from helpers import check_variant, compare_with_expected, load_expected  # noqa: E402

GENERATED = TESTS / "fixtures" / "generated"
SAMPLES = TESTS / "fixtures" / "samples"


def _folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "expected.json").exists())


ALL = _folders(GENERATED) + _folders(SAMPLES)


def _source(folder: Path) -> Path:
    found = sorted(folder.glob("source.*"))
    assert found, f"{folder}: no source.* file"
    return found[0]


def _extract(path: Path) -> dict:
    """The readers' contract with OCR off (XXGK_OCR_ENABLED=false): the picture fixtures are
    ScannedDocument / image_only here; tests/ocr reads them with OCR on."""
    from tasks.errors import XxgkError
    from tasks.extract import OcrOptions, extract_path

    try:
        return extract_path(path, ocr=OcrOptions(enabled=False)).to_dict()
    except XxgkError as e:
        return {"error": {"type": e.type, "message": str(e)}}


@pytest.mark.parametrize("folder", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_extracts_as_expected(folder: Path) -> None:
    expected = load_expected(folder)
    result = _extract(_source(folder))
    mismatches = compare_with_expected(result, expected)
    if (folder / "partial.json").exists():  # a copy that cannot give every cell: none wrong, the rest not_found
        claim = json.loads((folder / "partial.json").read_text(encoding="utf-8"))
        wrong = [m for m in mismatches if not re.search(r"got (status )?'not_found'", m)]
        right = len(expected["cells"]) - (len(mismatches) - len(wrong))
        assert wrong == [], f"{folder.name}: {len(wrong)} cell(s) read wrong\n" + "\n".join(wrong[:40])
        assert right >= claim["min_right"], f"{folder.name}: {right} cells right, {claim['min_right']} claimed"
        return
    shown = "\n".join(mismatches[:40]) + (f"\n… {len(mismatches) - 40} more" if len(mismatches) > 40 else "")
    assert mismatches == [], f"{folder.name}: {len(mismatches)} mismatch(es)\n{shown}"


GEN_CHECKS = [
    (folder, i, check)
    for folder in _folders(GENERATED)
    for i, check in enumerate(json.loads((folder / "checks.json").read_text(encoding="utf-8")))
    if (folder / "checks.json").exists()
] if GENERATED.is_dir() else []


@pytest.mark.parametrize(
    ("folder", "i", "check"), GEN_CHECKS, ids=[f"{f.name}#{i}-{c['check']}" for f, i, c in GEN_CHECKS]
)
def test_fixture_shows_its_variant(folder: Path, i: int, check: dict) -> None:
    problem = check_variant(folder, check)
    assert problem is None, f"{folder.name}: NOTES.md claims a variant the file does not show: {problem}"


@pytest.mark.parametrize("folder", _folders(GENERATED), ids=lambda p: p.name)
def test_generated_fixture_is_complete(folder: Path) -> None:
    """NOTES.md names the variant; expected.json is well formed; a cell expectation is a value or a status."""
    notes = (folder / "NOTES.md").read_text(encoding="utf-8").strip()
    assert notes and "\n" not in notes, "NOTES.md must be one line naming the variant(s)"
    assert (folder / "checks.json").exists()
    exp = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    if "error" in exp:
        assert isinstance(exp["error"], str)
        return
    from tasks.spec import cell_keys

    keys = [(c["table"], c["row"], c["col"]) for c in exp["cells"]]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(k.table, k.row, k.col) for k in cell_keys(exp["format_version"])}
    for c in exp["cells"]:
        assert "value" in c or c.get("status") in {"blank", "dash", "text", "not_found", "image_only"}, c


def test_helper_compares_exactly() -> None:
    """A printed 0 read as blank, a blank read as 0, and a shortened or cluttered agency are all mismatches."""
    exp = {"agency": "淮安市洪泽区人民政府", "year": 2024, "format_version": "2021_mixed",
           "cells": [{"table": "t4", "row": "admin_review", "col": "total", "value": 0},
                     {"table": "t4", "row": "admin_review", "col": "pending", "status": "blank", "value": None},
                     {"table": "t3", "row": "other_total", "col": "total", "value": 5}]}
    res = {"agency": "淮安市洪泽区人民政府", "year": 2024, "format_version": "2021_mixed", "cells": [
        {"table": "t4", "row": "admin_review", "col": "total", "value": 0, "status": "reported"},
        {"table": "t4", "row": "admin_review", "col": "pending", "value": None, "status": "blank"},
        {"table": "t3", "row": "other_total", "col": "total", "value": 5, "status": "reported"},
        {"table": "t3", "row": "other_other", "col": "total", "value": None, "status": "not_found"}]}
    assert compare_with_expected(res, exp) == []
    zero_as_blank = json.loads(json.dumps(res))
    zero_as_blank["cells"][0].update(value=None, status="blank")
    assert [d.split(":")[0] for d in compare_with_expected(zero_as_blank, exp)] == ["t4/admin_review/total"]
    blank_as_zero = json.loads(json.dumps(res))
    blank_as_zero["cells"][1].update(value=0, status="reported")
    assert [d.split(":")[0] for d in compare_with_expected(blank_as_zero, exp)] == ["t4/admin_review/pending"]
    for agency in ("洪泽区人民政府", "政府", "标题:淮安市洪泽区人民政府", "•淮安市洪泽区人民政府", None):
        assert compare_with_expected({**res, "agency": agency}, exp) == [
            f"agency: expected '淮安市洪泽区人民政府', got {agency!r}"]
    res["cells"][2]["value"] = 6
    assert len(compare_with_expected(res, exp)) == 1
    res["cells"].append({"table": "t3", "row": "granted", "col": "total", "value": 1, "status": "reported"})
    assert len(compare_with_expected(res, exp)) == 2
    assert compare_with_expected({"error": {"type": "NotAReport", "message": "x"}}, {"error": "NotAReport"}) == []
    assert compare_with_expected({"error": {"type": "TableNotFound", "message": "x"}}, {"error": "NotAReport"})


@pytest.mark.parametrize("folder", _folders(SAMPLES), ids=lambda p: p.name)
def test_sample_records_its_printed_blanks(folder: Path) -> None:
    """Each sample copy says which cells its source prints empty (blanks.json, read from the document itself);
    every listed cell is a 0 of the shared expected.json, and the expectation then holds no 0 that is not printed."""
    assert (folder / "blanks.json").exists(), f"{folder.name}: record the cells printed blank in blanks.json"
    raw = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    exp = load_expected(folder)
    listed = json.loads((folder / "blanks.json").read_text(encoding="utf-8"))["cells"]
    blank = [c for c in exp["cells"] if c.get("status") == "blank"]
    assert len(blank) == len(listed)
    assert len(exp["cells"]) == len(raw["cells"])
