"""The fixture generator works on this machine: it remakes fixtures from their data models with
LibreOffice, and the remade documents extract to the same expected cells as the committed ones."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from helpers import compare_with_expected

from tasks.extract import extract_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _generator():
    spec = importlib.util.spec_from_file_location("xxgk_fixture_generator", FIXTURES / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.parametrize("name", ["docx_2021_template", "pdf_2021_blanks_dashes", "html_2019_spans_linebreaks",
                                  "viewer_2021_synthetic_sample",
                                  "browser_2021_split_labels", "pandoc_2021_blanks_dashes",
                                  "chromium_2021_rows_cut", "weasyprint_2021_numbers_then_label"])
def test_generator_remakes_a_fixture(name, tmp_path):
    gen = _generator()
    folder = tmp_path / name
    folder.mkdir()
    gen.FIXTURES[name].make(folder, gen.Ctx(tmp_path / "work"))
    committed = json.loads((FIXTURES / "generated" / name / "expected.json").read_text("utf-8"))
    remade = json.loads((folder / "expected.json").read_text("utf-8"))
    assert remade == committed, "the data model no longer gives the committed expected.json"
    source = next(folder.glob("source.*"))
    misses = compare_with_expected(extract_path(source).to_dict(), remade)
    if (folder / "partial.json").exists():  # a copy that cannot give every cell: it misses what the committed one does
        kept = next((FIXTURES / "generated" / name).glob("source.*"))
        assert misses == compare_with_expected(extract_path(kept).to_dict(), committed) != []
    else:
        assert misses == []
