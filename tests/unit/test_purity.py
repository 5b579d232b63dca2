"""Extraction and the spec stay pure: no Prefect, boto3 or Great Expectations; pdfminer only in the PDF reader."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = sorted((ROOT / "tasks" / "extract").rglob("*.py")) + sorted((ROOT / "tasks" / "spec").glob("*.py"))
PDFMINER_ONLY_IN = ROOT / "tasks" / "extract" / "pdf" / "miner.py"
FORBIDDEN = {"prefect", "boto3", "botocore", "great_expectations"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports(path):
    mods = _imports(path)
    assert not mods & FORBIDDEN
    if path != PDFMINER_ONLY_IN:
        assert "pdfminer" not in mods
    if path.name != "ocr_engines.py":  # the one thin module that calls an OCR engine
        assert not mods & {"rapidocr_onnxruntime", "onnxruntime", "pytesseract"}


def test_only_the_pdfminer_module_imports_pdfminer():
    """The PDF reader's geometry is pure (pdfplumber's split): one thin module talks to pdfminer."""
    assert "pdfminer" in _imports(PDFMINER_ONLY_IN)
    assert [p.name for p in PURE if "pdfminer" in _imports(p)] == ["miner.py"]


def test_the_pure_modules_exist():
    assert len(PURE) >= 10
