"""Puts the scan producer (tests/fixtures/producers) on the path of the OCR tests; the shared pieces
are in `ocr_support.py`."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for p in (TESTS, TESTS / "fixtures" / "producers"):  # never this folder: its conftest would shadow tests/conftest.py
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
