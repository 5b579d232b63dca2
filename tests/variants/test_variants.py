"""Every fixture folder (generated variants and the shared samples) extracts to its expected.json, and every
generated fixture really shows the layout variant it claims (checks.json, see tests/fixtures/generate.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from helpers import check_variant, compare_with_expected  # noqa: E402

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
    from tasks.errors import XxgkError
    from tasks.extract import extract_path

    try:
        return extract_path(path).to_dict()
    except XxgkError as e:
        return {"error": {"type": e.type, "message": str(e)}}


@pytest.mark.parametrize("folder", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_extracts_as_expected(folder: Path) -> None:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    result = _extract(_source(folder))
    mismatches = compare_with_expected(result, expected)
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


def test_helper_accepts_shortened_agency_and_blank_zero() -> None:
    exp = {"agency": "淮安市洪泽区人民政府", "year": 2024, "format_version": "2021_mixed",
           "cells": [{"table": "t4", "row": "admin_review", "col": "total", "value": 0},
                     {"table": "t3", "row": "other_total", "col": "total", "value": 5}]}
    res = {"agency": "洪泽区人民政府", "year": 2024, "format_version": "2021_mixed", "cells": [
        {"table": "t4", "row": "admin_review", "col": "total", "value": None, "status": "blank"},
        {"table": "t3", "row": "other_total", "col": "total", "value": 5, "status": "reported"},
        {"table": "t3", "row": "other_other", "col": "total", "value": None, "status": "not_found"}]}
    assert compare_with_expected(res, exp) == []
    res["cells"][1]["value"] = 6
    assert len(compare_with_expected(res, exp)) == 1
    res["cells"].append({"table": "t3", "row": "granted", "col": "total", "value": 1, "status": "reported"})
    assert len(compare_with_expected(res, exp)) == 2
    assert compare_with_expected({"error": {"type": "NotAReport", "message": "x"}}, {"error": "NotAReport"}) == []
    assert compare_with_expected({"error": {"type": "TableNotFound", "message": "x"}}, {"error": "NotAReport"})
