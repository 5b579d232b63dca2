"""Tests of the PDF reader (`tasks.extract.pdf.read_pdf`) on the sample PDFs and on tiny generated PDFs."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import struct
from functools import cache
from pathlib import Path

import pytest
from hostile.generate import _PAD, build_pdf, rc4 as _rc4  # PDF and RC4 pieces shared with hostile.generate

from tasks.errors import CorruptDocument, EncryptedDocument
from tasks.extract.model import Cell, Document, Paragraph, Table, TableRow
from tasks.extract.pdf import PageContent, read_pdf
from tasks.spec import t2, t3, t4

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
PDF_SAMPLES = ("hongze_2024_pdf", "synthetic_2021_pdf")
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


# --- helpers ------------------------------------------------------------------------------------
@cache
def _doc(sample: str) -> Document:
    return read_pdf((SAMPLES / sample / "source.pdf").read_bytes())


def _expected(sample: str) -> dict[tuple[str, str, str], float]:
    data = json.loads((SAMPLES / sample / "expected.json").read_text(encoding="utf-8"))
    return {(c["table"], c["row"], c["col"]): c["value"] for c in data["cells"]}


def _squash(text: str) -> str:
    return "".join(text.split())


def _section_rows(doc: Document, start: str, stop: str) -> list[TableRow]:
    """Table rows between the paragraph containing `start` and the one containing `stop`."""
    rows: list[TableRow] = []
    inside = False
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            text = _squash(b.text)
            if start in text:
                inside = True
            elif stop in text and inside:
                break
        elif inside:
            rows.extend(b.rows)
    return rows


def _numbers(row: TableRow) -> list[float]:
    """Numeric cells of a row, left to right (a number wrapped over lines is joined)."""
    out: list[float] = []
    for c in row.cells:
        t = c.text.replace("\n", "").strip()
        if NUMBER.match(t):
            out.append(float(t))
    return out


def _number_rows(rows: list[TableRow], n: int) -> list[list[float]]:
    return [nums for nums in map(_numbers, rows) if len(nums) == n]


def _tables(doc: Document) -> list[Table]:
    return [b for b in doc.blocks if isinstance(b, Table)]


# --- the samples --------------------------------------------------------------------------------
@pytest.mark.parametrize("sample", PDF_SAMPLES)
def test_document_shape(sample: str) -> None:
    doc = _doc(sample)
    assert doc.media == "pdf"
    assert doc.pages == {"hongze_2024_pdf": 5, "synthetic_2021_pdf": 2}[sample]
    assert doc.image_pages == set()
    assert doc.text_chars > 1000
    pages = [b.page for b in doc.blocks]
    assert pages == sorted(pages), "blocks are in page order"
    for table in _tables(doc):
        for row in table.rows:
            assert row.cells, "no empty logical rows"
            xs = [c.x0 for c in row.cells]
            assert xs == sorted(xs), "cells are left to right"
            for c in row.cells:
                assert c.page == table.page and c.bbox is not None and c.x0 < c.x1


@pytest.mark.parametrize("sample", PDF_SAMPLES)
def test_section3_rows_in_order(sample: str) -> None:
    expected = _expected(sample)
    keys = [r.key for r in t3.ROWS if ("t3", r.key, "total") in expected]
    want = [[float(expected[("t3", k, c.key)]) for c in t3.COLUMNS] for k in keys]
    rows = _section_rows(_doc(sample), "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    got = _number_rows(rows, len(t3.COLUMNS))
    assert got == want


@pytest.mark.parametrize("sample", PDF_SAMPLES)
def test_section3_table_split_across_pages(sample: str) -> None:
    rows = _section_rows(_doc(sample), "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    pages = sorted({r.page for r in rows})
    assert len(pages) == 2, "the sample's section-3 table breaks across a page"


@pytest.mark.parametrize("sample", PDF_SAMPLES)
def test_section4_fifteen_numbers(sample: str) -> None:
    expected = _expected(sample)
    want = [float(expected[("t4", r.key, c.key)]) for r in t4.ROWS for c in t4.COLUMNS]
    rows = _section_rows(_doc(sample), "四、政府信息公开行政复议", "五、")
    assert _number_rows(rows, 15) == [want]


@pytest.mark.parametrize("sample", PDF_SAMPLES)
def test_section2_values(sample: str) -> None:
    expected = _expected(sample)
    rows = _section_rows(_doc(sample), "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况")
    by_label: dict[str, list[float]] = {}
    for row in rows:
        label = _squash(row.cells[0].text)
        nums = _numbers(row)
        if nums:
            by_label[label] = nums
    for block in t2.BLOCKS:
        cols = [c.key for c in block.columns.get("2021", ())]
        for r in block.rows:
            if ("t2", r.key, cols[0] if cols else "") not in expected:
                continue
            assert by_label[r.label] == [float(expected[("t2", r.key, c)]) for c in cols], r.key


def test_merged_cells_appear_once_with_rowspan() -> None:
    rows = _section_rows(_doc("synthetic_2021_pdf"), "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    cells = [c for r in rows for c in r.cells]
    group = [c for c in cells if _squash(c.text) == "三、本年度办理结果"]
    assert len(group) == 1 and group[0].rowspan > 1
    denied = [c for c in cells if _squash(c.text) == "（三）不予公开"]
    assert len(denied) == 1 and denied[0].rowspan == 2  # the other 6 leaves continue on the next page
    # the header: 自然人 and 总计 span the two lower header rows
    natural = next(c for c in cells if c.text == "自然人")
    assert natural.rowspan == 2
    # a wrapped label keeps its line break
    assert any(c.text == "（二）部分公开（区分处理的，\n只计这一情形，不计其他情形）" for c in cells)


def test_one_character_per_line_group_label() -> None:
    rows = _section_rows(_doc("hongze_2024_pdf"), "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    cell = next(c for r in rows for c in r.cells if _squash(c.text) == "三、本年度办理结果")
    assert cell.text.split("\n") == ["三", "、", "本", "年", "度", "办", "理", "结", "果"]
    assert cell.rowspan == 11  # rows on page 3: （一）（二）, 8 denied leaves, （四）1.


def test_blank_cells_are_kept() -> None:
    rows = _section_rows(_doc("hongze_2024_pdf"), "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    total = next(r for r in rows if _squash(r.cells[0].text) == "（七）总计")
    assert total.cells[1].text == "" and total.cells[1].x0 < total.cells[2].x0
    assert len(total.cells) == 9  # label, blank leaf-label cell, 7 numbers
    # the merged group cells continued from page 3 show up empty at the top of page 4
    first_p4 = next(r for r in rows if r.page == 4)
    assert [c.text for c in first_p4.cells[:2]] == ["", ""]
    assert first_p4.cells[0].rowspan > 1


# --- generated PDFs -----------------------------------------------------------------------------


def make_pdf(content: str, *, user_password: bytes | None = None, owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF (Helvetica) with the given content stream; RC4-40 encrypted if a user password
    is given (b"" encrypts with an empty user password, which readers open without asking)."""
    file_id = hashlib.md5(content.encode()).digest()
    objects: list[bytes] = []
    encrypt: bytes | None = None
    key = b""
    if user_password is not None:
        perms = -4
        o_key = hashlib.md5((owner_password + _PAD)[:32]).digest()[:5]
        o_value = _rc4(o_key, (user_password + _PAD)[:32])
        key = hashlib.md5((user_password + _PAD)[:32] + o_value + struct.pack("<i", perms) + file_id).digest()[:5]
        u_value = _rc4(key, _PAD)
        encrypt = (
            b"<< /Filter /Standard /V 1 /R 2 /O <" + o_value.hex().encode() + b"> /U <"
            + u_value.hex().encode() + b"> /P " + str(perms).encode() + b" >>"
        )
    stream = content.encode("latin-1")
    if encrypt is not None:
        obj_key = hashlib.md5(key + struct.pack("<i", 4)[:3] + b"\x00\x00").digest()[:10]
        stream = _rc4(obj_key, stream)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    objects.append(
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>"
    )
    objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    trailer = b"/Root 1 0 R"
    if encrypt is not None:
        objects.append(encrypt)
        trailer += b" /Encrypt " + str(len(objects)).encode() + b" 0 R"
    return build_pdf(objects, trailer, file_id)


def _text(x: float, y: float, s: str, size: int = 12) -> str:
    return f"BT /F1 {size} Tf {x} {y} Td ({s}) Tj ET\n"


def test_plain_generated_pdf_reads() -> None:
    doc = read_pdf(make_pdf(_text(72, 720, "Hello 123")))
    assert doc.pages == 1
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == ["Hello 123"]


def test_encrypted_pdf_raises() -> None:
    data = make_pdf(_text(72, 720, "Secret 42"), user_password=b"secret")
    with pytest.raises(EncryptedDocument, match="password"):
        read_pdf(data)


def test_empty_user_password_pdf_is_read() -> None:
    data = make_pdf(_text(72, 720, "Open 42"), user_password=b"")
    doc = read_pdf(data)
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == ["Open 42"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(None, id="truncated"),
        pytest.param(b"%PDF-1.7\n" + bytes(range(256)) * 20, id="garbage-after-header"),
        pytest.param(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF", id="looping-pages"),
        pytest.param(b"", id="empty"),
        pytest.param(b"not a pdf at all", id="no-header"),
    ],
)
def test_corrupt_pdf_raises(data: bytes | None) -> None:
    if data is None:
        src = (SAMPLES / "hongze_2024_pdf" / "source.pdf").read_bytes()
        data = src[: len(src) // 3]
    with pytest.raises(CorruptDocument):
        read_pdf(data)


def _ruled_grid(xs: list[float], ys: list[float]) -> str:
    parts = [f"{xs[0]} {y} m {xs[-1]} {y} l S\n" for y in ys]
    parts += [f"{x} {ys[-1]} m {x} {ys[0]} l S\n" for x in xs]
    return "0.5 w\n" + "".join(parts)


def test_ruled_table_keeps_blank_cells_and_wrapped_numbers() -> None:
    xs = [50.0, 200.0, 260.0, 320.0, 380.0]
    ys = [700.0, 680.0, 660.0, 630.0]  # top to bottom; the last row is two lines tall
    content = _ruled_grid(xs, ys)
    content += _text(55, 685, "Label A") + _text(205, 685, "1") + _text(325 - 60, 685, "2")  # column 3 blank
    content += _text(55, 665, "Label B") + _text(205, 665, "3") + _text(265, 665, "4") + _text(325, 665, "5")
    # a number wrapped inside a narrow cell: "2631" over "2"
    content += _text(55, 645, "Label C") + _text(205, 647, "2631", 10) + _text(205, 636, "2", 10)
    content += _text(265, 640, "7") + _text(325, 640, "8")
    content += _text(50, 600, "Below the table")
    doc = read_pdf(make_pdf(content))
    tables = _tables(doc)
    assert len(tables) == 1
    rows = tables[0].rows
    assert [[c.text for c in r.cells] for r in rows] == [
        ["Label A", "1", "2", ""],
        ["Label B", "3", "4", "5"],
        ["Label C", "2631\n2", "7", "8"],
    ]
    bounds = [(c.x0, c.x1) for c in rows[0].cells]
    assert bounds == [pytest.approx(b, abs=1.5) for b in itertools.pairwise(xs)]
    assert isinstance(doc.blocks[-1], Paragraph) and doc.blocks[-1].text == "Below the table"


def test_merged_cell_rowspan_in_generated_grid() -> None:
    # a 3-row table whose first column is one merged cell
    content = "0.5 w\n"
    for y in (700, 680, 660, 640):
        content += f"100 {y} m 300 {y} l S\n"
    content += "50 700 m 100 700 l S\n50 640 m 100 640 l S\n"
    for x in (50, 100, 200, 300):
        content += f"{x} 640 m {x} 700 l S\n"
    content += _text(55, 665, "G")
    for i, y in enumerate((685, 665, 645)):
        content += _text(105, y, f"r{i}") + _text(205, y, str(10 + i))
    table = _tables(read_pdf(make_pdf(content)))[0]
    assert [[(c.text, c.rowspan) for c in r.cells] for r in table.rows] == [
        [("G", 3), ("r0", 1), ("10", 1)],
        [("r1", 1), ("11", 1)],
        [("r2", 1), ("12", 1)],
    ]


def test_rect_borders_make_cells() -> None:
    # cells drawn as stroked rectangles (re S), as some generators do
    content = "0.5 w\n"
    for i, y in enumerate((680, 660)):
        for x0, x1 in ((50, 150), (150, 200), (200, 250)):
            content += f"{x0} {y} {x1 - x0} 20 re S\n"
        content += _text(55, y + 5, f"row{i}") + _text(155, y + 5, str(i)) + _text(205, y + 5, str(i + 5))
    table = _tables(read_pdf(make_pdf(content)))[0]
    assert [[c.text for c in r.cells] for r in table.rows] == [["row0", "0", "5"], ["row1", "1", "6"]]


def test_unruled_table_fallback() -> None:
    content = _text(50, 760, "Heading of the table")
    rows = [("one", [1, 2, 3]), ("two", [40, 50, 60]), ("three", [7, 8, 9])]
    y = 730
    for label, nums in rows:
        content += _text(50, y, label)
        for k, n in enumerate(nums):
            content += _text(200 + 60 * k, y, str(n))
        y -= 20
    # a two-line label whose number line sits between its label lines (V9)
    content += _text(50, y + 4, "long label") + _text(50, y - 8, "continued")
    for k, n in enumerate((11, 12, 13)):
        content += _text(200 + 60 * k, y - 2, str(n))
    content += _text(50, 560, "A closing paragraph far below.")
    doc = read_pdf(make_pdf(content))
    assert isinstance(doc.blocks[0], Paragraph) and doc.blocks[0].text == "Heading of the table"
    table = _tables(doc)[0]
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["one", "1", "2", "3"],
        ["two", "40", "50", "60"],
        ["three", "7", "8", "9"],
        ["long label\ncontinued", "11", "12", "13"],
    ]
    assert table.rows[1].cells[1].x0 == pytest.approx(200, abs=0.5)
    assert isinstance(doc.blocks[-1], Paragraph) and doc.blocks[-1].text == "A closing paragraph far below."


def test_a_lone_row_opening_a_page_keeps_its_cells_places() -> None:
    """A table's row cut off by the page break opens the next page alone (a label, numbers with
    empty cells between them): one positioned row, so the columns of the table before place it.
    The same line below a row of values is text, and so is prose at the page's head."""
    row = _text(50, 760, "carried") + _text(200, 760, "72") + _text(440, 760, "72")
    doc = read_pdf(make_pdf(row + _text(50, 700, "Section four heading")))
    first = doc.blocks[0]
    assert isinstance(first, Table) and first.positioned
    assert [(c.text, round(c.x0)) for c in first.rows[0].cells] == [("carried", 50), ("72", 200), ("72", 440)]
    assert isinstance(doc.blocks[1], Paragraph)
    above = _text(50, 790, "total") + _text(200, 790, "5") + _text(440, 790, "5")
    below = read_pdf(make_pdf(above + row.replace(" 760 ", " 730 ")))
    assert [type(b) for b in below.blocks] == [Table, Paragraph]  # the first opens the page, the second not
    prose = read_pdf(make_pdf(_text(50, 760, "Since 2019 the office published 12 notices")))
    assert [type(b) for b in prose.blocks] == [Paragraph]


def test_unruled_cells_run_together_are_cut_where_another_row_starts_a_cell() -> None:
    """No rulings and cells printed closer than a space (unstyled HTML printed by WeasyPrint): "1702"
    and "704" read as one run, a first column's number close after its label. They are cut before a
    digit that stands apart from the character before it where another row's cell starts; a number
    whose own digits touch across that column, and a gap where no row starts a cell, stay as printed."""
    digit = 12 * 0.556  # Helvetica's digits at 12 pt
    content = ""
    rows = [
        ("one", [(200, "1"), (230, "2"), (290, "3")]),
        ("two", [(200, "1702"), (230, "704"), (290, "5")]),  # 1702 ends 3.3 pt (0.28 em) before 704
        ("three", [(200, "12"), (200 + 2 * digit + 2, "34"), (290, "6")]),  # 2 pt apart, no row starts a cell there
        ("four", [(230 - 4 * digit, "123456"), (290, "7")]),  # its fifth digit at 230, touching the fourth
    ]
    y = 730
    for label, cells in rows:
        content += _text(50, y, label)
        content += "".join(_text(x, y, t) for x, t in cells)
        y -= 20
    content += _text(200 - 4 - 12 * 2.112, y, "label") + _text(200, y, "94") + _text(230, y, "8") + _text(290, y, "9")
    table = _tables(read_pdf(make_pdf(content)))[0]
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["one", "1", "2", "3"],
        ["two", "1702", "704", "5"],
        ["three", "1234", "6"],
        ["four", "123456", "7"],
        ["label", "94", "8", "9"],
    ]
    assert [round(c.x0, 1) for c in table.rows[1].cells[1:3]] == [200.0, 230.0]


def test_cell_type_is_model_cell() -> None:
    table = _tables(_doc("synthetic_2021_pdf"))[0]
    assert all(isinstance(c, Cell) for r in table.rows for c in r.cells)


@pytest.mark.parametrize("sample", PDF_SAMPLES)
def test_samples_without_ruling_lines(sample: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With every ruling line removed, the unruled fallback still yields section 三's rows in order."""
    import tasks.extract.pdf as pdf
    from tasks.extract.pdf import miner

    original = miner.page_content

    def no_rulings(layout: object, s: object = pdf.SETTINGS) -> pdf.PageContent:
        content = original(layout, s)
        content.h_edges, content.v_edges = [], []
        return content

    monkeypatch.setattr(miner, "page_content", no_rulings)
    doc = pdf.read_pdf((SAMPLES / sample / "source.pdf").read_bytes())
    expected = _expected(sample)
    keys = [r.key for r in t3.ROWS if ("t3", r.key, "total") in expected]
    want = [[float(expected[("t3", k, c.key)]) for c in t3.COLUMNS] for k in keys]
    rows = _section_rows(doc, "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    assert _number_rows(rows, len(t3.COLUMNS)) == want
    t4_want = [float(expected[("t4", r.key, c.key)]) for r in t4.ROWS for c in t4.COLUMNS]
    assert _number_rows(_section_rows(doc, "四、政府信息公开行政复议", "五、"), 15) == [t4_want]


def _inline_image(x: float, y: float, size: float) -> str:
    return f"q {size} 0 0 {size} {x} {y} cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x00\xff\xff\x00 EI Q\n"


def test_image_page_is_reported() -> None:
    doc = read_pdf(make_pdf(_inline_image(100, 200, 400) + _text(72, 760, "Title")))
    assert doc.image_pages == {1}
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == ["Title"]


def test_small_image_is_not_an_image_page() -> None:
    doc = read_pdf(make_pdf(_inline_image(100, 200, 40) + _text(72, 760, "Title")))
    assert doc.image_pages == set()


# --- the error boundary: pdfminer's failures are the file's, the geometry's are ours -------------
def test_a_bug_in_the_geometry_is_an_internal_error_not_a_damaged_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.extract.pdf as pdf

    def broken(*args: object, **kwargs: object) -> list:
        raise IndexError("a bug in our own geometry")

    monkeypatch.setattr(pdf, "find_grids", broken)
    with pytest.raises(IndexError, match="our own geometry"):
        read_pdf((SAMPLES / "synthetic_2021_pdf" / "source.pdf").read_bytes())


def test_lines_holding_only_spaced_numbers_read_as_paragraphs() -> None:
    """Five numbers typed with plain spaces make a line look like a wide table row, but no line of
    the run has a second fragment: it is text, not a table (this was an IndexError)."""
    rows = [" ".join(str(100 * i + j) for j in range(6)) for i in range(1, 5)]
    content = _text(72, 760, "Title") + "".join(_text(72, 700 - 14 * i, r) for i, r in enumerate(rows))
    doc = read_pdf(make_pdf(content))
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == ["Title", *rows]
    assert _tables(doc) == []


def test_blank_and_noise_pages_are_skipped_before_table_work() -> None:
    from tasks.extract.pdf import SETTINGS, PageContent, _noise
    from tasks.extract.pdf.geometry import Char

    blank = PageContent([Char(" ", 0, 0, 5, 10, 10)], [], [], False, [])
    assert _noise(blank, 1, SETTINGS) == "blank"
    grid = [Char("7", x, y, x + 0.6, y + 1, 1.0) for x in range(100) for y in range(100)]
    tiny = PageContent([*grid, Char("A", 72, 700, 80, 712, 12)], [], [], False, [])
    assert _noise(tiny, 1, SETTINGS) is None and [c.text for c in tiny.chars] == ["A"]  # 1-pt digits dropped
    crowded = [Char("7", x % 500, x // 500 * 12, x % 500 + 6, x // 500 * 12 + 10, 10) for x in range(20_001)]
    assert _noise(PageContent(crowded, [], [], False, []), 1, SETTINGS) == "noise"
    picture = PageContent([], [], [], True, [(0, 0, 500, 700)])
    assert _noise(picture, 1, SETTINGS) is None  # a scanned page is no blank page


def _cut_table(top_border: bool) -> str:
    """Three columns whose sides run from the page's top (y 800) down to y 600, with borders at 760,
    700 and 600: the band above 760 is a row cut by the page break, as a browser prints it (no top
    border), unless `top_border` draws one."""
    ops = [f"{x} 600 m {x} 800 l S\n" for x in (100, 200, 300, 400)]
    ops += [f"100 {y} m 400 {y} l S\n" for y in ((800, 760, 700, 600) if top_border else (760, 700, 600))]
    cells = [(110, 775, "Cut"), (210, 775, "11"), (310, 775, "12"), (110, 725, "Next"), (210, 725, "21"), (310, 725, "22")]
    return "".join(ops) + "".join(_text(x, y, t) for x, y, t in cells)


@pytest.mark.parametrize("top_border", [False, True])
def test_a_row_cut_open_by_the_page_break_is_a_grid_row(top_border: bool) -> None:
    doc = read_pdf(make_pdf(_cut_table(top_border)))
    (table,) = _tables(doc)
    assert [[c.text for c in r.cells] for r in table.rows] == [["Cut", "11", "12"], ["Next", "21", "22"], ["", "", ""]]
    assert not [b for b in doc.blocks if isinstance(b, Paragraph)]


# --- a column cut at the page's printable edge (Chromium culls its outer ruling and what lies beyond) ---
def _cut_page(total_text: str, total_x0: float) -> PageContent:
    """Three columns, four rows; the rows' rulings run to x=300, the vertical rulings stop at x=200 (the
    outer side of the last column culled). The last column prints `total_text` from `total_x0`."""
    from tasks.extract.pdf.geometry import Char, Edge

    ys = [400.0, 380.0, 360.0, 340.0, 320.0]
    h = [Edge(y, 50.0, 300.0) for y in ys]
    v = [Edge(x, 320.0, 400.0) for x in (50.0, 120.0, 200.0)]
    chars: list[Char] = []

    def put(text: str, x0: float, y0: float) -> None:
        for i, ch in enumerate(text):
            chars.append(Char(ch, x0 + 5 * i, y0, x0 + 5 * i + 5, y0 + 10, 10.0))

    for r, label in enumerate(["一二", "三四", "五六", "七八"]):
        y0 = ys[r + 1] + 5
        put(label, 60, y0)
        put(str(10 + r), 155, y0)
        put(total_text if r else "总计", total_x0 if r else 245.0, y0)
    return PageContent(chars, h, v, False, [])


def test_a_column_cut_at_the_page_edge_is_closed_when_its_text_is_whole() -> None:
    from tasks.extract.pdf import page_blocks

    (table,) = [b for b in page_blocks(_cut_page("123", 242.5), 1) if isinstance(b, Table)]
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["一二", "10", "总计"], ["三四", "11", "123"], ["五六", "12", "123"], ["七八", "13", "123"]]


def test_a_cut_column_whose_text_may_be_culled_stays_unread() -> None:
    """Numbers ending off the column's centre (their tail may be beyond the clip): the column is not closed, so
    none of its cells is read (never a number with its last digits cut away)."""
    from tasks.extract.pdf import page_blocks

    blocks = page_blocks(_cut_page("98", 280.0), 1)
    cells = [c.text for b in blocks if isinstance(b, Table) for r in b.rows for c in r.cells]
    assert "98" not in cells and "总计" not in cells
    assert [t for t in cells if t.isdigit()] == ["10", "11", "12", "13"]
