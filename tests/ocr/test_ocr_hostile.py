"""The hostile-input contract holds for pictures: a huge image, a decompression-bomb PNG and a
10,000-page scan end in typed errors, from their headers and page counts (nothing is decoded or
rendered), through `extract_bytes`, the pool's OCR lane and `xxgk extract`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from hostile.generate import pdf_scan_many_pages, png_bomb
from PIL import Image

from ocr.ocr_support import OCR, TESTS
from tasks import errors
from tasks.extract import extract_bytes
from tasks.sandbox import ExtractorPool


def huge_png() -> bytes:
    """A real, fully decodable PNG of 9,000 × 7,000 pixels (63 Mpx, over the 60 Mpx limit): a white page
    compresses to a few hundred KB."""
    buf = io.BytesIO()
    Image.new("L", (9000, 7000), 255).save(buf, "PNG")
    return buf.getvalue()


CASES = [
    ("png_bomb", png_bomb, "DocumentTooLarge", "decompression bomb"),
    ("huge_png", huge_png, "DocumentTooLarge", "pixels"),
    ("scan_10000_pages", pdf_scan_many_pages, "DocumentTooLarge", "scanned pages need OCR"),
]


@pytest.mark.parametrize(("name", "build", "want", "words"), CASES, ids=[c[0] for c in CASES])
def test_typed_error_with_ocr_on(name: str, build, want: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.XxgkError) as info:
        extract_bytes(build(), source=name, ocr=OCR)
    assert info.value.type == want, info.value
    assert words in str(info.value)


def test_the_ocr_lane_refuses_them_within_its_limits() -> None:
    with ExtractorPool(1, timeout_s=30, ocr=OCR, ocr_workers=1, ocr_timeout_s=60, ocr_memory_mb=2048) as pool:
        for name, build, want, _ in CASES:
            out = pool.run(build(), source=name)
            assert out.get("error", {}).get("type") == want, (name, out.get("error"))
        # the lanes still work afterwards: a text report reads normally
        good = pool.run((TESTS / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt").read_bytes())
        assert "error" not in good and good["year"] == 2021


def test_without_ocr_a_scan_is_still_a_scanned_document_and_a_bomb_still_too_large() -> None:
    with pytest.raises(errors.ScannedDocument):
        extract_bytes(pdf_scan_many_pages(200))
    with pytest.raises(errors.DocumentTooLarge):
        extract_bytes(png_bomb())


def test_the_command_line_refuses_a_bomb(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "scan.png"
    path.write_bytes(png_bomb())
    proc = subprocess.run(
        [sys.executable, "-m", "tasks.cli", "extract", str(path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "XXGK_OCR_MAX_PIXELS": "50000000"},
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["error"]["type"] == "DocumentTooLarge"
