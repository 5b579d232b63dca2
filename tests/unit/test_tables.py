"""Table location and row mapping on in-memory documents: the medium-independent half of extraction."""

import pytest

from tasks.extract.model import Cell, Document, Paragraph, Table, TableRow
from tasks.extract.report import decide_format, understand
from tasks.spec import t3, t4

COLS = [c.key for c in t3.COLUMNS]


def _row(*texts: str) -> TableRow:
    return TableRow([Cell(t, i, i + 1) for i, t in enumerate(texts)])


def _t3_rows(layout: str, label=lambda r: r.label, skip=()):
    """Section-3 rows with distinct numbers: value(r, c) = 100 * row index + column index."""
    rows = [_row("", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")]
    expected = {}
    for i, r in enumerate(t3.rows_for(layout)):
        if r.key in skip:
            continue
        vals = [str(100 * i + j) for j in range(7)]
        rows.append(_row(label(r), *vals))
        expected.update({(r.key, c): int(v) for c, v in zip(COLS, vals)})
    return rows, expected


def _doc(*tables: list[TableRow], positioned=True) -> Document:
    blocks = [Paragraph("淮安市某某局2024年政府信息公开工作年度报告")]
    names = ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况")
    for name, rows in zip(names, tables):
        blocks += [Paragraph(name), Table(rows, positioned=positioned)]
    return Document("html", blocks)


T2_2021 = [
    _row("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"),
    _row("规章", "1", "2", "3"),
    _row("行政规范性文件", "4", "5", "6"),
    _row("信息内容", "本年处理决定数量"),
    _row("行政许可", "7"),
    _row("信息内容", "本年处理决定数量"),
    _row("行政处罚", "8"),
    _row("行政强制", "9"),
    _row("信息内容", "本年收费金额（单位：万元）"),
    _row("行政事业性收费", "10.5"),
]
LEAVES = [c.label for c in t4.COLUMNS]
T4 = [  # the template's grid: 行政复议 over five columns, 行政诉讼 over ten
    TableRow([Cell("行政复议", 0, 5), Cell("行政诉讼", 5, 15)]),
    TableRow([Cell(t, i, i + 1, rowspan=2) for i, t in enumerate(LEAVES)] + [Cell("未经复议直接起诉", 5, 10), Cell("复议后起诉", 10, 15)]),
    TableRow([Cell(t, 5 + i, 6 + i) for i, t in enumerate(LEAVES * 2)]),
    _row(*(str(50 + i) for i in range(15))),
]


def _values(found, table):
    return {(c.row, c.col): c.value for c in found.cells if c.table == table and c.status == "reported"}


def test_every_t3_cell_lands_on_its_key():
    rows, expected = _t3_rows("2021")
    found = understand(_doc(T2_2021, rows, T4))
    assert found.format_version == "2021"
    assert _values(found, "t3") == expected
    assert _values(found, "t2")[("administrative_fees", "fee_amount")] == 10.5
    t4v = _values(found, "t4")
    assert t4v[("admin_review", "upheld")] == 50 and t4v[("litigation_after_review", "total")] == 64


def test_lost_characters_and_list_marks_still_map_in_order():
    mangle = {"denied_other_law": "2.其他法律行政止公开", "other_other": "3、其他", "denied_security_stability": '3.危及"三安全一稳定"'}
    rows, expected = _t3_rows("2021", label=lambda r: mangle.get(r.key, r.label))
    assert _values(understand(_doc(T2_2021, rows, T4)), "t3") == expected


def test_single_other_row_in_a_2021_report_is_2021_mixed():
    rows, expected = _t3_rows("2021_mixed")
    found = understand(_doc(T2_2021, rows, T4))
    assert found.format_version == "2021_mixed"
    assert _values(found, "t3") == expected
    leaves = [c for c in found.cells if c.row in t3.OTHER_LEAVES]
    assert len(leaves) == 21 and all(c.status == "not_found" and c.value is None for c in leaves)
    assert any(i.rule == "STRUCT-03" for i in found.issues)


def test_a_missing_row_is_not_found_and_nothing_shifts():
    rows, expected = _t3_rows("2021", skip={"denied_process_info"})
    found = understand(_doc(T2_2021, rows, T4))
    assert _values(found, "t3") == expected
    missing = {c.col for c in found.cells if c.row == "denied_process_info" and c.status == "not_found"}
    assert missing == set(COLS)
    assert any(i.rule == "STRUCT-02" and i.severity == "warn" for i in found.issues)


def test_unpositioned_rows_map_from_the_right_end():
    rows, expected = _t3_rows("2021")
    found = understand(_doc(T2_2021, rows, T4, positioned=False))
    assert _values(found, "t3") == expected


def test_missing_table_4_is_not_found_with_an_error_issue():
    rows, _ = _t3_rows("2021")
    found = understand(_doc(T2_2021, rows))
    assert {c.status for c in found.cells if c.table == "t4"} == {"not_found"}
    assert any(i.rule == "STRUCT-02" and i.severity == "error" and "四" in i.message for i in found.issues)


def test_format_decision():
    assert decide_format("2019", "single", 2019) == "2019"
    assert decide_format("2021", "single", 2024) == "2021_mixed"
    assert decide_format("2021", "2021", 2022) == "2021"
    assert decide_format(None, "single", 2020) == "2019"
    assert decide_format(None, "2021", None) == "2021"


def test_a_table_4_header_after_the_page_break_is_not_a_table_3_row():
    """Table 3 ends at the foot of a page; table 4 starts the next page with its header row: the
    header's words must not be joined onto 四、结转下年度继续办理 as if the row were cut by the break."""
    rows, expected = _t3_rows("2021")
    for r in rows:
        r.page = 3
    t4 = [TableRow([Cell("行政复议", 0, 5), Cell("行政诉讼", 5, 8)], page=4)] + [
        TableRow(list(r.cells), page=4) for r in T4[1:]
    ]
    blocks = [Paragraph("某某局2024年政府信息公开工作年度报告"), Paragraph("三、收到和处理政府信息公开申请情况"),
              Table(rows, page=3), Table(t4, page=4)]
    found = understand(Document("pdf", blocks, pages=4))
    assert _values(found, "t3") == expected


def test_a_pdf_whose_text_is_unmapped_glyphs_needs_ocr():
    """pdfminer writes a glyph with no Unicode mapping as "(cid:N)": such a text layer is no text layer."""
    import pytest

    from tasks.errors import ScannedDocument

    garbage = "".join(f"(cid:{n})" for n in range(40))
    doc = Document("pdf", [Paragraph(garbage, page=1), Paragraph("2024", page=1)] * 5, pages=1)
    with pytest.raises(ScannedDocument, match="OCR"):
        understand(doc)


def _t3_cut(kind: str):
    """Table 3 over pages 3 and 4, the row （七）总计 cut by the break the other way round, with the
    browser's running footer and header between: "numbers_first" = its numbers close page 3 and its
    label opens page 4; "label_first" = its label closes page 3 and its numbers open page 4."""
    rows, expected = _t3_rows("2021")
    at = next(i for i, r in enumerate(rows) if r.cells[0].text == "（七）总计")
    cut = rows[at]
    label, blanks = Cell(cut.cells[0].text, 0, 1), [Cell("", i, i + 1) for i in range(1, 8)]
    values = [Cell(c.text, c.x0, c.x1) for c in cut.cells[1:]]
    if kind == "numbers_first":
        foot, head = TableRow([Cell("", 0, 1), *values], page=3), TableRow([label, *blanks], page=4)
    else:
        foot, head = TableRow([label, *blanks], page=3), TableRow(values, page=4)
    first = [TableRow(list(r.cells), page=3) for r in rows[:at]] + [foot]
    second = [head] + [TableRow(list(r.cells), page=4) for r in rows[at + 1 :]]
    blocks = [Paragraph("某某局2024年政府信息公开工作年度报告"), Paragraph("三、收到和处理政府信息公开申请情况"),
              Table(first, page=3), Paragraph("file:///C:/report.html 3/5", page=3),
              Paragraph("2025/1/20 10:17 某某局2024年政府信息公开工作年度报告", page=4), Table(second, page=4)]
    return Document("pdf", blocks, pages=5), expected


@pytest.mark.parametrize("kind", ["numbers_first", "label_first"])
def test_a_row_cut_the_other_way_round_by_a_page_break_is_one_row(kind):
    doc, expected = _t3_cut(kind)
    found = understand(doc)
    assert _values(found, "t3") == expected
    assert not [c for c in found.cells if c.table == "t3" and c.status != "reported"]


def test_table_4_numbers_heading_the_next_page_are_not_joined_onto_table_3():
    """Table 4's header stayed on page 3 with table 3; its row of fifteen numbers opens page 4, its
    first cells under table 3's label column: those numbers are no label, and the row is no piece of
    四、结转下年度继续办理 (this joined "61" and "3" into 613)."""
    rows, expected = _t3_rows("2021")
    first = [TableRow(list(r.cells), page=3) for r in rows]
    t4_values = TableRow([Cell(str(3 + i), i * 8 / 15, (i + 1) * 8 / 15) for i in range(15)], page=4)
    blocks = [Paragraph("某某局2024年政府信息公开工作年度报告"), Paragraph("三、收到和处理政府信息公开申请情况"),
              Table(first, page=3), Paragraph("四、政府信息公开行政复议、行政诉讼情况", page=3),
              Table([TableRow(list(r.cells), page=3) for r in T4[:3]], page=3), Table([t4_values], page=4)]
    found = understand(Document("pdf", blocks, pages=4))
    assert _values(found, "t3") == expected


@pytest.mark.parametrize("merge", ["across_columns", "into_label"])
def test_numbers_run_together_without_rulings_are_not_found_never_misread(merge):
    """An unruled table whose neighbouring numbers touch: "1693" and "638" print as one run across
    two columns, or a first column's number runs into the label ("…执法案卷92"). The row is not read
    (not_found), never as 1693638 or as a blank."""
    rows, expected = _t3_rows("2021")
    at = 3
    cells = rows[at].cells
    if merge == "across_columns":
        joined = Cell(cells[1].text + cells[2].text, cells[1].x0, cells[2].x1)
        rows[at] = TableRow([cells[0], joined, *cells[3:]])
    else:
        rows[at] = TableRow([Cell(cells[0].text + cells[1].text, cells[0].x0, cells[1].x1 - 0.9), *cells[2:]])
    key = next(k for k, v in expected.items() if k[1] == "natural_person" and v == 100 * (at - 1))[0]
    found = understand(Document("pdf", [Paragraph("某某局2024年政府信息公开工作年度报告"),
                                        Paragraph("三、收到和处理政府信息公开申请情况"), Table(rows)], pages=1))
    got = {c.col: c.status for c in found.cells if c.table == "t3" and c.row == key}
    assert set(got.values()) == {"not_found"}
    assert _values(found, "t3") == {k: v for k, v in expected.items() if k[0] != key}


def test_repeated_merged_cells_are_read_by_their_runs_or_not_at_all():
    """A header and a row whose merged cells were repeated into every slot (Markdown): the row's
    values are its runs of equal cells; where two cuts of the row read differently, nothing is read."""
    from tasks.extract.tables import lines_of, read_t2

    head = _row("信息内容", "上一年项目数量", "本年增/减", "本年增/减", "处理决定数量")
    rows = [head, _row("行政许可", "1603", "1603", "+13", "15532"),  # data spans 1-2-1-1 under 1-1-2-1
            _row("行政处罚", "7", "7", "7", "40"),  # every cut reads 7, 7, 40
            _row("行政强制", "5", "5", "-2", "-2")]  # (5 5)(-2)(-2) or (5)(5)(-2 -2): not confirmed
    got = read_t2(lines_of(Document("markdown", [Table(rows, positioned=False)]))).cells
    assert {k: v.raw for k, v in got.items() if k[0] != "administrative_coercion"} == {
        ("administrative_licensing", "prior_year_items"): "1603", ("administrative_licensing", "items_change"): "+13",
        ("administrative_licensing", "decisions"): "15532", ("administrative_penalty", "prior_year_items"): "7",
        ("administrative_penalty", "items_change"): "7", ("administrative_penalty", "decisions"): "40"}
    assert [k for k in got if k[0] == "administrative_coercion"] == []


def test_a_row_of_numbers_closing_a_page_is_not_joined_onto_the_full_row_opening_the_next():
    """An unruled table (no rulings: a label printed below its numbers may be left behind): the
    numbers of 5.属于三类内部事务信息 close page 3 without their label, and 6.属于四类过程性信息 opens page
    4 with its label and all its numbers. Two full sets of numbers are two rows: row 6 is read as
    printed, row 5 not_found; never "162" / "242" as 162242."""
    rows, expected = _t3_rows("2021")
    at = next(i for i, r in enumerate(rows) if r.cells[0].text.startswith("5.属于"))
    first = [TableRow(list(r.cells), page=3) for r in rows[:at]] + [TableRow(list(rows[at].cells[1:]), page=3)]
    second = [TableRow(list(r.cells), page=4) for r in rows[at + 1 :]]
    blocks = [Paragraph("某某局2024年政府信息公开工作年度报告"), Paragraph("三、收到和处理政府信息公开申请情况"),
              Table(first, page=3), Table(second, page=4)]
    found = understand(Document("pdf", blocks, pages=5))
    lost = next(r.key for r in t3.rows_for("2021") if r.label.startswith("5.属于"))
    assert _values(found, "t3") == {k: v for k, v in expected.items() if k[0] != lost}
    assert sorted(c.col for c in found.cells if c.table == "t3" and c.row == lost and c.status == "not_found") == sorted(COLS)


def _stacked_t4(values: list[str | None]) -> list[TableRow]:
    """Table 四 without rulings, its leaf headers stacked in narrow cells ("结果" over "维持", "总" over
    "计"; the first block's header a line above the others'), and one row of values where printed
    (None: nothing printed in that column)."""
    x = [40.0 * i for i in range(15)]
    tops = [w[:2] if len(w) == 4 else w[:1] for w in LEAVES]
    bottoms = [w[2:] if len(w) == 4 else w[1:] for w in LEAVES]
    rows = [TableRow([Cell("行政复议", 0, 48), Cell("行政诉讼", 200, 248)]),
            TableRow([Cell("未经复议直接起诉", 200, 296), Cell("复议后起诉", 400, 460)]),
            TableRow([Cell(t, x[i], x[i] + 12 * len(t)) for i, t in enumerate(tops)]),
            TableRow([Cell(t, x[i], x[i] + 12 * len(t)) for i, t in enumerate(bottoms)]
                     + [Cell(t, x[5 + i], x[5 + i] + 12 * len(t)) for i, t in enumerate(tops * 2)]),
            TableRow([Cell(t, x[5 + i], x[5 + i] + 12 * len(t)) for i, t in enumerate(bottoms * 2)]),
            TableRow([Cell(v, x[i], x[i] + 7 * len(v)) for i, v in enumerate(values) if v is not None])]
    return rows


def test_table_4_under_stacked_header_words_places_its_empty_cells_by_the_identity():
    """No rulings, leaf headers stacked over lines: the values are placed under the headers; a block
    whose printed total is the sum of its printed parts gives its empty cell as a printed blank, a
    block that does not add up with its empty cell is not_found; a full row is read as printed."""
    doc = lambda values: Document("pdf", [Paragraph("某某局2024年政府信息公开工作年度报告"),  # noqa: E731
                                          Paragraph("四、政府信息公开行政复议、行政诉讼情况"), Table(_stacked_t4(values))])
    values = ["17", "4", "31", "22", "74", "1", "32", "35", "9", "77", "6", "29", "1", None, "36"]
    got = {(c.row, c.col): (c.status, c.value) for c in understand(doc(values)).cells if c.table == "t4"}
    blocks = [r.key for r in t4.ROWS]
    want = {(b, c.key): ("reported", int(v)) for k, b in enumerate(blocks) for c, v in
            zip(t4.COLUMNS, values[5 * k : 5 * k + 5]) if v is not None}
    assert got == {**want, ("litigation_after_review", "pending"): ("blank", None)}
    values[14] = "37"  # 6 + 29 + 1 + _ is not 37: the empty cell is not confirmed
    got = {(c.row, c.col): (c.status, c.value) for c in understand(doc(values)).cells if c.table == "t4"}
    assert {k: v for k, v in got.items() if k[0] != "litigation_after_review"} == {
        k: v for k, v in want.items() if k[0] != "litigation_after_review"}
    assert {v for k, v in got.items() if k[0] == "litigation_after_review"} == {("not_found", None)}
    values[13] = "5"  # every cell printed (the source's own arithmetic): read as printed
    got = {(c.row, c.col): (c.status, c.value) for c in understand(doc(values)).cells if c.table == "t4"}
    assert got == {(b, c.key): ("reported", int(v)) for k, b in enumerate(blocks)
                   for c, v in zip(t4.COLUMNS, values[5 * k : 5 * k + 5])}


def test_table_4_block_printing_every_cell_empty_is_blank_only_where_the_row_cannot_go_on():
    """A block under a stacked header printing no number at all: its cells are printed blanks when
    the row's other blocks add up and the row cannot go on elsewhere; at the foot of a page (the
    row may go on over the page) or beside a block that does not add up, not_found."""
    values = ["17", "4", "31", "22", "74", "1", "32", "35", "9", "77", None, None, None, None, None]

    def got(values: list[str | None], after: bool) -> dict:
        blocks = [Paragraph("某某局2024年政府信息公开工作年度报告"), Paragraph("四、政府信息公开行政复议、行政诉讼情况"),
                  Table(_stacked_t4(values))] + ([Paragraph("五、政府信息公开工作存在的主要问题及改进情况")] if after else [])
        return {(c.row, c.col): (c.status, c.value) for c in understand(Document("pdf", blocks)).cells if c.table == "t4"}

    read = {("admin_review", c.key): ("reported", int(v)) for c, v in zip(t4.COLUMNS, values[:5])}
    read |= {("litigation_direct", c.key): ("reported", int(v)) for c, v in zip(t4.COLUMNS, values[5:10])}
    blank = {("litigation_after_review", c.key): ("blank", None) for c in t4.COLUMNS}
    lost = {("litigation_after_review", c.key): ("not_found", None) for c in t4.COLUMNS}
    assert got(values, after=True) == read | blank
    assert got(values, after=False) == read | lost  # the table closes its page
    values[4] = "75"  # 17 + 4 + 31 + 22 is not 75: the row's placement is not confirmed
    assert {k: v for k, v in got(values, after=True).items() if k[0] != "admin_review"} == {
        k: v for k, v in (read | lost).items() if k[0] != "admin_review"}


def _stacked_t3(body: list[TableRow]) -> Document:
    """Table 三 without rulings: its column headers stacked over lines in narrow cells ("自然" over "人",
    "法律服" over "务机构"), columns 40 pt apart from x = 200, then `body`."""
    x = [200.0 + 40 * i for i in range(7)]
    head = [("自然", "人"), ("商业", "企业"), ("科研", "机构"), ("社会公益", "组织"), ("法律服", "务机构"), ("其他", ""), ("总计", "")]
    box = (0.0, 0.0, 1.0, 1.0)
    rows = [TableRow([Cell(a, x[i], x[i] + 9 * len(a), bbox=box) for i, (a, _) in enumerate(head)]),
            TableRow([Cell(b, x[i], x[i] + 9 * len(b), bbox=box) for i, (_, b) in enumerate(head) if b]), *body]
    return Document("pdf", [Paragraph("某某局2024年政府信息公开工作年度报告"), Paragraph("三、收到和处理政府信息公开申请情况"),
                            Table(rows)], pages=1)


def _t3_line(label: str, values: dict[int, str], empty: bool = False) -> TableRow:
    return TableRow([Cell(label, 0, 150, bbox=(0.0, 0.0, 150.0, 10.0)),
                     *(Cell(v, 200 + 40 * i, 200 + 40 * i + 7 * len(v), bbox=(0.0, 0.0, 1.0, 1.0)) for i, v in values.items())],
                    empty=empty)


def test_unruled_table_3_under_stacked_headers_reads_rows_printing_empty_cells_and_label_only_rows():
    """Columns placed by header words stacked over lines: a row's empty cells are printed blanks; a
    label printed alone (the reader vouching nothing is printed beside it) is a row of blanks, the
    same label without that is not_found; a label holding two rows' labels, or a number under no
    column, leaves its row not_found, never its numbers on one of the two rows or a blank."""
    got = lambda body, row: {c.col: (c.status, c.value) for c in understand(_stacked_t3(body)).cells  # noqa: E731
                             if c.table == "t3" and c.row == row}
    rows = [_t3_line("一、本年新收政府信息公开申请数量", {0: "821", 1: "35", 4: "2", 5: "1", 6: "859"}),
            _t3_line("二、上年结转政府信息公开申请数量", {0: "18", 6: "18"})]
    want = dict.fromkeys(COLS, ("blank", None)) | {"natural_person": ("reported", 821),
                                                   "commercial_enterprise": ("reported", 35),
                                                   "legal_service_org": ("reported", 2), "other_org": ("reported", 1),
                                                   "total": ("reported", 859)}  # fmt: skip
    assert got(rows, "new_received") == want
    partial = "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    alone = [*rows, _t3_line("（一）予以公开", {0: "5", 6: "5"}), _t3_line(partial, {}, empty=True)]
    assert got(alone, "partially_granted") == dict.fromkeys(COLS, ("blank", None))
    alone[-1] = _t3_line(partial, {})
    assert set(got(alone, "partially_granted").values()) == {("not_found", None)}
    two = [*rows, _t3_line("（一）予以公开\n（二）部分公开（区分处理的，只计这一情形，不计其他情形）", {0: "5", 6: "5"})]
    assert set(got(two, "granted").values()) | set(got(two, "partially_granted").values()) == {("not_found", None)}
    stray = [rows[0], _t3_line("二、上年结转政府信息公开申请数量", {0: "18", 6: "18"})]
    stray[1].cells.append(Cell("7", 226, 233, bbox=(0.0, 0.0, 1.0, 1.0)))  # between two columns' headers
    assert set(got(stray, "carried_forward").values()) == {("not_found", None)}


def test_a_table_two_label_run_into_its_number_is_cut_from_the_whole_label_only():
    """A PDF whose label column ends where the value column starts prints the two as one word
    ("行政事业性收费3691.19", no table: two lines). The whole row label of table 二 is cut off its
    first number; prose or a label's piece running into a number stays a paragraph."""
    from tasks.extract.tables import lines_of, read_t2

    head = Paragraph("信息内容 本年收费金额（单位：万元）")
    got = read_t2(lines_of(Document("pdf", [head, Paragraph("行政事业性收费3691.19")]))).cells
    assert {k: v.raw for k, v in got.items()} == {("administrative_fees", "fee_amount"): "3691.19"}
    two = read_t2(lines_of(Document("pdf", [Paragraph("规章12 3 45")]))).cells  # the other numbers spaced
    assert {k: v.raw for k, v in two.items()} == {
        ("regulations", "issued"): "12", ("regulations", "abolished"): "3", ("regulations", "in_force"): "45"}
    for prose in ("全年共受理政府信息公开申请4720", "性收费3691.19", "行政许可2 件"):
        assert lines_of(Document("pdf", [Paragraph(prose)])) == [], prose


def _stacked_t2(extra: list[TableRow] = ()) -> list[TableRow]:
    """Table 二's first block without rulings in narrow cells (x in points): each header stacked over
    three lines, 规章 printing every cell, 行政规范性文件 one cell empty (nothing under 本年废止件数)."""
    at = lambda x, *texts: [Cell(t, x, x + 30) for t in texts]  # noqa: E731
    words = [("本年制", "本年废", "现行有"), ("发件数", "止件数", "效件数"), ("", "", "")]
    head = [TableRow([c for x, w in zip((100, 150, 200), line) if w for c in at(x, w)]) for line in words[:2]]
    return [
        TableRow([Cell("第二十条第（一）项", 0, 90)]),
        *head[:1], TableRow([Cell("信息内容", 0, 60), *head[1].cells]),
        TableRow([Cell("规章", 0, 30), Cell("3", 105, 115), Cell("1", 155, 165), Cell("12", 205, 220)]),
        TableRow([Cell("行政规范性文件", 0, 90), Cell("5", 105, 115), Cell("40", 205, 220)]),
        *extra,
    ]


def test_table_2_under_stacked_headers_places_its_values_and_empty_cells_by_position():
    doc = lambda rows: Document("pdf", [Paragraph("某某局2024年政府信息公开工作年度报告"),  # noqa: E731
                                        Paragraph("二、主动公开政府信息情况"), Table(rows)])
    got = {(c.row, c.col): (c.status, c.value) for c in understand(doc(_stacked_t2())).cells if c.table == "t2"}
    assert {k: v for k, v in got.items() if k[0] in ("regulations", "normative_documents")} == {
        ("regulations", "issued"): ("reported", 3), ("regulations", "abolished"): ("reported", 1),
        ("regulations", "in_force"): ("reported", 12), ("normative_documents", "issued"): ("reported", 5),
        ("normative_documents", "abolished"): ("blank", None), ("normative_documents", "in_force"): ("reported", 40)}
    # a line of numbers only right below the row (a number wrapped or printed out of its row's band): the
    # empty place is not claimed blank
    stray = TableRow([Cell("7", 155, 165)])
    got = {(c.row, c.col): (c.status, c.value) for c in understand(doc(_stacked_t2([stray]))).cells if c.table == "t2"}
    assert got[("normative_documents", "abolished")] == ("not_found", None)
    assert got[("normative_documents", "issued")] == ("reported", 5)
