"""The plain-text reader: the jining web-copy sample and renditions of it built here.

What the mapping layer relies on (and these tests check): every value cell, empty ones
included, is its own cell in order, values sit at the RIGHT end of a row (last 7 of a
section-3 row, 15 in table 4's data row, last k of a table-2 row), label text is kept,
and rows break where the printed table's rows break.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.errors import UnsupportedFormat
from tasks.extract.model import Document, Paragraph, Table, TableRow
from tasks.extract.normalize import norm
from tasks.extract.text import is_value, merge_wrapped_labels, read_text
from tasks.spec import t2, t3, t4

SAMPLE = Path(__file__).parent.parent / "fixtures" / "samples" / "jining_org_dept_2021_text"
SOURCE = (SAMPLE / "source.txt").read_bytes()
EXPECTED: dict[tuple[str, str, str], int] = {
    (c["table"], c["row"], c["col"]): c["value"]
    for c in json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))["cells"]
}
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")


# ---------------------------------------------------------------- helpers


def _texts(row: TableRow) -> list[str]:
    return [c.text for c in row.cells]


def _num(text: str) -> int:
    return int(unicodedata.normalize("NFKC", text).strip())


def _tables(doc: Document) -> list[Table]:
    return [b for b in doc.blocks if isinstance(b, Table)]


def _table_with(doc: Document, label: str) -> Table:
    want = norm(label)
    for table in _tables(doc):
        if any(want in norm(c.text) for r in table.rows for c in r.cells):
            return table
    raise AssertionError(f"no table mentions {label}")


def _value_rows(table: Table, k: int) -> list[TableRow]:
    return [r for r in table.rows if len(r.cells) >= k and all(is_value(c.text) for c in r.cells[-k:])]


def _assert_t3(doc: Document) -> None:
    table = _table_with(doc, "本年新收政府信息公开申请数量")
    data = _value_rows(table, 7)
    rows = t3.rows_for("2021")
    assert len(data) == len(rows) == 25
    for spec_row, row in zip(rows, data, strict=True):
        labels = [norm(c.text) for c in row.cells[:-7] if c.text]
        assert labels, f"{spec_row.key}: label text lost"
        assert norm(spec_row.label) == labels[-1], (spec_row.key, labels)
        got = [_num(c.text) for c in row.cells[-7:]]
        want = [EXPECTED[("t3", spec_row.key, col.key)] for col in t3.COLUMNS]
        assert got == want, spec_row.key


def _assert_t4(doc: Document) -> None:
    table = _table_with(doc, "未经复议直接起诉")
    data = _value_rows(table, 15)
    assert len(data) == 1
    got = [_num(c.text) for c in data[0].cells[-15:]]
    want = [EXPECTED[("t4", r.key, c.key)] for r in t4.ROWS for c in t4.COLUMNS]
    assert got == want
    headers = "".join(norm(c.text) for r in table.rows for c in r.cells)
    for col in t4.COLUMNS:
        assert headers.count(norm(col.label)) >= 3, col.label


def _assert_t2(doc: Document) -> None:
    table = _table_with(doc, "第二十条第（一）项")
    for block in t2.BLOCKS:
        cols = block.columns.get("2021", ())
        for spec_row in block.rows:
            if "2021" not in spec_row.formats:
                continue
            row = next(r for r in table.rows if r.cells and norm(r.cells[0].text) == norm(spec_row.label))
            got = [_num(c.text) for c in row.cells[-len(cols) :]]
            want = [EXPECTED[("t2", spec_row.key, col.key)] for col in cols]
            assert got == want, spec_row.key


def _assert_all(doc: Document) -> None:
    assert doc.media == "text"
    _assert_t2(doc)
    _assert_t3(doc)
    _assert_t4(doc)


# ---------------------------------------------------------------- renditions of the sample


def _doc() -> Document:
    return read_text(SOURCE)


def _to_markdown(doc: Document) -> str:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            text = block.text
            if re.match(r"^[一二三四五六七八九十]+、", text):
                out += [f"## {text}", ""]
            elif _HEADING.match(text):
                out += [f"**{text.replace('（', '(').replace('）', ')')}**", ""]
            else:
                out += [text, ""]
            continue
        width = max(len(r.cells) for r in block.rows)
        for i, row in enumerate(block.rows):
            cells = [c.text.replace("\n", "<br>") for c in row.cells]
            cells = [re.sub(r"^（([一二三四五六七])）", r"(\1)", c) for c in cells]  # half-width brackets
            out.append("| " + " | ".join(cells) + " |")
            if i == 0:
                out.append("|" + "---|" * width)
        out.append("")
    return "\n".join(out)


def _to_tsv(doc: Document) -> str:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out += ["", block.text, ""]
        else:
            out += ["\t".join(c.text.replace("\n", "") for c in r.cells) for r in block.rows]
    return "\n".join(out)


def _to_spaced(doc: Document) -> str:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out += ["", block.text, ""]
        else:
            out += ["    ".join(c.text.replace("\n", "") for c in r.cells if c.text) for r in block.rows]
    return "\n".join(out)


def _no_tabs(source: str) -> str:
    """Leading TABs removed; an empty cell keeps a NBSP (as &nbsp; copies), a blank line stays a row break."""
    lines = []
    for line in source.split("\n"):
        if line.startswith("\t"):
            line = line[1:] or "\xa0"
        lines.append(line)
    return "\n".join(lines)


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _full_width_digits(source: str) -> str:
    return re.sub(r"(?m)^\t(\d+)", lambda m: "\t" + m.group(1).translate(_FULL_WIDTH), source)


_TEXT = SOURCE.decode("utf-8")
RENDITIONS: dict[str, Callable[[], bytes]] = {
    "crlf": lambda: _TEXT.replace("\n", "\r\n").encode("utf-8"),
    "gb18030": lambda: _TEXT.encode("gb18030"),
    "utf8_bom": lambda: b"\xef\xbb\xbf" + SOURCE,
    "full_width_digits": lambda: _full_width_digits(_TEXT).encode("utf-8"),
    "no_tabs": lambda: _no_tabs(_TEXT).encode("utf-8"),
    "tabs_expanded": lambda: _TEXT.expandtabs(4).encode("utf-8"),
    "markdown": lambda: _to_markdown(_doc()).encode("utf-8"),
    "tsv": lambda: _to_tsv(_doc()).encode("utf-8"),
    "tsv_crlf_gb18030": lambda: _to_tsv(_doc()).replace("\n", "\r\n").encode("gb18030"),
    "space_aligned": lambda: _to_spaced(_doc()).encode("utf-8"),
}


# ---------------------------------------------------------------- the sample itself


def test_sample_tables_match_expected() -> None:
    doc = _doc()
    _assert_all(doc)
    assert len(_tables(doc)) == 3
    assert all(not t.positioned and t.page is None for t in _tables(doc))


def test_sample_cells_are_kept_in_order_with_empty_ones() -> None:
    t3_table = _table_with(_doc(), "本年新收政府信息公开申请数量")
    header = _texts(t3_table.rows[2])
    assert header == ["", "", "商业\n企业", "科研\n机构", "社会公益组织", "法律服务机构", "其他", ""]
    partial = _texts(t3_table.rows[6])
    assert partial[0] == "" and partial[1].startswith("（二）部分公开") and len(partial) == 9


def test_sample_cell_broken_by_blank_line_continues_its_row() -> None:
    t4_table = _table_with(_doc(), "未经复议直接起诉")
    assert _texts(t4_table.rows[1]) == [
        "结果维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计", "未经复议直接起诉", "复议后起诉",
    ]


def test_sample_paragraphs_and_headings() -> None:
    doc = _doc()
    paras = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    headings = (
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    )
    assert all(h in paras for h in headings)
    assert paras[-1] == "无"
    sequence = [
        "T" if isinstance(b, Table) else b.text for b in doc.blocks if isinstance(b, Table) or b.text in headings[1:5]
    ]
    assert sequence == [headings[1], "T", headings[2], "T", headings[3], "T", headings[4]]


# ---------------------------------------------------------------- renditions


@pytest.mark.parametrize("name", sorted(RENDITIONS))
def test_renditions_give_the_same_numbers(name: str) -> None:
    _assert_all(read_text(RENDITIONS[name]()))


def test_markdown_rendition_keeps_headings_brackets_and_breaks() -> None:
    doc = read_text(RENDITIONS["markdown"]())
    paras = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert "二、主动公开政府信息情况" in paras  # '## ' stripped
    assert "(一)主动公开情况" in paras  # bold stripped, half-width brackets kept
    t3_table = _table_with(doc, "本年新收政府信息公开申请数量")
    assert "商业\n企业" in _texts(t3_table.rows[2])
    assert any(c.text.startswith("(二)部分公开") for r in t3_table.rows for c in r.cells)


def test_no_tab_rendition_rejoins_wrapped_labels() -> None:
    doc = read_text(RENDITIONS["no_tabs"]())
    t3_table = _table_with(doc, "本年新收政府信息公开申请数量")
    assert _texts(t3_table.rows[2]) == ["", "", "商业\n企业", "科研\n机构", "社会公益组织", "法律服务机构", "其他", ""]


def test_gb18030_bytes_decode_without_declaration() -> None:
    doc = read_text(RENDITIONS["gb18030"]())
    assert any(isinstance(b, Paragraph) and b.text == "一、总体情况" for b in doc.blocks)


# ---------------------------------------------------------------- small inputs


def test_tsv_one_line_rows() -> None:
    doc = read_text(
        "二、主动公开政府信息情况\n信息内容\t本年制发件数\t本年废止件数\t现行有效件数\n规章\t0\t0\t0\n\t\t1.属于国家秘密\t\t3\n".encode()
    )
    (table,) = _tables(doc)
    assert [_texts(r) for r in table.rows] == [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["", "", "1.属于国家秘密", "", "3"],
    ]
    assert isinstance(doc.blocks[0], Paragraph) and doc.blocks[0].text == "二、主动公开政府信息情况"


def test_pipe_table_details() -> None:
    md = (
        "# 四、政府信息公开行政复议、行政诉讼情况\n\n"
        "| 行政复议 | | 行政诉讼 |\n"
        "|:---|---:|:---:|\n"
        "| **结果<br/>维持** | a\\|b | |\n"
        "| 0 | ０ | 12 |\n"
    )
    doc = read_text(md.encode())
    assert isinstance(doc.blocks[0], Paragraph) and doc.blocks[0].text == "四、政府信息公开行政复议、行政诉讼情况"
    (table,) = _tables(doc)
    assert [_texts(r) for r in table.rows] == [["行政复议", "", "行政诉讼"], ["结果\n维持", "a|b", ""], ["0", "０", "12"]]


def test_space_aligned_rows() -> None:
    text = (
        "第二十条第（一）项\n信息内容    本年制发件数    本年废止件数    现行有效件数\n"
        "规章　　０　　０　　０\n行政规范性文件 24 0 24\n\n三、收到和处理政府信息公开申请情况\n"
    )
    (table,) = _tables(read_text(text.encode()))
    assert [_texts(r) for r in table.rows] == [
        ["第二十条第（一）项"],
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "０", "０", "０"],
        ["行政规范性文件", "24", "0", "24"],
    ]


def test_short_lines_without_a_table_stay_paragraphs() -> None:
    doc = read_text("六、其他需要报告的事项\n\n无\n\n济宁经济技术开发区党工委组织部\n2022年1月20日\n".encode())
    assert not _tables(doc)
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == [
        "六、其他需要报告的事项", "无", "济宁经济技术开发区党工委组织部", "2022年1月20日",
    ]


def test_merge_wrapped_labels() -> None:
    assert merge_wrapped_labels(["商业", "企业", "科研", "机构", "其他", "0"]) == ["商业\n企业", "科研\n机构", "其他", "0"]
    assert merge_wrapped_labels(["其他", "结果", "尚未", "审结", "总计"]) == ["其他\n结果", "尚未\n审结", "总计"]
    assert merge_wrapped_labels(["自然人", "法人或其他组织", "总计"]) == ["自然人", "法人或其他组织", "总计"]
    assert merge_wrapped_labels(["0", "0"]) == ["0", "0"]


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", "\u3000\xa0\n".encode(), b"\xef\xbb\xbf"])
def test_empty_input_is_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedFormat, match="empty document"):
        read_text(data)


# ---------------------------------------------------------------- hardening


def test_nbsp_lines_separate_tab_marked_rows() -> None:
    text = (
        "三、收到和处理政府信息公开申请情况\n\xa0\n\t一、本年新收政府信息公开申请数量\n\t1\n\t2\n"
        "\xa0\n\t四、结转下年度继续办理\n\t3\n\t\n"
    )
    doc = read_text(text.encode())
    (table,) = _tables(doc)
    assert [_texts(r) for r in table.rows] == [["一、本年新收政府信息公开申请数量", "1", "2"], ["四、结转下年度继续办理", "3", ""]]


def test_heading_directly_followed_by_tab_rows_and_tab_indented_prose() -> None:
    text = (
        "\t本报告所列数据的统计期限自2021年1月1日起至2021年12月31日止。\n\n"
        "四、政府信息公开行政复议、行政诉讼情况\n\t行政复议\n\t行政诉讼\n\n\t0\n\t0\n"
    )
    doc = read_text(text.encode())
    assert isinstance(doc.blocks[0], Paragraph) and doc.blocks[0].text.startswith("本报告所列数据")
    assert isinstance(doc.blocks[1], Paragraph) and doc.blocks[1].text == "四、政府信息公开行政复议、行政诉讼情况"
    assert [_texts(r) for r in _tables(doc)[0].rows] == [["行政复议", "行政诉讼"], ["0", "0"]]


def test_fragment_after_value_row_does_not_join_it() -> None:
    text = "\t规章\n\t0\n\n单位：件\n\t行政许可\n\t5\n"
    doc = read_text(text.encode())
    rows = [_texts(r) for t in _tables(doc) for r in t.rows]
    assert ["规章", "0"] in rows and ["行政许可", "5"] in rows


def test_wrapped_number_keeps_its_line_break() -> None:
    (table,) = _tables(read_text("\t行政处罚\n\t2631\n2\n".encode()))
    assert _texts(table.rows[0]) == ["行政处罚", "2631\n2"]


def test_gfm_table_without_outer_pipes_rules_entities_and_page_numbers() -> None:
    md = "二、主动公开政府信息情况\n\n信息内容 | 本年制发件数\n--- | ---\n规章 | 0&nbsp;\n\n---\n\n- 4 -\n\n行政许可 | 3\n:-- | --:\n"
    doc = read_text(md.encode())
    rows = [_texts(r) for t in _tables(doc) for r in t.rows]
    assert rows == [["信息内容", "本年制发件数"], ["规章", "0"], ["行政许可", "3"]]
    assert "- 4 -" in [b.text for b in doc.blocks if isinstance(b, Paragraph)]


def test_space_fields_do_not_split_narrative() -> None:
    doc = read_text("2021年 共收到申请 0 件\n\n联系电话：0537-6980882\n".encode())
    assert not _tables(doc)


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass
else:
    _ALPHABET = st.sampled_from(list("\t\n\r |#*-0123456789０１规章行政许可结果纠正（一）、。\xa0\u3000<br>"))

    @settings(max_examples=300, deadline=None)
    @given(st.text(_ALPHABET, max_size=200))
    def test_any_text_reads_or_is_empty(text: str) -> None:
        try:
            doc = read_text(text.encode("utf-8"))
        except UnsupportedFormat:
            assert not text.strip(" \t\r\n\xa0\u3000")
            return
        assert doc.media == "text"
        for block in doc.blocks:
            if isinstance(block, Table):
                assert block.rows and not block.positioned
                assert all(isinstance(c.text, str) for r in block.rows for c in r.cells)

    @settings(max_examples=100, deadline=None)
    @given(st.binary(max_size=200))
    def test_any_bytes_read_or_raise_typed_error(data: bytes) -> None:
        with contextlib.suppress(UnsupportedFormat):
            read_text(data)


# ---------------------------------------------------------------- a browser's copy (innerText of <td><p>…</p></td>)

_INNER = (
    "二、主动公开政府信息情况\n\n第二十条第（八）项\n\n\n\n\n信息内容\n\n\t\n\n本年收费金额（单位：万元）\n\n\n\n\n"
    "行政事业性\n\n收费\n\n\t0\n\n三、收到和处理政府信息公开申请情况\n\n"
    "三、本年度办理结果\n\n\t\n\n（一）予以公开\n\n\t\n\n80\n\n\t\n\n1\n\n\t\n\n\xa0\n\n\t\n\n3\n\n\t\t\n\n5\n\n\n\n\n"
    "（二）部分公开\n\n\t\n\n2\n\n\t\n\n2\n\n\t\n\n2\n\n\t\n\n2\n\n\t\n\n2\n\n\t\n\n2\n\n"
    "五、存在的主要问题及改进情况\n\n行政复议\n\n\t\n\n行政诉讼"
)


def test_browser_copy_cells_rows_split_labels_and_empty_cells() -> None:
    doc = read_text(_INNER.encode())
    rows = [_texts(r) for t in _tables(doc) for r in t.rows]
    assert rows == [
        ["第二十条第（八）项"],
        ["信息内容", "本年收费金额（单位：万元）"],
        ["行政事业性\n收费", "0"],  # a label split over two paragraphs of its cell is one cell again
        ["三、本年度办理结果", "（一）予以公开", "80", "1", "", "3", "", "5"],  # NBSP and TAB-TAB: empty cells
        ["（二）部分公开", "2", "2", "2", "2", "2", "2"],
        ["行政复议", "行政诉讼"],
    ]
    paras = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert paras == ["二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "五、存在的主要问题及改进情况"]


def test_browser_copy_caption_paragraph_is_not_joined_to_a_header_cell() -> None:
    text = "44\n\n\t\n\n5\n\n\n\n\n6\n\n\t\n\n7\n\n复议后起诉\n\n结果维持\n\n\t\n\n结果纠正\n\n" + "\n\n\t\n\n".join("1234") * 3
    rows = [_texts(r) for t in _tables(read_text(text.encode())) for r in t.rows]
    assert rows[2][:2] == ["结果维持", "结果纠正"]


def test_lines_beyond_the_bound_are_not_read() -> None:
    from tasks.extract.text import MAX_LINES

    table = "\t规章\n\t1\n\t2\n\t3\n\n"
    doc = read_text((table + "\n" * (MAX_LINES - 10) + "\t行政许可\n\t7\n" + "\n" * 20 + "\t行政处罚\n\t9\n").encode())
    rows = [_texts(r) for t in _tables(doc) for r in t.rows]
    assert ["规章", "1", "2", "3"] in rows and ["行政许可", "7"] in rows
    assert not any(r[0] == "行政处罚" for r in rows)  # after line MAX_LINES


def test_empty_lines_inside_a_cell_per_line_row_are_empty_cells() -> None:
    """No NBSP anywhere: an empty line between two numbers of a row is an empty cell, an empty line
    more than the row separator before the next row closes the row with one; before a heading it
    is only a wider break."""
    text = ("（三）不予公开\n1.属于国家秘密\n8\n20\n\n38\n147\n\n2.其他法律行政法规禁止公开\n14\n25\n\n\n"
            "3.危及“三安全一稳定”\n1\n2\n3\n\n\n五、存在的主要问题及改进情况\n")
    rows = [_texts(r) for t in _tables(read_text(text.encode())) for r in t.rows]
    assert rows == [["（三）不予公开", "1.属于国家秘密", "8", "20", "", "38", "147"],
                    ["2.其他法律行政法规禁止公开", "14", "25", ""],
                    ["3.危及“三安全一稳定”", "1", "2", "3"]]


def _rows_of(doc: Document) -> list[list[str]]:
    return [_texts(r) for t in _tables(doc) for r in t.rows]


def test_a_row_printed_all_empty_is_its_label_and_the_empty_lines_beyond_the_separator() -> None:
    # cell per line, rows one empty line apart; 二、 prints seven empty cells, （一） two empty cells then numbers
    text = "\n".join([
        "一、本年新收政府信息公开申请数量", "3", "", "", "", "", "", "3", "",
        "二、上年结转政府信息公开申请数量", "", "", "", "", "", "", "", "",
        "三、本年度办理结果", "（一）予以公开", "", "", "1", "", "", "", "1", "",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "2", "", "", "", "", "", "2", "",
    ])
    rows = _rows_of(read_text(text.encode()))
    assert ["二、上年结转政府信息公开申请数量", *[""] * 7] in rows
    assert ["三、本年度办理结果", "（一）予以公开", "", "", "1", "", "", "", "1"] in rows


def test_empty_lines_before_a_heading_are_cells_only_where_they_make_a_table_3_row_whole() -> None:
    head = ["一、本年新收政府信息公开申请数量", "3", "", "", "", "", "", "3", ""]
    # row 四 ends in two empty cells, then the separator, then section 四's heading: seven cells
    whole = [*head, "四、结转下年度继续办理", "1", "", "", "", "", "1", "", "", "四、政府信息公开行政复议、行政诉讼情况"]
    assert ["四、结转下年度继续办理", "1", "", "", "", "", "1", ""] in _rows_of(read_text("\n".join(whole).encode()))
    # three more empty lines would give it nine: a wider break before the heading, not cells
    wide = [*head, "四、结转下年度继续办理", "1", "", "", "", "", "", "1", "", "", "", "", "四、政府信息公开行政复议、行政诉讼情况"]
    assert not any(len(r) > 8 for r in _rows_of(read_text("\n".join(wide).encode())))
    # a paragraph's line is not a row's label: empty lines after it stay a break
    prose = ["六、其他需要报告的事项", "", "", "", "本年度无其他需要报告的事项。", ""]
    assert not _tables(read_text("\n".join(prose).encode()))
