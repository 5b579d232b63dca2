"""sniff(): the medium from the bytes alone; decode_text(): the shared charset chain."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from tasks.errors import EncryptedDocument, UnsupportedFormat
from tasks.extract.sniff import decode_text, sniff

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip(members: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if stored_first:
            zf.writestr(zipfile.ZipInfo(stored_first), members.pop(stored_first), compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- the samples


def test_samples() -> None:
    assert sniff((SAMPLES / "shanghai_office_2019_html" / "source.html").read_bytes()) == "html"
    assert sniff((SAMPLES / "synthetic_2021_docx" / "source.docx").read_bytes()) == "docx"


# --------------------------------------------------------------------------- PDF


def test_pdf_magic() -> None:
    assert sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") == "pdf"


def test_pdf_after_junk_within_1024_bytes() -> None:
    assert sniff(b"\x00" * 500 + b"%PDF-1.4\n") == "pdf"
    with pytest.raises(UnsupportedFormat):
        sniff(b"\x00" * 2000 + b"%PDF-1.4\n")


def test_pdf_named_html_is_pdf(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_bytes(b"%PDF-1.5\n1 0 obj<<>>endobj\n%%EOF\n")
    assert sniff(path.read_bytes()) == "pdf"


# --------------------------------------------------------------------------- ZIP family


def test_docx_zip() -> None:
    assert sniff(_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})) == "docx"


@pytest.mark.parametrize(
    ("members", "stored_first", "match"),
    [
        ({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}, None, "Excel"),
        ({"ppt/presentation.xml": b"<p/>"}, None, "PowerPoint"),
        ({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}, "mimetype", "ODT"),
        ({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "a/B.class": b"\xca\xfe"}, None, "JAR"),
        ({"readme.txt": b"hello"}, None, "without word/document.xml"),
    ],
)
def test_other_zips_unsupported(members: dict[str, bytes], stored_first: str | None, match: str) -> None:
    with pytest.raises(UnsupportedFormat, match=match):
        sniff(_zip(dict(members), stored_first=stored_first))


def test_unreadable_zip_unsupported() -> None:
    with pytest.raises(UnsupportedFormat, match="ZIP"):
        sniff(b"PK\x03\x04" + b"\x01" * 200)


# --------------------------------------------------------------------------- OLE2


def test_ole2_doc_is_legacy_word() -> None:
    data = OLE2 + b"\x00" * 504 + "WordDocument".encode("utf-16-le") + b"\x00" * 100
    with pytest.raises(UnsupportedFormat, match=r"legacy Word/WPS \.doc binary format; convert to DOCX or PDF"):
        sniff(data)


def test_ole2_encrypted_office() -> None:
    data = OLE2 + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64
    data += "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(EncryptedDocument, match="password-protected Office document"):
        sniff(data)


def test_ole2_xls() -> None:
    with pytest.raises(UnsupportedFormat, match="Excel"):
        sniff(OLE2 + b"\x00" * 504 + "Workbook".encode("utf-16-le"))


# --------------------------------------------------------------------------- binary signatures


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"])
def test_png_and_jpeg_are_images_for_ocr(data: bytes) -> None:
    """A scan or a screenshot uploaded as a picture is read by OCR (tasks/extract/ocr.py)."""
    assert sniff(data) == "image"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"GIF89a\x01\x00\x01\x00", "GIF"),
        (b"GIF87a\x01\x00\x01\x00", "GIF"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF"),
        (b"MM\x00*\x00\x00\x00\x08", "TIFF"),
        (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00", "BMP"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"Rar!\x1a\x07\x01\x00", "RAR"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (b"BZh91AY&SY\x00", "bzip2"),
        (b"\xfd7zXZ\x00\x00", "xz"),
        (b"\x7fELF\x02\x01\x01\x00", "ELF"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "Windows executable"),
        (b"{\\rtf1\\ansi\\deff0", "RTF"),
        (b"\x00\x00\x00\x18ftypmp42", "MP4"),
        (b"SQLite format 3\x00", "SQLite"),
    ],
)
def test_binary_signatures(data: bytes, match: str) -> None:
    with pytest.raises(UnsupportedFormat, match=match):
        sniff(data + bytes(range(256)))


def test_tar_archive() -> None:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("a.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(UnsupportedFormat, match="tar"):
        sniff(buf.getvalue())


def test_random_bytes_unsupported() -> None:
    rng = random.Random(20240101)
    for _ in range(20):
        with pytest.raises(UnsupportedFormat):
            sniff(rng.randbytes(4096))


def test_high_bytes_without_nul_unsupported() -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(0x80, 0x100) for _ in range(4096))
    with pytest.raises(UnsupportedFormat):
        sniff(data)


@pytest.mark.parametrize("data", [b"", b"   ", b"\n\r\n\t  \n", b"\xef\xbb\xbf  \n", "  \n".encode("utf-16")])
def test_empty(data: bytes) -> None:
    with pytest.raises(UnsupportedFormat, match="empty file"):
        sniff(data)


# --------------------------------------------------------------------------- HTML and text


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><head></head><body></body></html>",
        b"\n\n  <html lang='zh'><body><p>x</p></body></html>",
        b"<p style='text-align:center'>2019\xe5\xb9\xb4</p><p>x</p>",
        "<div>政府信息公开</div>".encode("gbk"),
        b"<table><tr><td>1</td></tr></table>",
        "<br/>第一行<br/>第二行".encode(),
        "\ufeff<html><body>年度报告</body></html>".encode("utf-8"),
        "<html><body>年度报告</body></html>".encode("utf-16"),
        "<html><body>年度报告</body></html>".encode("utf-16-le"),
        ("x" * 2000 + "<p>a</p><div>b</div><span>c</span><p>d</p>").encode(),
    ],
)
def test_html(data: bytes) -> None:
    assert sniff(data) == "html"


@pytest.mark.parametrize(
    "data",
    [
        "济宁经济技术开发区\n\n2021年政府信息公开工作年度报告\n一、总体情况\n".encode(),
        "一、总体情况\n本年新收申请 12 件。".encode("gbk"),
        "一、总体情况\n本年新收申请 12 件。".encode("gb18030"),
        "一、總體情況\n本年新收申請 12 件。".encode("big5"),
        "一、总体情况\r\n".encode("utf-16"),
        "一、总体情况 x < y 且 a > b".encode(),
        b"plain ascii report\n",
        "BM 开头的文字 and MZ".encode(),
    ],
)
def test_text(data: bytes) -> None:
    assert sniff(data) == "text"


def test_text_sample_if_present() -> None:
    path = SAMPLES / "jining_org_dept_2021_text" / "source.txt"
    if path.exists():
        assert sniff(path.read_bytes()) == "text"


# --------------------------------------------------------------------------- decode_text


def test_decode_text_chain() -> None:
    s = "政府信息公开工作年度报告 “三安全一稳定” 镕"
    assert decode_text(s.encode("utf-8")) == s
    assert decode_text(s.encode("gbk")) == s
    assert decode_text(s.encode("gb18030")) == s
    assert decode_text(b"\xef\xbb\xbf" + s.encode("utf-8")) == s
    assert decode_text(s.encode("utf-16")) == s
    assert decode_text(s.encode("gbk"), declared="gb2312") == s  # widened to GB18030
    assert decode_text(s.encode("gbk"), declared="utf-8") == s  # wrong declaration falls through
    assert decode_text(s.encode("utf-8"), declared="no-such-charset") == s
    big5 = "政府資訊公開"
    assert decode_text(big5.encode("big5"), declared="big5") == big5


def test_decode_text_declared_wins_when_strict() -> None:
    # bytes valid in both UTF-8 and GB18030: the declaration decides
    s = "政府"
    gbk = s.encode("gbk")
    assert decode_text(gbk, declared="gbk") == s


def test_decode_text_last_resort_replaces() -> None:
    out = decode_text(b"abc\xff\xfe\xfd\x80\x80" * 3 + b"\x81")
    assert "abc" in out


def test_utf16_without_bom() -> None:
    ascii_heavy = "<html><body><p>Annual report 2021</p></body></html>"
    assert sniff(ascii_heavy.encode("utf-16-le")) == "html"
    cjk_heavy = "一、总体情况\n本机关全年收到政府信息公开申请十二件，均已按期答复。\n"
    for enc in ("utf-16-le", "utf-16-be"):
        assert sniff(cjk_heavy.encode(enc)) == "text"
        assert decode_text(cjk_heavy.encode(enc)) == cjk_heavy


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "SVG"),
        (b'<?xml version="1.0"?><?mso-application progid="Word.Document"?><w:wordDocument/>', "Word 2003 XML"),
        (b'<?xml version="1.0"?><rss><channel><item/></channel></rss>', "XML"),
    ],
)
def test_non_html_xml_unsupported(data: bytes, match: str) -> None:
    with pytest.raises(UnsupportedFormat, match=match):
        sniff(data)


def test_xhtml_is_html() -> None:
    data = b'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>x</p></body></html>'
    assert sniff(data) == "html"


def test_decode_text_uses_a_declaration_only_on_evidence() -> None:
    """A declared charset is used only if the bytes decode strictly and read as text in it; otherwise sniffed."""
    page = '<html><head><meta charset="utf-16"></head><body><p>政府信息公开工作年度报告</p></body></html>'
    data = page.encode("utf-8")
    data += b" " * (len(data) % 2)
    assert data.decode("utf-16")  # it does decode cleanly, into mojibake
    assert decode_text(data, declared="utf-16").rstrip() == page
    real = page.encode("utf-16")
    assert decode_text(real, declared="utf-16") == page


def test_a_browser_copy_mostly_of_nbsp_cells_is_text() -> None:
    # a page whose empty cells are &nbsp;: the copy is mostly NBSP, TAB and newline lines (and U+3000 indents)
    cells = "\n\n\xa0\n\n\t" * 400
    data = ("样例县农业农村局2023年政府信息公开工作年度报告\n\u3000\u3000一、总体情况\n" + cells + "\n1\n").encode()
    assert sniff(data) == "text"


def test_control_characters_that_python_counts_as_spaces_are_not_text() -> None:
    # str.isspace() is true for the C0 separators \x1c–\x1f, \x0b and \x85: they do not make bytes text
    rng = random.Random(11)
    data = bytes(rng.choice(b"\x1c\x1d\x1e\x1f\x0b") for _ in range(4000)) + "报告".encode()
    with pytest.raises(UnsupportedFormat):
        sniff(data)
