"""HTML reader: the Shanghai 2019 sample (a UTF-8 fragment), charsets, grids, paragraphs, SPA pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import load_expected

from tasks.extract.html import declared_charset, read_html
from tasks.extract.model import Document, Paragraph, Table
from tasks.spec.t3 import COLUMNS as T3_COLUMNS, ROWS as T3_ROWS

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "shanghai_office_2019_html"


@pytest.fixture(scope="module")
def source() -> bytes:
    return (SAMPLE / "source.html").read_bytes()


@pytest.fixture(scope="module")
def doc(source: bytes) -> Document:
    return read_html(source)


def _table_after(doc: Document, heading: str) -> Table:
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph) and block.text.startswith(heading):
            nxt = doc.blocks[i + 1]
            assert isinstance(nxt, Table), f"no table after {heading!r}"
            return nxt
    raise AssertionError(f"heading {heading!r} not found")


def _signature(doc: Document) -> list[object]:
    out: list[object] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            out.append(("p", b.text))
        else:
            out.append(("t", [[(c.text, c.x0, c.x1, c.rowspan) for c in r.cells] for r in b.rows]))
    return out


# --------------------------------------------------------------------------- the real sample


def test_sample_is_html_with_three_tables(doc: Document) -> None:
    assert doc.media == "html"
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert len(tables) == 3
    assert all(t.positioned for t in tables)
    assert all(c.page is None for t in tables for r in t.rows for c in r.cells)
    first = doc.blocks[0]
    assert isinstance(first, Paragraph) and first.text == "2019年上海市人民政府办公厅政府信息公开工作年度报告"
    texts = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    for heading in ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                    "四、政府信息公开行政复议、行政诉讼情况", "六、其他需要报告的事项"):  # fmt: skip
        assert heading in texts


def test_sample_table3_values_match_expected(doc: Document) -> None:
    values = {(c["row"], c["col"]): c["value"] for c in load_expected(SAMPLE)["cells"] if c["table"] == "t3"}
    table = _table_after(doc, "三、收到和处理政府信息公开申请情况")
    rows_2019 = [r for r in T3_ROWS if "2019" in r.formats]
    data_rows = table.rows[3:]
    assert len(data_rows) == len(rows_2019) == 23
    for spec_row, row in zip(rows_2019, data_rows, strict=True):
        grid = {int(c.x0): c for c in row.cells}
        value_cells = [grid[x] for x in range(3, 10)]
        assert all(c.x1 - c.x0 == 1 for c in value_cells)
        for col, cell in zip(T3_COLUMNS, value_cells, strict=True):
            want = values[(spec_row.key, col.key)]  # None where the sample prints the cell empty (blanks.json)
            assert cell.text == ("" if want is None else str(want)), (spec_row.key, col.key, cell.text)
    # 总计 of a detail row is printed blank (NOTES.md), and stays blank, not dropped.
    granted = data_rows[2]
    assert [c.text for c in granted.cells][-7:] == ["258", "12", "", "", "1", "1", ""]


def test_sample_table3_header_grid(doc: Document) -> None:
    table = _table_after(doc, "三、收到和处理政府信息公开申请情况")
    corner, applicant = table.rows[0].cells
    assert (corner.x0, corner.x1, corner.rowspan) == (0, 3, 3)
    assert (applicant.text, applicant.x0, applicant.x1) == ("申请人情况", 3, 10)
    assert [(c.text, c.x0, c.rowspan) for c in table.rows[1].cells] == [
        ("自然人", 3, 2), ("法人或其他组织", 4, 1), ("总计", 9, 2)
    ]
    assert [c.x0 for c in table.rows[2].cells] == [4, 5, 6, 7, 8]
    results = table.rows[5].cells[0]
    assert (results.text, results.x0, results.x1, results.rowspan) == ("三、本年度办理结果", 0, 1, 20)
    denied = table.rows[7].cells[0]
    assert (denied.text, denied.x0, denied.rowspan) == ("（三）不予公开", 1, 8)
    # a row under rowspans starts at the first free grid column
    assert (table.rows[8].cells[0].text, table.rows[8].cells[0].x0) == ("2.其他法律行政法规禁止公开", 2)


def test_sample_table2_breaks_and_disagreeing_spans(doc: Document) -> None:
    table = _table_after(doc, "二、主动公开政府信息情况")
    header = table.rows[1].cells
    assert [c.text for c in header] == ["信息内容", "本年新\n制作数量", "本年新\n公开数量", "对外公开总数量"]
    # V12: header spans 1-2-1 vs data 2-1-1 in the (五) block — the grid keeps both honestly
    assert [(c.x0, c.x1) for c in table.rows[5].cells] == [(0, 1), (1, 2), (2, 4), (4, 5)]
    assert [(c.x0, c.x1) for c in table.rows[6].cells] == [(0, 1), (1, 3), (3, 4), (4, 5)]
    assert table.rows[-1].cells[-1].text == "251000元"


def test_sample_table4_single_data_row(doc: Document) -> None:
    table = _table_after(doc, "四、政府信息公开行政复议、行政诉讼情况")
    data = table.rows[-1].cells
    assert [c.x0 for c in data] == list(range(15))
    assert [c.text for c in data] == ["5", "", "", "2", "7", "8", "", "", "1", "9", "", "", "", "", ""]


def test_entities_and_no_lost_characters(doc: Document) -> None:
    text = "\n".join(b.text for b in doc.blocks if isinstance(b, Paragraph))
    assert "《上海市贯彻<长江三角洲区域一体化发展规划纲要>实施方案》" in text
    assert "\xa0" not in text


# --------------------------------------------------------------------------- charsets


def test_gbk_without_declaration_reads_the_same(source: bytes, doc: Document) -> None:
    gbk = source.decode("utf-8").encode("gbk")
    assert _signature(read_html(gbk)) == _signature(doc)


def test_gb18030_reads_the_same(source: bytes, doc: Document) -> None:
    data = source.decode("utf-8").encode("gb18030")
    assert _signature(read_html(data)) == _signature(doc)


def test_declared_gb2312_with_gbk_only_chars() -> None:
    # 镕 is GBK-only (not in GB2312): a declared gb2312 page must still decode (GB18030 superset).
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
        "<body><p>朱镕基 政府信息公开</p></body></html>"
    )
    data = html.encode("gbk")
    assert declared_charset(data) == "gb2312"
    assert [b.text for b in read_html(data).blocks] == ["朱镕基 政府信息公开"]


def test_html5_meta_charset_and_wrong_declaration() -> None:
    html = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body><p>总体情况</p></body></html>'
    assert [b.text for b in read_html(html.encode("utf-8")).blocks] == ["总体情况"]
    # declared utf-8 but really GBK: the strict check fails and the chain finds GB18030
    assert [b.text for b in read_html(html.encode("gbk")).blocks] == ["总体情况"]


def test_utf8_bom_and_utf16() -> None:
    html = "<p>一、总体情况</p><p>二、主动公开</p>"
    expected = ["一、总体情况", "二、主动公开"]
    assert [b.text for b in read_html(b"\xef\xbb\xbf" + html.encode("utf-8")).blocks] == expected
    assert [b.text for b in read_html(html.encode("utf-16")).blocks] == expected


def test_xml_declaration_is_tolerated() -> None:
    data = '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>年度报告</p></body></html>'
    assert [b.text for b in read_html(data.encode()).blocks] == ["年度报告"]


# --------------------------------------------------------------------------- structure


def test_fragment_without_html_or_head() -> None:
    data = "文字直接在正文<p>第一段</p>尾巴<div>块<p>内段</p>块尾</div><table><tr><td>a</td><td>b</td></tr></table>".encode()
    doc = read_html(data)
    assert doc.media == "html"
    kinds = [(type(b).__name__, getattr(b, "text", None)) for b in doc.blocks]
    assert kinds == [
        ("Paragraph", "文字直接在正文"),
        ("Paragraph", "第一段"),
        ("Paragraph", "尾巴"),
        ("Paragraph", "块"),
        ("Paragraph", "内段"),
        ("Paragraph", "块尾"),
        ("Table", None),
    ]


def test_rowspan_colspan_grid() -> None:
    html = """
    <table>
      <tr><td rowspan="2" colspan="2">A</td><td colspan="2">B</td><td rowspan="3">C</td></tr>
      <tr><td>b1</td><td>b2</td></tr>
      <tr><td>x</td><td>&nbsp;</td><td></td><td> <br/> </td></tr>
      <tr><td colspan="5">wide</td></tr>
    </table>"""
    (table,) = read_html(html.encode()).blocks
    assert isinstance(table, Table)
    grid = [[(c.text, c.x0, c.x1, c.rowspan) for c in r.cells] for r in table.rows]
    assert grid == [
        [("A", 0, 2, 2), ("B", 2, 4, 1), ("C", 4, 5, 3)],
        [("b1", 2, 3, 1), ("b2", 3, 4, 1)],
        [("x", 0, 1, 1), ("", 1, 2, 1), ("", 2, 3, 1), ("", 3, 4, 1)],
        [("wide", 0, 5, 1)],
    ]


def test_rowspan_clamped_and_zero_and_thead_tbody() -> None:
    html = """<table><thead><tr><th>h1</th><th>h2</th></tr></thead>
      <tbody><tr><td rowspan="9">r</td><td>1</td></tr><tr><td>2</td></tr></tbody></table>"""
    (table,) = read_html(html.encode()).blocks
    assert isinstance(table, Table)
    assert [c.text for c in table.rows[0].cells] == ["h1", "h2"]
    assert table.rows[1].cells[0].rowspan == 2
    assert (table.rows[2].cells[0].text, table.rows[2].cells[0].x0) == ("2", 1)
    html0 = "<table><tr><td rowspan=0>r</td><td>1</td></tr><tr><td>2</td></tr><tr><td>3</td></tr></table>"
    (t0,) = read_html(html0.encode()).blocks
    assert isinstance(t0, Table) and t0.rows[0].cells[0].rowspan == 3


def test_breaks_and_blocks_inside_cells() -> None:
    html = "<table><tr><td>本年新<br />制作数量</td><td><p>2631</p><p>2</p></td><td><div>a <span>b</span></div>c</td></tr></table>"
    (table,) = read_html(html.encode()).blocks
    assert isinstance(table, Table)
    assert [c.text for c in table.rows[0].cells] == ["本年新\n制作数量", "2631\n2", "a b\nc"]


def test_paragraph_whitespace_collapsed_and_br_kept() -> None:
    html = "<p>  一、\n   总体  情况&nbsp;&nbsp;说明 </p><p>第一行<br>第二行</p><h2>标题</h2><ul><li>甲</li><li>乙</li></ul>"
    assert [b.text for b in read_html(html.encode()).blocks] == [
        "一、 总体 情况 说明", "第一行\n第二行", "标题", "甲", "乙"
    ]


def test_script_style_comments_skipped() -> None:
    html = "<style>p{}</style><script>var a='<p>x</p>';</script><p>前<!-- 注释 -->后<noscript>n</noscript></p>"
    assert [b.text for b in read_html(html.encode()).blocks] == ["前后"]


def test_layout_table_is_descended_into() -> None:
    inner = "<table><tr><td>自然人</td><td>总计</td></tr><tr><td>1</td><td>1</td></tr></table>"
    html = f"<table><tr><td><p>三、收到和处理政府信息公开申请情况</p>{inner}<p>四、</p></td></tr></table>"
    blocks = read_html(html.encode()).blocks
    assert [type(b).__name__ for b in blocks] == ["Paragraph", "Table", "Paragraph"]
    table = blocks[1]
    assert isinstance(table, Table) and [c.text for c in table.rows[1].cells] == ["1", "1"]


def test_small_nested_table_flattened_into_cell_text() -> None:
    html = "<table><tr><td>标签</td><td><table><tr><td>12</td><td>件</td></tr></table></td></tr><tr><td>x</td><td>y</td></tr></table>"
    (table,) = read_html(html.encode()).blocks
    assert isinstance(table, Table)
    assert [c.text for c in table.rows[0].cells] == ["标签", "12\n件"]


def test_caption_becomes_paragraph() -> None:
    html = "<table><caption>表一</caption><tr><td>a</td><td>b</td></tr></table>"
    blocks = read_html(html.encode()).blocks
    assert isinstance(blocks[0], Paragraph) and blocks[0].text == "表一"
    assert isinstance(blocks[1], Table)


def test_spa_page_with_html_in_js_string(source: bytes, doc: Document) -> None:
    fragment = source.decode("utf-8")
    literal = json.dumps(fragment, ensure_ascii=False)  # "..." with \" escapes
    page = f"<html><head><script>let content = {literal};\nrender(content);</script></head><body><div id=app></div></body></html>"
    spa = read_html(page.encode("utf-8"))
    assert _signature(spa) == _signature(doc)


def test_spa_page_with_unicode_escapes(source: bytes, doc: Document) -> None:
    literal = json.dumps(source.decode("utf-8"), ensure_ascii=True)  # \uXXXX escapes
    page = f"<body><script>window.content = {literal}</script><div id=app>加载中</div></body>"
    assert _signature(read_html(page.encode())) == _signature(doc)


def test_empty_and_unparseable() -> None:
    from tasks.errors import CorruptDocument

    with pytest.raises(CorruptDocument):
        read_html(b"   ")
    assert read_html(b"<html><body></body></html>").blocks == []


def test_comment_only_and_deep_nesting() -> None:
    assert read_html(b"<!-- nothing -->").blocks == []
    deep = b"<div>" * 1000 + "深处的文字".encode() + b"</div>" * 1000
    assert [b.text for b in read_html(deep).blocks] == ["深处的文字"]


def test_javascript_data_file_holding_the_html(source: bytes, doc: Document) -> None:
    literal = json.dumps(source.decode("utf-8"), ensure_ascii=False)
    js = f"let content = {literal};\nexport default content;\n"
    assert _signature(read_html(js.encode("utf-8"))) == _signature(doc)


def test_escaped_quote_spans_tolerated() -> None:
    html = '<table><tr><td colspan=\\"2\\">a</td></tr><tr><td>b</td><td>c</td></tr></table>'
    (table,) = read_html(html.encode()).blocks
    assert isinstance(table, Table) and (table.rows[0].cells[0].x0, table.rows[0].cells[0].x1) == (0, 2)


# --------------------------------------------------------------------------- deep nesting (issue 13)


def test_deep_page_keeps_its_text_past_libxml2s_bound() -> None:
    """libxml2 keeps 2,048 open elements (LIBXML2_MAX_DEPTH) and drops the rest of the page; past that bound the
    page is read again with containers deeper than FLATTEN_DEPTH flattened, so every paragraph is still there."""
    from tasks.extract.html import FLATTEN_DEPTH, LIBXML2_MAX_DEPTH

    body = "<p>一、总体情况</p><div>正文甲</div><span>乙</span><p>二、主动公开</p>"
    for depth in (LIBXML2_MAX_DEPTH - 2, LIBXML2_MAX_DEPTH + 10, 50_000):
        page = "<html><body>" + "<div>" * depth + body + "</div>" * depth + "<p>尾</p></body></html>"
        assert [b.text for b in read_html(page.encode()).blocks] == ["一、总体情况", "正文甲", "乙", "二、主动公开", "尾"], depth
    assert FLATTEN_DEPTH < LIBXML2_MAX_DEPTH // 2


def test_flatten_deep_keeps_text_and_block_edges() -> None:
    from tasks.extract.html import flatten_deep

    page = "<div><div><div>x<span><span>y</span>z</span></div>w<table><tr><td>1</td></tr></table></div></div>"
    assert flatten_deep(page, 1) == "<div><hr>xyz<hr>w<table><tr><td>1</td></tr></table><hr></div>"
    assert flatten_deep(page, 10) == page


def test_deep_table_cells_keep_their_values() -> None:
    """A statistical table inside nested wrappers deeper than the bound: its cells and their blanks stay."""
    table = "<table><tr><td>行政复议</td><td>5</td><td>&nbsp;</td></tr></table>"
    page = "<html><body>" + "<div><span>" * 3_000 + table + "</span></div>" * 3_000 + "</body></html>"
    (t,) = [b for b in read_html(page.encode()).blocks if isinstance(b, Table)]
    assert [c.text for c in t.rows[0].cells] == ["行政复议", "5", ""]


def test_a_lying_charset_declaration_is_not_trusted() -> None:
    """UTF-8 bytes that declare UTF-16 (browsers read them as UTF-8) or GBK decode as UTF-8."""
    body = "<p>2019年某某局政府信息公开工作年度报告</p><p>一、总体情况</p>"
    for meta in ('<meta charset="utf-16">', '<meta charset="UTF-16LE">',
                 '<meta http-equiv="Content-Type" content="text/html; charset=gbk">'):
        page = f"<html><head>{meta}</head><body>{body}</body></html>".encode()
        page += b" " * (len(page) % 2)  # even: decodes cleanly as UTF-16 too
        assert [b.text for b in read_html(page).blocks] == ["2019年某某局政府信息公开工作年度报告", "一、总体情况"], meta
    true_gbk = f'<html><head><meta charset="gbk"></head><body>{body}</body></html>'.encode("gbk")
    assert read_html(true_gbk).blocks[0].text == "2019年某某局政府信息公开工作年度报告"
