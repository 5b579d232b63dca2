"""The referee's rules on cells it is handed (no engine, no image to read): a second reading
confirms the digits read, never the row they were placed in."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import scans
from PIL import Image, ImageDraw, ImageFont

from tasks.extract import ocr_geometry as geo, ocr_referee
from tasks.extract.ocr import OcrRun
from tasks.extract.ocr_reader import OcrBox, OcrPage
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
    monkeypatch.setattr(ocr_referee, "_read_alone", lambda run, page, c: (False, ""))
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


def _sealed_page() -> tuple[OcrRun, dict[str, tuple[float, float, float, float]]]:
    """A page (1 point per pixel) of grey-edged print and a grid of thin grey borders with a red seal
    stamped over it, scanned with noise σ 8 and JPEG q60, and the pixel boxes of two cells the engine
    read empty: `ghost` under the seal's words 专用章 (printed empty), `seven` with a 7 under the seal."""
    r, cx, cy = 150.0, 500.0, 250.0
    img = Image.new("RGB", (1000, 600), (255, 255, 255))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(scans.SEAL_FONT, 32)
    small = ImageFont.truetype(scans.SEAL_FONT, 22)
    for i in range(14):  # a page of print around the table, grey-edged as a renderer draws it
        d.text((20, 20 + 40 * i), "二〇一九年政府信息公开", fill=(40, 40, 40), font=small)
        d.text((720, 20 + 40 * i), "工作年度报告", fill=(40, 40, 40), font=small)
    for x in range(280, 760, 60):  # a browser's thin grey cell borders
        d.line((x, 80, x, 450), fill=(170, 170, 170), width=1)
    for y in (80, 160, 240, 290, 370, 450):
        d.line((280, y, 700, y), fill=(170, 170, 170), width=1)
    d.text((430, 200), "7", fill=(40, 40, 40), font=font, anchor="mm")
    img = img.resize((2000, 1200)).resize((1000, 600), Image.LANCZOS)  # print's anti-aliased edges
    img = scans.stamp_seal(img, (cx, cy), r, random.Random(3))
    img = scans.degrade(img, scans.Variant("t", dpi=200, noise=8.0, jpeg=60, seal=True, gray=False), random.Random(3))
    _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 60])
    scan = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    gray = geo.clean(scan)
    h = gray.shape[0]
    boxes = [
        OcrBox((100.0, h - 40.0 - 32 * i, 300.0, h - 8.0 - 32 * i), "样例文字", 0.99) for i in range(3)
    ]  # text 32 px tall
    page = OcrPage(1, (0.0, 0.0, 1000.0, float(h)), 1.0, gray, geo.binarize(gray), boxes, "rapidocr", True)
    page.tint = geo.seal_tint(scan)
    cells = {"ghost": (520.0, 290.0, 580.0, 370.0), "seven": (400.0, 160.0, 460.0, 240.0)}
    return OcrRun([page]), cells


@pytest.mark.parametrize("alone", ["用", "1"])
def test_a_blank_under_the_seals_words_is_told_from_a_digit_the_engine_missed(
    monkeypatch: pytest.MonkeyPatch, alone: str
) -> None:
    """The seal's words leave a light grey ghost after `clean` that counts as ink: a printed blank
    under 专用章 was refused as "ink the engine could not read" (Shanghai 2019 scanned all at once,
    three cells). Under a seal, ink no darker than a ghost is no print: the blank is published when
    the cell read alone holds no digit. A digit under the seal the engine missed, and a ghost the
    crop reads as a digit, stay refused."""
    monkeypatch.setattr(ocr_referee, "_second_reading", lambda run, page, c: None)
    monkeypatch.setattr(ocr_referee, "_read_alone", lambda run, page, c: (False, alone))
    run, boxes = _sealed_page()
    page = run.pages[0]
    h = page.gray.shape[0]
    cells = {}
    for row, (name, (x0, y0, x1, y1)) in zip(("admin_review", "litigation_direct"), boxes.items()):
        assert geo.ink_share(page.bw, (x0, y0, x1, y1)) > ocr_referee.INK_BLANK_MAX, name  # each holds ink
        cells[name] = CellRecord("t4", None, row, "total", None, "blank", "", 1, "件", (x0, h - y1, x1, h - y0))
    ocr_referee.referee(list(cells.values()), [], "2021", run)
    assert cells["ghost"].status == ("blank" if alone == "用" else "ocr_unconfirmed")
    assert cells["ghost"].confidence == (1.0 if alone == "用" else None)
    assert cells["seven"].status == "ocr_unconfirmed"


def test_numbers_printed_in_red_are_read_or_refused_never_taken_for_blanks() -> None:
    """A row of table 四 with a `0` and its total `120` printed in red (not a seal; a seal stamped
    elsewhere on the page), scanned with noise σ 8 and JPEG q60. `clean` whitens seal colour: the
    page pass reads the red ink's faint remains or misses them (a lone digit the detector does not
    box), and a cell it read empty then held no ink in its interior (`ink_share` 0) and was
    published as a printed blank (the red `0` here: a wrong cell). The cells are
    handed to the referee read empty, the case that was published as blank. Red ink outside a
    seal's area is given back to the page after the page pass: the cells hold ink, are read alone
    and refereed (real RapidOCR, real Tesseract), and come out as the numbers printed or refused,
    never as blanks. The printed blank beside them stays a blank."""
    from tasks.extract.ocr_engines import get_engine
    from tasks.extract.ocr_reader import ocr_image

    img = Image.new("RGB", (1000, 600), (255, 255, 255))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(scans.SEAL_FONT, 30)
    small = ImageFont.truetype(scans.SEAL_FONT, 22)
    for i in range(6):  # print around the table
        d.text((20, 20 + 40 * i), "二〇一九年政府信息公开工作年度报告", fill=(30, 30, 30), font=small)
    xs = [20, 220, 340, 460, 580, 700, 820]  # the rulings: label, upheld, corrected, other_result, pending, total
    for x in xs:
        d.line((x, 280, x, 400), fill=(0, 0, 0), width=2)
    for y in (280, 340, 400):
        d.line((20, y, 820, y), fill=(0, 0, 0), width=2)
    d.text((120, 370), "行政复议", fill=(0, 0, 0), font=font, anchor="mm")
    red = (220, 40, 40)
    printed = {"upheld": ("50", (0, 0, 0)), "corrected": ("70", (0, 0, 0)), "other_result": ("0", red), "total": ("120", red)}
    cols = ["upheld", "corrected", "other_result", "pending", "total"]
    for j, col in enumerate(cols):
        if col in printed:
            text, colour = printed[col]
            d.text(((xs[j + 1] + xs[j + 2]) / 2, 370), text, fill=colour, font=font, anchor="mm")
    img = img.resize((2000, 1200)).resize((1000, 600), Image.LANCZOS)
    img = scans.stamp_seal(img, (870.0, 150.0), 110.0, random.Random(3))  # a seal away from the row
    img = scans.degrade(img, scans.Variant("t", dpi=200, noise=8.0, jpeg=60, seal=True, gray=False), random.Random(3))
    _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 60])
    scan = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    _, page = ocr_image(scan, get_engine("rapidocr"), 1, scale=1.0)
    assert page.tint is not None
    h = page.gray.shape[0]
    cells = {}
    for j, col in enumerate(cols):
        x0, x1 = xs[j + 1], xs[j + 2]
        bbox = (float(x0), float(h - 400), float(x1), float(h - 340))
        if col in ("upheld", "corrected"):
            v = printed[col][0]
            cells[col] = CellRecord("t4", None, "admin_review", col, int(v), "reported", v, 1, "件", bbox)
        else:  # read empty by the page pass
            cells[col] = CellRecord("t4", None, "admin_review", col, None, "blank", "", 1, "件", bbox)
    for col in ("other_result", "total"):  # the red print is ink in its cell again
        assert geo.ink_share(page.bw, page.to_px(cells[col].bbox)) > ocr_referee.INK_BLANK_MAX, col  # type: ignore[arg-type]
    ocr_referee.referee(list(cells.values()), [], "2021", OcrRun([page]))
    for col in ("other_result", "total"):
        c = cells[col]
        assert (c.status, c.value) in (("reported", int(printed[col][0])), ("ocr_unconfirmed", None)), (col, c)
    assert cells["pending"].status == "blank"
