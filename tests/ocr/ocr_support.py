"""Shared pieces of the OCR tests: paths, OCR options, the OCR comparison, the generator's truth.

The comparison is the issue's contract: every cell is exactly right (status and value) or
`ocr_unconfirmed` (refused, value null); a wrong number is never allowed. Each test also asserts how
many cells at least were published, so a reader that refuses everything cannot pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for p in (TESTS, TESTS / "fixtures" / "producers", TESTS / "fixtures"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from helpers import _cell_matches  # noqa: E402

from tasks.extract import OcrOptions  # noqa: E402

SAMPLES = TESTS / "fixtures" / "samples"
GENERATED = TESTS / "fixtures" / "generated"
SYNTH_PDF = SAMPLES / "synthetic_2021_pdf" / "source.pdf"
OCR = OcrOptions(enabled=True)


def judge(result: dict, expected: dict, tables: set[str] | None = None) -> dict[str, list[str]]:
    """Cells of `result` against `expected` (over `tables`, default all), as lists of names:
    `right` (status and value exact), `refused` (ocr_unconfirmed, value null), `missing` (not_found /
    image_only: a row OCR could not place) and `wrong` (anything else: a wrong number, a blank for
    a printed 0, a 0 for a printed blank)."""
    got = {(c["table"], c["row"], c["col"]): c for c in result["cells"]}
    out: dict[str, list[str]] = {"right": [], "refused": [], "missing": [], "wrong": []}
    for e in expected["cells"]:
        k = (e["table"], e["row"], e["col"])
        if tables is not None and k[0] not in tables:
            continue
        name = "/".join(k)
        g = got.get(k)
        if g is None:
            out["wrong"].append(f"{name}: not in the result")
        elif g["status"] == "ocr_unconfirmed":
            assert g["value"] is None and g["raw"] is None and g["source_kind"] == "ocr", g
            out["refused"].append(name)
        elif (diff := _cell_matches(e, g)) is None:
            out["right"].append(name)
        elif g["status"] in ("not_found", "image_only") and (e.get("status") or "reported") not in ("not_found", "image_only"):
            out["missing"].append(name)
        else:
            out["wrong"].append(f"{name}: {diff}")
    return out


def generator():  # type: ignore[no-untyped-def]
    """tests/fixtures/generate.py (the fixture generator's data model)."""
    import generate

    return generate


def _truth(name: str, agency: str, year: int, seed: int) -> dict:
    rep = generator().base(name, agency, year, "2021", seed=seed)
    return {"agency": rep.agency, "year": rep.year, "format_version": rep.layout, "cells": rep.expected_cells()}


def truth_of_table4_image() -> dict:
    """pdf_2021_table4_image's cells as printed (its expected.json says image_only for table 4): the
    generator's own report, same arguments and seed as in generate.py."""
    return _truth("pdf_2021_table4_image", "样例市教育局", 2022, 808)


def truth_of_scanned_fixture() -> dict:
    """pdf_2021_scanned's cells as printed (its expected.json says ScannedDocument)."""
    return _truth("pdf_2021_scanned", "样例镇人民政府", 2022, 909)
