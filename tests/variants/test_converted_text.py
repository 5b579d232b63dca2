"""Reports converted to text with their layout kept (`pdftotext -layout`, poppler-utils): the same
cells as the PDF they came from. The conversion runs in the test, from the committed PDFs."""

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import _cell_matches, compare_with_expected, load_expected

from tasks.extract import extract_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = [
    "samples/hongze_2024_pdf",
    "samples/synthetic_2021_pdf",
    "generated/pdf_2021_pagebreak_midgroup",
    "generated/pdf_2021_mixed_narrative",
    "generated/pdf_2021_source_errors",
    "generated/pdf_2021_no_table4",
]
# Not recoverable from such text, and not claimed: blank cells in tables 2 and 4 (no header geometry
# left to place them), numbers wrapped over two lines of a narrow cell (the digits become lines of
# their own).


@pytest.mark.parametrize("case", CASES)
def test_pdftotext_layout_extracts_like_the_pdf(case, tmp_path):
    assert shutil.which("pdftotext"), "poppler-utils must be installed (.ci/run installs it)"
    folder = FIXTURES / case
    out = tmp_path / "converted.txt"
    subprocess.run(["pdftotext", "-layout", str(folder / "source.pdf"), str(out)], check=True, timeout=60)
    result = extract_bytes(out.read_bytes()).to_dict()
    assert result["media"] == "text"
    assert compare_with_expected(result, load_expected(folder)) == []


# A number wrapped in a narrow cell comes out of `pdftotext -layout` as lines of its own ("1180" over
# "61" for 118061) or as the rest of its digits on its label's next line ("103 … 163" over "数量 147 …
# 281"): the rows of such halves are not read (layout_text.wrapped_numbers), never read as their parts.
# A row with an empty cell is placed by character columns that shift from line to line ("… 60 _ 2"
# read for "… 60 2 _"): it is kept where its total adds up, or where its total alone is empty in a
# table printing its detail rows' totals empty (the 2019 Shanghai pattern), else not_found.
PARTIAL = {
    "generated/pdf_2021_wrapped_numbers": 25,
    "generated/pdf_2021_row_split_pagebreak": 25,
    "generated/pdf_2019_units_signed": 151,
    "generated/pdf_2021_blanks_dashes": 187,
}


@pytest.mark.parametrize("case", sorted(PARTIAL))
def test_pdftotext_layout_reads_no_wrong_cell_where_it_cannot_place_numbers(case, tmp_path):
    folder = FIXTURES / case
    out = tmp_path / "converted.txt"
    subprocess.run(["pdftotext", "-layout", str(folder / "source.pdf"), str(out)], check=True, timeout=60)
    cells = {(c["table"], c["row"], c["col"]): c for c in extract_bytes(out.read_bytes()).to_dict()["cells"]}
    wrong, right = [], 0
    for e in load_expected(folder)["cells"]:
        got = cells[(e["table"], e["row"], e["col"])]
        if got["status"] == "not_found":
            continue
        if _cell_matches(e, got) is None:
            right += 1
        else:
            wrong.append((e["table"], e["row"], e["col"], _cell_matches(e, got)))
    assert wrong == []
    assert right >= PARTIAL[case]


def test_a_total_wrapped_around_its_row_is_joined_only_where_the_row_adds_up_to_it():
    """`pdftotext -layout` of a total cell taller than its row: "1066" above the row's line, "1" below.
    Joined top to bottom where the row's six numbers add up to it (H3.3), written on the row's line;
    halves that do not make the sum, or make fewer than four digits, stay where they are."""
    from tasks.extract.layout_text import join_wrapped_totals

    row = "二、上年结转政府信息公开申请数量       8157   846    173   263   954   268"
    lines = ["                                                              1066", row,
             "                                                                1"]
    joined = join_wrapped_totals(lines, wide_as_two=False)
    assert joined[1] == row + " " * (62 - len(row)) + "10661"
    assert joined[0].strip() == joined[2].strip() == ""
    off = [lines[0], row.replace("268", "269"), lines[2]]  # 8157 + … + 269 = 10662: not this total
    assert join_wrapped_totals(off, wide_as_two=False) == off
    small = "二、上年结转政府信息公开申请数量       1      2      3     4     5    86"  # adds up to 101
    short = ["                                                              10", small, lines[2]]
    assert join_wrapped_totals(short, wide_as_two=False) == short  # 10 / 1: three digits, not a wrapped cell
