"""Build hostile and broken inputs in memory, for the hostile-input, fuzz and fault tests.

    python tests/hostile/generate.py OUTDIR [--only NAME ...] [--list]

Nothing here is committed as a binary: every input is made by a function below from the sample
reports (tests/fixtures/samples), the generated fixtures (tests/fixtures/generated, used when
present) or from scratch. `CASES` lists them with the outcome each must have (see README.md):
an exact error type, or "ok" (a correct extraction). Builders are deterministic (seeded).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import random
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
SAMPLES = TESTS / "fixtures" / "samples"
GENERATED = TESTS / "fixtures" / "generated"

HONGZE_PDF = SAMPLES / "hongze_2024_pdf" / "source.pdf"
SYNTH_PDF = SAMPLES / "synthetic_2021_pdf" / "source.pdf"
SYNTH_DOCX = SAMPLES / "synthetic_2021_docx" / "source.docx"
SHANGHAI_HTML = SAMPLES / "shanghai_office_2019_html" / "source.html"
JINING_TEXT = SAMPLES / "jining_org_dept_2021_text" / "source.txt"


def sample_bytes(path: Path) -> bytes:
    return _read(str(path))


@functools.cache
def _read(path: str) -> bytes:
    return Path(path).read_bytes()


# ============================================================================ PDF building blocks

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def stream(data: bytes, extra: bytes = b"", flate: bool = False) -> bytes:
    """The body of a stream object (dictionary + stream), optionally Flate-compressed."""
    if flate:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length " + str(len(data)).encode() + extra + b" >>\nstream\n" + data + b"\nendstream"


def build_pdf(objects: list[bytes], trailer: bytes = b"/Root 1 0 R", file_id: bytes | None = None) -> bytes:
    """A PDF with objects numbered 1..n in order, a classic xref table and a trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(n).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    if file_id is not None:
        trailer += b" /ID [<" + file_id.hex().encode() + b"> <" + file_id.hex().encode() + b">]"
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" " + trailer + b" >>\n"
    out += b"startxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def one_page_pdf(content: bytes, flate: bool = False, resources: bytes = b"/Font << /F1 5 0 R >>") -> bytes:
    """Catalog 1, Pages 2, Page 3, Contents 4, Font 5."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << "
            + resources
            + b" >> >>",
            stream(content, flate=flate),
            _FONT,
        ]
    )


def text_op(x: float, y: float, s: str, size: int = 12) -> bytes:
    return f"BT /F1 {size} Tf {x} {y} Td ({s}) Tj ET\n".encode("latin-1")


def encrypted_pdf(content: bytes, user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF encrypted with the standard security handler, RC4 40-bit (V1 R2)."""
    file_id = hashlib.md5(content).digest()
    perms = -4
    o_key = hashlib.md5((owner_password + _PAD)[:32]).digest()[:5]
    o_value = rc4(o_key, (user_password + _PAD)[:32])
    key = hashlib.md5((user_password + _PAD)[:32] + o_value + struct.pack("<i", perms) + file_id).digest()[:5]
    u_value = rc4(key, _PAD)
    obj_key = hashlib.md5(key + struct.pack("<i", 4)[:3] + b"\x00\x00").digest()[:10]
    encrypt = (
        b"<< /Filter /Standard /V 1 /R 2 /O <" + o_value.hex().encode() + b"> /U <"
        + u_value.hex().encode() + b"> /P " + str(perms).encode() + b" >>"
    )  # fmt: skip
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        stream(rc4(obj_key, content)),
        _FONT,
        encrypt,
    ]
    return build_pdf(objects, trailer=b"/Root 1 0 R /Encrypt 6 0 R", file_id=file_id)


# ============================================================================ PDFs


def truncated_pdf(path: Path, fraction: float) -> bytes:
    data = sample_bytes(path)
    return data[: int(len(data) * fraction)]


def pdf_header_random(seed: int = 1, size: int = 64 * 1024) -> bytes:
    return b"%PDF-1.7\n" + random.Random(seed).randbytes(size)


def pdf_pages_loop() -> bytes:
    """The page tree's Kids point back to the Pages node itself."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
        ]
    )


def pdf_self_reference() -> bytes:
    """An indirect object that is a reference to itself, used as the Contents and the Length."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources 4 0 R >>",
            b"4 0 R",
        ]
    )


def pdf_xref_loop() -> bytes:
    """Two xref sections whose /Prev point at each other; the catalog is missing from both."""
    body = bytearray(b"%PDF-1.4\n")
    off1 = len(body)
    body += b"1 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    first = len(body)
    # the first section's /Prev is patched to the second section's offset (fixed width)
    body += b"xref\n0 2\n0000000000 65535 f \n" + f"{off1:010d} 00000 n \n".encode()
    body += b"trailer\n<< /Size 2 /Root 9 0 R /Prev PREVPREVPR >>\n"
    second = len(body)
    body += b"xref\n0 2\n0000000000 65535 f \n" + f"{off1:010d} 00000 n \n".encode()
    body += b"trailer\n<< /Size 2 /Root 9 0 R /Prev " + str(first).encode() + b" >>\n"
    body += b"startxref\n" + str(first).encode() + b"\n%%EOF\n"
    return bytes(body).replace(b"PREVPREVPR", str(second).encode().ljust(10))


def pdf_deep_nesting(depth: int = 100_000) -> bytes:
    """A content stream of nested arrays 100k deep (the PostScript parser's stack)."""
    notice = "Notice line {}: the office will be closed on Monday."
    lines = b"".join(text_op(72, 800 - 14 * i, notice.format(i)) for i in range(20))
    return one_page_pdf(b"[" * depth + b"]" * depth + b"\n" + lines, flate=True)


@functools.lru_cache(maxsize=2)
def pdf_flate_bomb(megabytes: int = 200) -> bytes:
    """A content stream that inflates to `megabytes` MB of zeros (about 1000:1)."""
    comp = zlib.compressobj(9)
    chunk = bytes(2**20)
    parts = [comp.compress(chunk) for _ in range(megabytes)]
    data = b"".join(parts) + comp.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length " + str(len(data)).encode() + b" /Filter /FlateDecode >>\nstream\n" + data + b"\nendstream",
    ]
    return build_pdf(objects)


@functools.lru_cache(maxsize=2)
def pdf_many_operators(n: int = 2_000_000) -> bytes:
    """A content stream of `n` tiny path operators (slow: one layout object per segment)."""
    ops = b"1 0 0 1 0 0 cm 10 10 m 20 20 l S\n" * (n // 2)
    return one_page_pdf(ops, flate=True)


def pdf_encrypted() -> bytes:
    return encrypted_pdf(text_op(72, 720, "Annual report 2023"), user_password=b"secret")


def _image_page_objects(first: int, w: int, h: int, seed: int) -> list[bytes]:
    """Page (first), its content (first+1) and a grey image XObject (first+2) filling the page."""
    rng = random.Random(seed)
    rows = []
    for y in range(h):
        base = 235 if (y // 12) % 6 else 40  # dark bands: "lines of text" in the picture
        rows.append(b"\x00" + bytes(min(255, max(0, base + rng.randint(-20, 20))) for _ in range(w)))
    pixels = b"".join(rows)
    img = stream(
        pixels,
        b" /Type /XObject /Subtype /Image /Width " + str(w).encode() + b" /Height " + str(h).encode()
        + b" /ColorSpace /DeviceGray /BitsPerComponent 8 /DecodeParms << /Predictor 15 /Columns "
        + str(w).encode() + b" >>",
        flate=True,
    )  # fmt: skip
    content = stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q\n")
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents " + str(first + 1).encode()
        + b" 0 R /Resources << /XObject << /Im1 " + str(first + 2).encode() + b" 0 R >> >> >>"
    )  # fmt: skip
    return [page, content, img]


def pdf_scanned(pages: int = 2) -> bytes:
    """Pages that are only a picture (a scan): no text layer. Built from scratch (no imaging library)."""
    objs: list[bytes] = [b"", b""]
    kids = []
    for p in range(pages):
        first = len(objs) + 1
        kids.append(f"{first} 0 R".encode())
        objs += _image_page_objects(first, 200, 280, seed=p)
    objs[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count " + str(pages).encode() + b" >>"
    return build_pdf(objs)


def pdf_scan_many_pages(pages: int = 10_000) -> bytes:
    """A 10,000-page scan: every page draws the same small grey picture (one shared XObject, so
    the file stays small) and has no text layer."""
    objs: list[bytes] = [b"", b"", b"", b""]
    page, content, img = _image_page_objects(3, 64, 90, seed=1)
    objs[2], objs[3] = content, img
    kids = []
    for _ in range(pages):
        objs.append(page.replace(b"/Contents 4 0 R", b"/Contents 3 0 R").replace(b"/Im1 5 0 R", b"/Im1 4 0 R"))
        kids.append(f"{len(objs)} 0 R".encode())
    objs[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count " + str(pages).encode() + b" >>"
    return build_pdf(objs)


def png_bomb(side: int = 100_000) -> bytes:
    """A decompression-bomb PNG: its header declares side × side grey pixels (10 Gpx for 100,000),
    its data is a few KB of zlib that would inflate to all of them."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    comp = zlib.compressobj(9)
    row = b"\x00" + bytes(side)
    data = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()  # the first rows only: enough to lie
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )  # fmt: skip


def pdf_scanned_fixture() -> bytes:
    """The generated scanned-report fixture (JPEG pages) when present, else `pdf_scanned()`."""
    path = GENERATED / "pdf_2021_scanned" / "source.pdf"
    return sample_bytes(path) if path.exists() else pdf_scanned()


# ============================================================================ text, HTML


def gbk_text() -> bytes:
    """The jining text report re-encoded in GB18030, with no declaration or BOM."""
    return sample_bytes(JINING_TEXT).decode("utf-8").encode("gb18030")


def text_without_table4() -> bytes:
    """The jining text report with the table of section 四 deleted (its heading and section 五 kept)."""
    text = sample_bytes(JINING_TEXT).decode("utf-8")
    m = re.search(r"^四、[^\n]*\n(.*?)^五、", text, re.S | re.M)
    assert m, "section 四 not found in the jining sample"
    return (text[: m.start(1)] + "\n" + text[m.end(1) :]).encode("utf-8")


NOTICE_TITLE = "关于做好2024年春节期间安全生产工作的通知"
NOTICE_BODY = [
    "各镇人民政府、街道办事处，区直各部门：",
    "春节将至，为切实做好节日期间安全生产工作，确保人民群众过一个安定祥和的节日，现将有关事项通知如下。",
    "一是加强组织领导，落实安全生产责任制，主要负责同志要亲自部署、亲自检查。",
    "二是开展隐患排查，重点检查人员密集场所、危险化学品企业和建筑施工工地。",
    "三是严格值班值守，实行24小时值班和领导带班制度，遇有重大情况及时报告。",
    "特此通知。",
    "某某区人民政府办公室",
    "2024年1月25日",
]


def notice_text() -> bytes:
    return ("\n\n".join([NOTICE_TITLE, *NOTICE_BODY]) + "\n").encode("utf-8")


def notice_html() -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in NOTICE_BODY)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知</title></head><body>'
        f"<h1>{NOTICE_TITLE}</h1>{paras}</body></html>"
    ).encode()


def notice_docx() -> bytes:
    from docx import Document as DocxDocument

    doc = DocxDocument()
    doc.add_heading(NOTICE_TITLE, level=1)
    for p in NOTICE_BODY:
        doc.add_paragraph(p)
    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())


def notice_pdf() -> bytes:
    """The generated not-a-report PDF fixture when present, else the notice DOCX through LibreOffice."""
    fixture = GENERATED / "pdf_notice_not_report" / "source.pdf"
    if fixture.exists():
        return sample_bytes(fixture)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "notice.docx"
        src.write_bytes(notice_docx())
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", "pdf",
             "--outdir", tmp, str(src)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
        return (Path(tmp) / "notice.pdf").read_bytes()


def html_deep_nesting(depth: int = 100_000) -> bytes:
    return (b"<html><body>" + b"<div>" * depth + "深".encode() + b"</div>" * depth + b"</body></html>")


def html_report_deep(depth: int) -> bytes:
    """The Shanghai HTML report inside `depth` nested <div>s (a site template's wrappers, a web editor's nesting).
    libxml2 keeps at most 2,048 open elements even with huge_tree and drops everything past them."""
    body = sample_bytes(SHANGHAI_HTML)
    return b"<html><body>" + b'<div class="w">' * depth + body + b"</div>" * depth + b"</body></html>"


def html_report_deep_spans(depth: int = 5_000) -> bytes:
    """The Shanghai report inside nested inline <span style> (as web editors nest styles), titles included."""
    body = sample_bytes(SHANGHAI_HTML)
    return b"<html><body>" + b'<span style="font-size:16px">' * depth + body + b"</span>" * depth + b"</body></html>"


def html_report_lying_charset() -> bytes:
    """The Shanghai report (UTF-8 bytes) declaring <meta charset="utf-16">, which browsers read as UTF-8; an even
    number of bytes, so that they also decode cleanly as UTF-16 (into mojibake)."""
    page = b'<html><head><meta charset="utf-16"></head><body>' + sample_bytes(SHANGHAI_HTML) + b"</body></html>"
    return page + b"\n" * (len(page) % 2)


def html_report_lying_charset_gbk() -> bytes:
    """The Shanghai report in UTF-8 declaring charset=gbk in an http-equiv <meta>."""
    head = b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head><body>'
    return head + sample_bytes(SHANGHAI_HTML) + b"</body></html>"


def text_single_line(megabytes: int = 50) -> bytes:
    """One 50 MB line of CJK and ASCII text with no line break."""
    unit = "政府信息公开工作年度报告 0 1 2 3 数据 ".encode()
    return (unit * (megabytes * 2**20 // len(unit) + 1))[: megabytes * 2**20]


def text_report_many_lines(lines: int = 10**7) -> bytes:
    """The jining text report followed by 10^7 short lines ("0"): the lines beyond the text reader's
    bound (tasks.extract.text.MAX_LINES) cost nothing, the report is read."""
    return sample_bytes(SAMPLES / "jining_org_dept_2021_text" / "source.txt") + b"\n" + b"0\n" * lines


XXE_DTD = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS_DTD = (
    '<!DOCTYPE r [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def xhtml_xxe() -> bytes:
    return (
        '<?xml version="1.0"?>' + XXE_DTD.replace("r [", "html [")
        + '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&xxe;</p><p>通知</p></body></html>'
    ).encode()  # fmt: skip


def xhtml_billion_laughs() -> bytes:
    return (
        '<?xml version="1.0"?>' + LAUGHS_DTD.replace("r [", "html [")
        + '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&lol9;</p></body></html>'
    ).encode()  # fmt: skip


def xhtml_report_xxe() -> bytes:
    """The Shanghai HTML report with a DOCTYPE declaring an external entity, used in its first paragraph."""
    html = sample_bytes(SHANGHAI_HTML).decode("utf-8")
    html = re.sub(r"^\s*<!DOCTYPE[^>]*>", "", html, flags=re.I)
    html = XXE_DTD.replace("r [", "html [") + html
    html = re.sub(r"(<p[^>]*>)", r"\1&xxe;", html, count=1)
    return html.encode("utf-8")


def svg_image() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>' + XXE_DTD.replace("r [", "svg [")
        + '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&xxe;</text>'
        '<rect width="10" height="10"/></svg>'
    ).encode()  # fmt: skip


def xml_data() -> bytes:
    return '<?xml version="1.0" encoding="UTF-8"?><data><row a="1">政府信息</row></data>'.encode()


# ============================================================================ ZIP / DOCX


def _deterministic_zip(data: bytes) -> bytes:
    """Re-pack a ZIP with fixed timestamps so the bytes (and their sha256) are reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def replace_member(docx: bytes, name: str, data: bytes) -> bytes:
    """A copy of a ZIP with member `name` replaced by `data` (the others copied as they are)."""
    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = data if info.filename == name else src.read(info.filename)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def document_xml(docx: bytes | None = None) -> bytes:
    return zipfile.ZipFile(io.BytesIO(docx or sample_bytes(SYNTH_DOCX))).read("word/document.xml")


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_zip_bomb(megabytes: int = 200) -> bytes:
    """word/document.xml inflating to `megabytes` MB (a valid start, then whitespace)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(zipfile.ZipInfo("[Content_Types].xml", (2024, 1, 1, 0, 0, 0)), b"<Types/>")
        info = zipfile.ZipInfo("word/document.xml", (2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as fh:
            fh.write(f"<w:document {_W}><w:body>".encode())
            chunk = b" " * 2**20
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")
    return out.getvalue()


def docx_lying_size_bomb(megabytes: int = 100) -> bytes:
    """A zip bomb whose headers claim document.xml is 1 KB (the reader must count what it inflates)."""
    data = bytearray(docx_zip_bomb(megabytes))
    # patch the uncompressed size in the local header and the central directory record of document.xml
    name = b"word/document.xml"
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = 0
        while (pos := data.find(sig, pos)) != -1:
            if data[pos + name_at : pos + name_at + len(name)] == name:
                if data[pos + size_at : pos + size_at + 4] != b"\xff\xff\xff\xff":
                    data[pos + size_at : pos + size_at + 4] = struct.pack("<I", 1024)
                extra_len_at = 28 if sig == b"PK\x03\x04" else 30
                extra_len = struct.unpack_from("<H", data, pos + extra_len_at)[0]
                extra = pos + name_at + len(name)
                _patch_zip64_size(data, extra, extra_len)
            pos += 4
    return bytes(data)


def _patch_zip64_size(data: bytearray, start: int, length: int) -> None:
    i = start
    while i + 4 <= start + length:
        tag, size = struct.unpack_from("<HH", data, i)
        if tag == 1 and size >= 8:
            struct.pack_into("<Q", data, i + 4, 1024)
        i += 4 + size


def docx_with_xml(xml: bytes) -> bytes:
    return replace_member(sample_bytes(SYNTH_DOCX), "word/document.xml", xml)


def _docx_with_dtd(declaration: str, dtd: str, entity: str) -> bytes:
    """The synthetic DOCX whose document.xml declares `dtd` and uses `&entity;` in its first text run."""
    body = re.sub(r"^<\?xml[^>]*\?>", "", document_xml().decode("utf-8"))
    xml = declaration + dtd.replace("r [", "w:document [") + body
    return docx_with_xml(xml.replace("<w:t>", f"<w:t>&{entity};", 1).encode("utf-8"))


def docx_xxe() -> bytes:
    return _docx_with_dtd('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', XXE_DTD, "xxe")


def docx_billion_laughs() -> bytes:
    return _docx_with_dtd('<?xml version="1.0" encoding="UTF-8"?>', LAUGHS_DTD, "lol9")


def xlsx_like() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in (
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<workbook/>"),
            ("xl/worksheets/sheet1.xml", b"<worksheet/>"),
        ):
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), body)
    return out.getvalue()


def zip_header_random(seed: int = 2) -> bytes:
    return b"PK\x03\x04" + random.Random(seed).randbytes(16 * 1024)


# ============================================================================ other formats


def png_image() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    w = h = 8
    raw = b"".join(b"\x00" + bytes([x * 30 % 256 for x in range(w)]) for _ in range(h))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )  # fmt: skip


def legacy_doc() -> bytes:
    """An OLE2 compound file header with a "WordDocument" stream name (a Word 97-2003 .doc)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HH", 0x3E, 3) + b"\xfe\xff"
    header = header.ljust(512, b"\xff")
    directory = "Root Entry".encode("utf-16-le").ljust(64, b"\x00") + bytes(64)
    directory += "WordDocument".encode("utf-16-le").ljust(64, b"\x00") + bytes(64)
    return header + directory + random.Random(3).randbytes(4096)


def oversized(size: int = 3 * 2**20) -> bytes:
    """A plain text file of about `size` bytes: run with a smaller limit (max_bytes / XXGK_EXTRACT_MAX_BYTES)."""
    line = "政府信息公开工作年度报告\n".encode()
    return line * (size // len(line) + 1)


OVERSIZED_LIMIT = 2 * 2**20
"""The limit the tests set for the `oversized` case (2 MB; the file is 3 MB, every other light case is smaller)."""


# ============================================================================ poison numbers

POISON_2021: dict[tuple[str, str, str], tuple[str, object]] = {
    # (table, row, col): (printed, the value it must publish; None = out_of_range, raw kept)
    ("t2", "regulations", "issued"): ("99999999999999", 99999999999999),  # the largest count that fits
    ("t2", "normative_documents", "issued"): ("100000000000000", None),  # 10^14: one digit too many
    ("t2", "normative_documents", "in_force"): ("1" + "0" * 30, None),  # 10^30
    ("t2", "administrative_fees", "fee_amount"): ("99999999999.9999", "99999999999.9999"),  # 15 significant digits
    ("t3", "new_received", "natural_person"): ("123456789012345", None),  # 15 digits
    ("t3", "carried_over", "natural_person"): ("99,999,999,999,999", 99999999999999),
    ("t3", "total_processed", "total"): ("0", 0),
    ("t4", "admin_review", "total"): ("9223372036854775807", None),  # int64's maximum does not fit decimal128(18, 4)
    ("t4", "litigation_direct", "upheld"): ("99999999999999999999", None),  # past int64
}
POISON_2019: dict[tuple[str, str, str], tuple[str, object]] = {
    ("t2", "administrative_licensing", "items_change"): ("-99999999999999", -99999999999999),  # signed minimum
    ("t2", "administrative_penalty", "items_change"): ("-100000000000000", None),
    ("t2", "centralized_procurement", "procurement_amount"): ("0.12345", None),  # five decimals: never rounded
    ("t3", "new_received", "total"): ("100000000000000000000000000000000000000000", None),  # 10^41
}


POISON_CASES = {
    "poison_numbers_html": ("2021", "毒数县人民政府"),
    "poison_numbers_text": ("2021", "毒数区人民政府"),
    "poison_numbers_docx": ("2019", "毒数市交通运输局"),
}
"""Poison-number cases → (layout, agency) of their report; `poison_expected(name)` is their exact outcome."""


@functools.lru_cache(maxsize=1)
def _fixture_model():  # type: ignore[no-untyped-def]
    """The fixture generator's report model and renderers (tests/fixtures/generate.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("xxgk_fixture_generator", TESTS / "fixtures" / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@functools.lru_cache(maxsize=4)
def poison_report(name: str):  # type: ignore[no-untyped-def]
    """The generated report of a poison case: its cells of POISON_<year> print the extremes (and past them)."""
    fx = _fixture_model()
    layout, agency = POISON_CASES[name]
    poison = POISON_2021 if layout == "2021" else POISON_2019
    year, seed = (2023, 7101) if layout == "2021" else (2019, 7102)
    rep = fx.base(f"poison_{layout}", agency, year, layout, seed=seed)
    for key, (printed, value) in poison.items():
        rep.printed[key] = printed
        if value is None:
            rep.expected[key] = {"value": None, "status": "out_of_range", "raw": printed}
        else:
            rep.expected[key] = {"value": int(value) if isinstance(value, int) else float(value),
                                 "status": "reported", "raw": printed}  # fmt: skip
    return rep


def poison_expected(name: str) -> dict:
    """The expected.json of a poison case: every cell exactly (the poisoned ones with their raw)."""
    rep = poison_report(name)
    return {"agency": rep.agency, "year": rep.year, "format_version": rep.layout, "cells": rep.expected_cells()}


def poison_html() -> bytes:
    return _fixture_model().build_html(poison_report("poison_numbers_html")).encode("utf-8")


def poison_text() -> bytes:
    return _fixture_model().build_text(poison_report("poison_numbers_text")).encode("utf-8")


def poison_docx() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "poison.docx"
        _fixture_model().build_docx(poison_report("poison_numbers_docx"), path)
        return _deterministic_zip(path.read_bytes())



def pdf_append_pages(data: bytes, contents: list[bytes], fanout: int = 100) -> bytes:
    """An incremental update adding pages after a PDF's own (one page per content stream, b"" for a
    blank page): a new page tree (nodes of `fanout` kids) whose first kid is the old tree, a new
    catalog, one xref section chained to the old one by /Prev."""
    trailer = data[data.rindex(b"trailer") :]
    size = int(re.search(rb"/Size (\d+)", trailer).group(1))
    root = int(re.search(rb"/Root (\d+) 0 R", trailer).group(1))
    catalog_body = re.search(rb"\n%d 0 obj(.*?)endobj" % root, data, re.S).group(1)
    old_pages = int(re.search(rb"/Pages (\d+) 0 R", catalog_body).group(1))
    prev = int(re.search(rb"startxref\s+(\d+)", trailer).group(1))
    objs: list[bytes] = []  # numbered size, size + 1, …

    def new(body: bytes = b"") -> int:
        objs.append(body)
        return size + len(objs) - 1

    font, catalog, top = new(_FONT), new(), new()
    nodes: list[int] = []
    for content in contents:
        page = new()
        body = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >>" % (
            top, font)  # fmt: skip
        if content:
            body += b" /Contents %d 0 R" % new(stream(content))
        objs[page - size] = body + b" >>"
        nodes.append(page)
    counts = [1] * len(nodes)
    while len(nodes) > fanout:
        groups = [(nodes[i : i + fanout], sum(counts[i : i + fanout])) for i in range(0, len(nodes), fanout)]
        nodes = [new(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), n))
                 for kids, n in groups]  # fmt: skip
        counts = [n for _, n in groups]
    kids = b" ".join(b"%d 0 R" % k for k in [old_pages, *nodes])
    objs[top - size] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(contents) + 1)
    objs[catalog - size] = b"<< /Type /Catalog /Pages %d 0 R >>" % top
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = []
    for i, body in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (size + i) + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n%d %d\n" % (size, len(objs)) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size + len(objs), catalog, prev, xref)  # fmt: skip
    return bytes(out)


def pdf_report_then_blank_pages(n: int = 40_000) -> bytes:
    """The synthetic sample report followed by `n` blank pages (issue 13: at 100 already a "scan")."""
    return pdf_append_pages(sample_bytes(SYNTH_PDF), [b""] * n)


def digit_grid(rows: int = 400, cols: int = 500, seed: int = 13) -> bytes:
    """A content stream of `rows` × `cols` 1-pt digits one point apart (each row one TJ array: -444
    moves the next 0.556-wide glyph to the next point)."""
    rng = random.Random(seed)
    ops = [b"BT /F1 1 Tf 1.5 TL 40 800 Td"]
    for _ in range(rows):
        ops.append(b"[" + b" -444 ".join(b"(%d)" % rng.randrange(10) for _ in range(cols)) + b"] TJ T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def pdf_report_then_digit_grid(rows: int = 400, cols: int = 500) -> bytes:
    """The synthetic sample report, then a page holding a grid of 1-pt digits (issue 13: an
    IndexError in the reader's geometry, turned into CorruptDocument, lost the report)."""
    return pdf_append_pages(sample_bytes(SYNTH_PDF), [digit_grid(rows, cols)])


# ============================================================================ control characters

JINING_AGENCY = "济宁经济技术开发区党工委组织部"
SHANGHAI_AGENCY = "上海市人民政府办公厅"


def text_utf16_controls() -> bytes:
    """The jining text in UTF-16 (a BOM: NULs are text there) with a NUL inside the agency name, an
    ESC inside a table value ("2␛4"), a right-to-left override and a BEL in section 一's heading."""
    text = sample_bytes(JINING_TEXT).decode("utf-8")
    text = text.replace(JINING_AGENCY, "济宁经济技术开发区\x00党工委组织部", 1).replace("\t24\n", "\t2\x1b4\n", 1)
    return text.replace("一、总体情况", "一、总体\u202e情况\x07", 1).encode("utf-16")


def html_controls() -> bytes:
    """The Shanghai report with a character reference to U+0001 inside the agency name, and a bidi
    override (U+202E) and DEL (U+007F) in section 一's heading."""
    html = sample_bytes(SHANGHAI_HTML).decode("utf-8")
    html = html.replace(SHANGHAI_AGENCY, "上海市&#1;人民政府办公厅", 1)
    return html.replace("一、总体情况", "一、总体&#x202e;情况&#127;", 1).encode("utf-8")


CONTROL_CASES = {"text_utf16_controls": ("jining_org_dept_2021_text", 4), "html_controls": ("shanghai_office_2019_html", 3)}
"""Control-character cases → (the sample whose expected.json is their result, characters removed)."""


# ============================================================================ the catalogue


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[], bytes]
    expect: str
    """An error type name from tasks.errors, or "ok" (a correct extraction)."""
    note: str
    heavy: bool = False
    """Costly to parse on purpose (bomb, slow): run only through the ExtractorPool with limits."""
    mentions: str | None = None
    """A word the error message must contain (case-insensitive)."""


CASES: tuple[Case, ...] = (
    Case("empty", "empty.pdf", lambda: b"", "UnsupportedFormat", "zero bytes"),
    Case("whitespace", "blank.txt", lambda: b" \r\n\t \n\x0c  \n", "UnsupportedFormat", "only whitespace"),
    *(
        Case(f"truncated_{stem}_{int(f * 100)}", f"truncated_{stem}_{int(f * 100)}.pdf",
             functools.partial(truncated_pdf, path, f), "CorruptDocument", f"first {f:.0%} of a sample PDF")
        for stem, path in (("hongze", HONGZE_PDF), ("synthetic", SYNTH_PDF))
        for f in (0.02, 0.3, 0.6, 0.95)
    ),
    Case("pdf_header_random", "random.pdf", pdf_header_random, "CorruptDocument", "%PDF header then random bytes"),
    Case("pdf_pages_loop", "pages_loop.pdf", pdf_pages_loop, "CorruptDocument", "page tree Kids contain their parent"),
    Case("pdf_self_reference", "self_ref.pdf", pdf_self_reference, "CorruptDocument", "object 4 is `4 0 R`"),
    Case("pdf_xref_loop", "xref_loop.pdf", pdf_xref_loop, "CorruptDocument", "xref sections whose /Prev loop"),
    Case("pdf_deep_nesting", "deep.pdf", pdf_deep_nesting, "NotAReport", "100k nested arrays, then a notice"),
    Case("pdf_blank_pages_after", "then_blank.pdf", pdf_report_then_blank_pages, "ok",
         "the synthetic report, then 40,000 blank pages"),
    Case("pdf_digit_grid_after", "then_grid.pdf", pdf_report_then_digit_grid, "ok",
         "the synthetic report, then a page of 400×500 1-pt digits"),
    Case("pdf_small_digit_grid_after", "then_small_grid.pdf", lambda: pdf_report_then_digit_grid(40, 50), "ok",
         "the synthetic report, then a page of 40×50 1-pt digits (under the page's character bound)"),
    Case("pdf_encrypted", "encrypted.pdf", pdf_encrypted, "EncryptedDocument", "RC4 user password",
         mentions="password"),
    Case("pdf_scanned", "scanned.pdf", pdf_scanned, "ScannedDocument", "pages are pictures", mentions="OCR"),
    Case("pdf_scanned_fixture", "scanned_jpeg.pdf", pdf_scanned_fixture, "ScannedDocument", "JPEG pages",
         mentions="OCR"),
    Case("pdf_renamed_html", "report.html", lambda: sample_bytes(SYNTH_PDF), "ok", "a PDF named .html"),
    Case("docx_renamed_pdf", "report.pdf", lambda: sample_bytes(SYNTH_DOCX), "ok", "a DOCX named .pdf"),
    Case("text_gb18030", "jining_gbk.txt", gbk_text, "ok", "GB18030 text, no declaration"),
    Case("text_no_table4", "jining_no_t4.txt", text_without_table4, "ok", "table 4 removed: t4 not_found"),
    Case("text_report_many_lines", "many_lines.txt", text_report_many_lines, "ok",
         "a text report followed by 10^7 lines"),
    Case("notice_text", "notice.txt", notice_text, "NotAReport", "a notice, not a report"),
    Case("notice_html", "notice.html", notice_html, "NotAReport", "a notice web page"),
    Case("notice_docx", "notice.docx", notice_docx, "NotAReport", "a notice in Word"),
    Case("notice_pdf", "notice.pdf", notice_pdf, "NotAReport", "a notice in PDF"),
    Case("docx_zip_bomb", "bomb.docx", docx_zip_bomb, "DocumentTooLarge", "document.xml inflates to 200 MB"),
    Case("docx_lying_bomb", "lying_bomb.docx", docx_lying_size_bomb, "CorruptDocument",
         "100 MB bomb whose headers claim 1 KB: inflation stops at 1 KB, the CRC fails"),
    Case("docx_xxe", "xxe.docx", docx_xxe, "CorruptDocument", "DOCTYPE with file:///etc/passwd entity"),
    Case("docx_billion_laughs", "laughs.docx", docx_billion_laughs, "CorruptDocument", "entity expansion"),
    Case("xhtml_xxe", "xxe.xhtml", xhtml_xxe, "NotAReport", "XHTML with an external entity (never resolved)"),
    Case("xhtml_billion_laughs", "laughs.xhtml", xhtml_billion_laughs, "NotAReport", "XHTML entity expansion"),
    Case("html_report_xxe", "report_xxe.html", xhtml_report_xxe, "ok", "a real report with an XXE DOCTYPE"),
    Case("xlsx_like", "sheet.xlsx", xlsx_like, "UnsupportedFormat", "a ZIP that is a spreadsheet"),
    Case("zip_header_random", "random.docx", zip_header_random, "UnsupportedFormat", "PK header then random bytes"),
    Case("oversized", "big.txt", oversized, "DocumentTooLarge", f"3 MB, over a {OVERSIZED_LIMIT} byte limit"),
    Case("html_deep_nesting", "deep.html", html_deep_nesting, "NotAReport", "100k nested <div>"),
    Case("html_report_deep_3k", "report_deep_3k.html", lambda: html_report_deep(3_000), "ok",
         "the Shanghai report inside 3,000 nested <div> (past libxml2's 2,048 open elements)"),
    Case("html_report_deep_30k", "report_deep_30k.html", lambda: html_report_deep(30_000), "ok",
         "the Shanghai report inside 30,000 nested <div>"),
    Case("html_report_deep_spans", "report_deep_spans.html", html_report_deep_spans, "ok",
         "the Shanghai report inside 5,000 nested <span style>"),
    Case("html_report_meta_utf16", "report_meta_utf16.html", html_report_lying_charset, "ok",
         "UTF-8 bytes declaring <meta charset=utf-16>"),
    Case("html_report_meta_gbk", "report_meta_gbk.html", html_report_lying_charset_gbk, "ok",
         "UTF-8 bytes declaring charset=gbk"),
    Case("text_single_line", "line.txt", text_single_line, "ResourceLimitExceeded", "one 50 MB line (~30 s to read)",
         heavy=True),
    Case("svg", "image.svg", svg_image, "UnsupportedFormat", "SVG (with an external entity)"),
    Case("xml", "data.xml", xml_data, "UnsupportedFormat", "XML data"),
    Case("png", "image.png", png_image, "NotAReport", "an 8 × 8 PNG image: too small to hold a page"),
    Case("png_bomb", "bomb.png", png_bomb, "DocumentTooLarge", "a PNG declaring 100,000 × 100,000 pixels"),
    Case("legacy_doc", "old.doc", legacy_doc, "UnsupportedFormat", "OLE2 Word 97 .doc"),
    Case("pdf_flate_bomb", "flate_bomb.pdf", pdf_flate_bomb, "ResourceLimitExceeded",
         "content stream inflating to 200 MB", heavy=True),
    Case("pdf_many_operators", "slow.pdf", pdf_many_operators, "ResourceLimitExceeded",
         "2 million path operators", heavy=True),
    Case("text_utf16_controls", "controls.txt", text_utf16_controls, "ok",
         "UTF-16 text: NUL in the agency, ESC in a value, RLO and BEL in a heading: removed (CTRL-01)"),
    Case("html_controls", "controls.html", html_controls, "ok", "&#1; in the agency, RLO and DEL in the text"),
    Case("poison_numbers_html", "poison.html", poison_html, "ok",
         "2021 report printing counts of 10^14, 10^30, int64's maximum: out_of_range, raw kept; 14 digits fit"),
    Case("poison_numbers_text", "poison.txt", poison_text, "ok", "the same report copied as text"),
    Case("poison_numbers_docx", "poison.docx", poison_docx, "ok",
         "2019 report: signed minimum, 10^41, an amount with five decimals (out_of_range, never rounded)"),
)

BY_NAME = {c.name: c for c in CASES}


def build(name: str) -> bytes:
    return BY_NAME[name].build()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", nargs="?", help="folder to write the inputs to")
    parser.add_argument("--only", nargs="*", help="case names")
    parser.add_argument("--list", action="store_true", help="list the cases and their expected outcomes")
    args = parser.parse_args(argv)
    if args.list or not args.outdir:
        for c in CASES:
            print(f"{c.name:28} {c.filename:22} {c.expect:22} {c.note}")
        return 0
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for c in CASES:
        if args.only and c.name not in args.only:
            continue
        (out / c.filename).write_bytes(c.build())
        print(f"wrote {out / c.filename}  (expect {c.expect})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
