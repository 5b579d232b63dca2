"""DOCX reader: the synthetic 2021 sample, grid/vMerge geometry, hostile XML and zip bombs."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import docx
import pytest

from tasks.errors import CorruptDocument, DocumentTooLarge
from tasks.extract.docx import read_docx
from tasks.extract.model import Document, Paragraph, Table
from tasks.spec.t3 import COLUMNS as T3_COLUMNS, ROWS as T3_ROWS

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "synthetic_2021_docx"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@pytest.fixture(scope="module")
def doc() -> Document:
    return read_docx((SAMPLE / "source.docx").read_bytes())


def _table_after(doc: Document, heading: str) -> Table:
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph) and block.text.startswith(heading):
            nxt = doc.blocks[i + 1]
            assert isinstance(nxt, Table)
            return nxt
    raise AssertionError(heading)


def _docx_bytes(d: docx.document.Document) -> bytes:
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _zip_with_document(xml: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _body(inner: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{inner}</w:body></w:document>'.encode()


# --------------------------------------------------------------------------- the sample


def test_sample_blocks(doc: Document) -> None:
    assert doc.media == "docx"
    assert isinstance(doc.blocks[0], Paragraph)
    assert doc.blocks[0].text == "样例县人民政府2023年政府信息公开工作年度报告"
    assert sum(isinstance(b, Table) for b in doc.blocks) == 3


def test_sample_table3_values_match_expected(doc: Document) -> None:
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    values = {(c["row"], c["col"]): c["value"] for c in expected["cells"] if c["table"] == "t3"}
    table = _table_after(doc, "三、收到和处理政府信息公开申请情况")
    rows_2021 = [r for r in T3_ROWS if "2021" in r.formats]
    data_rows = table.rows[3:]
    assert len(data_rows) == len(rows_2021) == 25
    for spec_row, row in zip(rows_2021, data_rows, strict=True):
        grid = {int(c.x0): c for c in row.cells}
        for x, col in zip(range(3, 10), T3_COLUMNS, strict=True):
            assert grid[x].x1 == x + 1
            assert grid[x].text == str(values[(spec_row.key, col.key)]), (spec_row.key, col.key)


def test_sample_table3_merges(doc: Document) -> None:
    table = _table_after(doc, "三、收到和处理政府信息公开申请情况")
    corner = table.rows[0].cells[0]
    assert (corner.x0, corner.x1, corner.rowspan) == (0, 3, 3)
    results = table.rows[5].cells[0]
    assert (results.text, results.x0, results.x1, results.rowspan) == ("三、本年度办理结果", 0, 1, 22)
    other = next(c for r in table.rows for c in r.cells if c.text == "（六）其他处理")
    assert (other.x0, other.x1, other.rowspan) == (1, 2, 3)
    # vMerge continuations are dropped: the row under 三、本年度办理结果 starts at grid column 1
    assert table.rows[6].cells[0].x0 == 1


def test_sample_table2_and_table4(doc: Document) -> None:
    t2 = _table_after(doc, "二、主动公开政府信息情况")
    fees = t2.rows[-1].cells
    assert [(c.text, c.x0, c.x1) for c in fees] == [("行政事业性收费", 0, 1), ("1865.37", 1, 4)]
    t4 = _table_after(doc, "四、政府信息公开行政复议、行政诉讼情况")
    assert [c.x0 for c in t4.rows[-1].cells] == list(range(15))
    assert t4.rows[-1].cells[4].text == "56"


# --------------------------------------------------------------------------- python-docx built files


def test_gridspan_and_vmerge_from_python_docx() -> None:
    d = docx.Document()
    d.add_paragraph("前言")
    t = d.add_table(rows=4, cols=4)
    t.cell(0, 0).merge(t.cell(2, 0)).text = "竖"  # vMerge over 3 rows
    t.cell(0, 1).merge(t.cell(0, 3)).text = "横"  # gridSpan 3
    t.cell(1, 1).text = "a"
    t.cell(1, 2).merge(t.cell(2, 3)).text = "块"  # 2×2 block
    t.cell(2, 1).text = "b"
    for i in range(4):
        t.cell(3, i).text = str(i)
    d.add_paragraph("后记")
    out = read_docx(_docx_bytes(d))
    assert [type(b).__name__ for b in out.blocks] == ["Paragraph", "Table", "Paragraph"]
    table = out.blocks[1]
    assert isinstance(table, Table)
    grid = [[(c.text, c.x0, c.x1, c.rowspan) for c in r.cells] for r in table.rows]
    assert grid == [
        [("竖", 0, 1, 3), ("横", 1, 4, 1)],
        [("a", 1, 2, 1), ("块", 2, 4, 2)],
        [("b", 1, 2, 1)],
        [("0", 0, 1, 1), ("1", 1, 2, 1), ("2", 2, 3, 1), ("3", 3, 4, 1)],
    ]


def test_empty_cells_kept_and_multi_paragraph_cells() -> None:
    d = docx.Document()
    t = d.add_table(rows=1, cols=3)
    t.cell(0, 0).text = "2631"
    t.cell(0, 0).add_paragraph("2")
    t.cell(0, 2).text = "x"
    out = read_docx(_docx_bytes(d))
    (table,) = out.blocks
    assert isinstance(table, Table)
    assert [(c.text, c.x0) for c in table.rows[0].cells] == [("2631\n2", 0), ("", 1), ("x", 2)]


# --------------------------------------------------------------------------- hand-written XML


def test_runs_tabs_breaks_ins_del_hyperlink_sdt_fields() -> None:
    xml = _body(
        "<w:p>"
        "<w:r><w:t>一、</w:t><w:tab/><w:t xml:space='preserve'>总体 </w:t><w:br/><w:t>情况</w:t></w:r>"
        "<w:ins><w:r><w:t>插入</w:t></w:r></w:ins>"
        "<w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
        "<w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink>"
        "<w:smartTag><w:r><w:t>标记</w:t></w:r></w:smartTag>"
        "<w:sdt><w:sdtContent><w:r><w:t>控件</w:t></w:r></w:sdtContent></w:sdt>"
        "<w:r><w:fldChar w:fldCharType='begin'/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>"
        "<w:r><w:fldChar w:fldCharType='separate'/></w:r><w:r><w:t>7</w:t></w:r><w:r><w:fldChar w:fldCharType='end'/></w:r>"
        "</w:p>"
        "<w:p/><w:p><w:r><w:t>   </w:t></w:r></w:p>"
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>块级控件</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    out = read_docx(_zip_with_document(xml))
    assert [b.text for b in out.blocks if isinstance(b, Paragraph)] == [
        "一、\t总体 \n情况插入链接标记控件7",
        "块级控件",
    ]


def test_grid_before_missing_tblgrid_and_nested_table() -> None:
    xml = _body(
        "<w:tbl>"
        "<w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:tr><w:trPr><w:gridBefore w:val='1'/></w:trPr>"
        "<w:tc><w:p><w:r><w:t>C</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>内1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>内2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "</w:tc></w:tr>"
        "<w:tr><w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr><w:p><w:r><w:t>V</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p/></w:tc></w:tr>"
        "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p><w:r><w:t>ignored</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>D</w:t></w:r></w:p></w:tc></w:tr>"
        "</w:tbl>"
    )
    (table,) = read_docx(_zip_with_document(xml)).blocks
    assert isinstance(table, Table)
    grid = [[(c.text, c.x0, c.x1, c.rowspan) for c in r.cells] for r in table.rows]
    assert grid == [
        [("A", 0, 1, 1), ("B", 1, 2, 1)],
        [("C\n内1\n内2", 1, 2, 1)],
        [("V", 0, 1, 2), ("", 1, 2, 1)],
        [("D", 1, 2, 1)],
    ]


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>'
    ).encode()
    with pytest.raises(CorruptDocument) as info:
        read_docx(_zip_with_document(xml))
    assert "TOP-SECRET-VALUE" not in str(info.value)


def test_billion_laughs_refused_quickly() -> None:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{ents}]>'
        f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
    ).encode()
    start = time.monotonic()
    with pytest.raises(CorruptDocument):
        read_docx(_zip_with_document(xml))
    assert time.monotonic() - start < 2.0


def test_zip_bomb_refused_quickly() -> None:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("word/document.xml", "w", force_zip64=True) as fh,
    ):
        chunk = b" " * (1 << 20)
        for _ in range(200):  # 200 MB of spaces, ~200 KB compressed
            fh.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2 << 20
    start = time.monotonic()
    with pytest.raises(DocumentTooLarge):
        read_docx(data)
    assert time.monotonic() - start < 1.0


def test_ratio_check_below_size_limit() -> None:
    xml = _body("<w:p><w:r><w:t>x</w:t></w:r></w:p>" + " " * (8 << 20))
    with pytest.raises(DocumentTooLarge, match="ratio"):
        read_docx(_zip_with_document(xml))


def test_size_limit_parameter() -> None:
    xml = _body("<w:p><w:r><w:t>" + "字" * 5000 + "</w:t></w:r></w:p>")
    data = _zip_with_document(xml)
    assert read_docx(data).blocks
    with pytest.raises(DocumentTooLarge):
        read_docx(data, max_xml_bytes=1000)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, "ZIP"),
        (b"not a zip at all", "ZIP"),
        (_zip_with_document(b"<w:document><w:body>", extra=None), "well-formed"),
    ],
)
def test_corrupt_inputs(data: bytes, match: str) -> None:
    with pytest.raises(CorruptDocument, match=match):
        read_docx(data)


def test_missing_document_xml() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(CorruptDocument, match=r"word/document\.xml"):
        read_docx(buf.getvalue())


def test_truncated_docx(doc: Document) -> None:
    data = (SAMPLE / "source.docx").read_bytes()
    with pytest.raises(CorruptDocument):
        read_docx(data[: len(data) // 2])


def test_damaged_deflate_stream() -> None:
    data = bytearray(_zip_with_document(_body("<w:p><w:r><w:t>" + "abc" * 3000 + "</w:t></w:r></w:p>")))
    idx = data.find(b"word/document.xml") + len("word/document.xml") + 20
    for i in range(idx, idx + 40):
        data[i] ^= 0xFF
    with pytest.raises(CorruptDocument):
        read_docx(bytes(data))


def test_not_a_word_document_root() -> None:
    with pytest.raises(CorruptDocument, match="WordprocessingML"):
        read_docx(_zip_with_document(b"<root/>"))


def test_encrypted_docx_is_ole2() -> None:
    from tasks.errors import EncryptedDocument

    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64
    with pytest.raises(EncryptedDocument):
        read_docx(data)


def test_alternate_content_read_once_and_textbox() -> None:
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    xml = (
        f'<?xml version="1.0"?><w:document xmlns:w="{W}" xmlns:mc="{mc}"><w:body>'
        "<w:p><w:r><w:t>前</w:t></w:r><w:r><mc:AlternateContent>"
        "<mc:Choice Requires='wps'><w:drawing><w:txbxContent><w:p><w:r><w:t>框</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>框</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r></w:p>"
        "</w:body></w:document>"
    ).encode()
    (p,) = read_docx(_zip_with_document(xml)).blocks
    assert isinstance(p, Paragraph) and p.text == "前\n框"
