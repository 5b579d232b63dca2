"""The referee's rules on cells it is handed (no engine, no image to read): a second reading
confirms the digits read, never the row they were placed in."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.extract import ocr_referee
from tasks.extract.ocr import OcrRun
from tasks.extract.ocr_reader import OcrPage
from tasks.extract.result import CellRecord, Issue
from tasks.spec import t4


def _t4_cells(missing_row: str | None) -> list[CellRecord]:
    """Table 四 read by OCR on page 1, every cell `1`: no total holds (1 ≠ 1 + 1 + 1 + 1), so only a
    second reading can confirm a cell. `missing_row`: a row OCR could not place (not_found)."""
    out = []
    for i, row in enumerate(t4.ROWS):
        for j, col in enumerate(t4.COLUMNS):
            box = (100.0 + 40 * j, 700.0 - 30 * i, 130.0 + 40 * j, 720.0 - 30 * i)
            if row.key == missing_row:
                out.append(CellRecord("t4", None, row.key, col.key, None, "not_found", None, None, "件"))
            else:
                out.append(CellRecord("t4", None, row.key, col.key, 1, "reported", "1", 1, "件", box))
    return out


def _run() -> OcrRun:
    gray = np.full((800, 600), 255, np.uint8)
    page = OcrPage(1, (0.0, 0.0, 600.0, 800.0), 1.0, gray, np.zeros_like(gray), [], "rapidocr", True)
    return OcrRun([page])


@pytest.fixture
def agreeing_second_reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A second reading that always reads what the first did (records the cells it was asked for)."""
    asked: list[str] = []

    def second(run: OcrRun, page: OcrPage, c: CellRecord) -> str | None:
        asked.append(c.row)
        return c.raw

    monkeypatch.setattr(ocr_referee, "_second_reading", second)
    return asked


def test_a_second_reading_confirms_cells_of_a_table_whose_rows_are_all_placed(agreeing_second_reading: list[str]) -> None:
    cells, issues = _t4_cells(None), []
    ocr_referee.referee(cells, issues, "2021", _run())
    assert {c.status for c in cells} == {"reported"}
    assert issues == [] and len(agreeing_second_reading) == 15


def test_a_table_with_a_row_ocr_could_not_place_is_confirmed_by_identities_only(agreeing_second_reading: list[str]) -> None:
    """A row of table 四 not placed (its label under a seal): a number read in the next row's slot may
    be the lost row's. The second reading would agree with every digit; it is not asked, and the
    cells are refused with their readings named."""
    cells, issues = _t4_cells("litigation_direct"), []
    ocr_referee.referee(cells, issues, "2021", _run())
    read = [c for c in cells if c.row != "litigation_direct"]
    assert {c.status for c in read} == {"ocr_unconfirmed"} and all(c.value is None for c in read)
    assert agreeing_second_reading == []
    [issue] = [i for i in issues if i.rule == "OCR-01"]
    assert isinstance(issue, Issue) and {(c["row"], c["reading"]) for c in issue.cells} == {
        ("admin_review", "1"), ("litigation_after_review", "1")
    }


def test_an_identity_still_confirms_in_a_table_with_an_unplaced_row(agreeing_second_reading: list[str]) -> None:
    cells = _t4_cells("litigation_direct")
    for c in cells:
        if c.row == "admin_review":  # 1 + 1 + 1 + 1 = 4: the row's total holds
            c.value, c.raw = (4, "4") if c.col == "total" else (1, "1")
    issues: list[Issue] = []
    ocr_referee.referee(cells, issues, "2021", _run())
    assert {c.status for c in cells if c.row == "admin_review"} == {"reported"}
    assert {c.status for c in cells if c.row == "litigation_after_review"} == {"ocr_unconfirmed"}


def test_an_empty_cell_with_a_clean_interior_is_a_printed_blank_where_no_identity_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report may print a total column empty beside numbers (Shanghai 2019): no identity holds.
    Read empty, with no ink inside: the engine and the pixels agree, the blank is published. The same
    cell with ink inside (a digit the engine missed) is refused."""
    monkeypatch.setattr(ocr_referee, "_second_reading", lambda run, page, c: "9")  # would disagree
    monkeypatch.setattr(ocr_referee, "_read_alone", lambda run, page, c: False)
    for inked in (False, True):
        cells = _t4_cells(None)
        blank = next(c for c in cells if c.row == "admin_review" and c.col == "total")
        blank.value, blank.status, blank.raw = None, "blank", ""
        run = _run()
        if inked:
            x0, y0, x1, y1 = (int(v) for v in run.pages[0].to_px(blank.bbox))
            run.pages[0].bw[y0 + 5 : y1 - 5, x0 + 8 : x1 - 8] = 255
        issues: list[Issue] = []
        ocr_referee.referee(cells, issues, "2021", run)
        assert blank.status == ("ocr_unconfirmed" if inked else "blank"), inked
        assert blank.confidence == (None if inked else 1.0)
