"""Tell the medium of a document from its bytes (never its name), and decode text bytes.

`sniff(data)` returns "pdf" | "docx" | "html" | "text" | "image" (PNG/JPEG, read by OCR) or raises a
typed error:
- `UnsupportedFormat` for empty input, known binary formats (images, archives, legacy Office,
  executables) and bytes that do not decode to mostly printable text;
- `EncryptedDocument` for an OLE2 container that holds an encrypted OOXML package
  (password-protected DOCX/XLSX are stored as OLE2 with an "EncryptionInfo" stream).

`decode_text(data, declared)` is the charset chain the HTML and text readers share.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import zipfile

from tasks.errors import EncryptedDocument, UnsupportedFormat

log = logging.getLogger(__name__)

Medium = str  # "pdf" | "docx" | "html" | "text" | "image"

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# (prefix, description) — checked in order on the first bytes of the file.
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x00\x00\x01\x00", "ICO image"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xca\xfe\xba\xbe", "Java class / Mach-O binary"),
    (b"\xcf\xfa\xed\xfe", "Mach-O binary"),
    (b"{\\rtf", "RTF document; convert to DOCX or PDF"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM video"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly binary"),
    (b"%!PS", "PostScript document"),
    (b"AT&TFORM", "DjVu document"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
)

_HTML_MARKERS = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|meta|title|table|tr|td|p|div|br|span|h[1-6]|ul|ol|li|font|center|a\s)\b",
    re.IGNORECASE,
)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")


def _short_magic(head: bytes) -> str | None:
    """Two/three-byte signatures, confirmed by structure so text starting with "BM"/"MZ" is not caught."""
    if head[:2] == b"BM" and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "BMP image"
    if head[:2] == b"MZ" and b"\x00" in head[:64]:
        return "Windows executable"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "bzip2 archive"
    if head[:3] == b"ID3" and b"\x00" in head[3:10]:
        return "MP3 audio"
    return None


def _looks_like_riff_or_ftyp(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and len(head) >= 12:
        kind = head[8:12]
        return {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}.get(kind, "RIFF media file")
    if head[4:8] == b"ftyp":
        return "MP4/HEIF media file"
    return None


def _zip_kind(data: bytes) -> Medium:
    """A ZIP is a DOCX iff it holds word/document.xml; otherwise say what it looks like."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size < 256:
                    mimetype = zf.read("mimetype")
    except Exception:  # noqa: BLE001 - BadZipFile, NotImplementedError (zip version), struct.error, …
        # A damaged ZIP may still be a DOCX; let the DOCX reader raise CorruptDocument if it is
        # plausibly one (the local header names word/ parts), otherwise it is unsupported.
        if b"word/" in data[:65536] or b"[Content_Types].xml" in data[:65536]:
            return "docx"
        raise UnsupportedFormat("ZIP archive that cannot be opened and is not a Word document") from None
    if "word/document.xml" in names:
        return "docx"
    any_word = next((n for n in names if n.lower() == "word/document.xml"), None)
    if any_word:
        return "docx"
    if "xl/workbook.xml" in names:
        what = "Excel spreadsheet (XLSX)"
    elif "ppt/presentation.xml" in names:
        what = "PowerPoint presentation (PPTX)"
    elif mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        what = "OpenDocument text (ODT); convert to DOCX or PDF"
    elif mimetype.startswith(b"application/vnd.oasis.opendocument"):
        what = f"OpenDocument file ({mimetype.decode('ascii', 'replace')})"
    elif mimetype.startswith(b"application/epub"):
        what = "EPUB e-book"
    elif "META-INF/MANIFEST.MF" in names:
        what = "Java archive (JAR)"
    elif "Content/Document.xml" in names or any(n.startswith("Doc_") for n in names):
        what = "OFD document; convert to PDF"
    else:
        what = "ZIP archive without word/document.xml"
    raise UnsupportedFormat(f"{what}: not a PDF, DOCX, HTML or text document")


def _ole2_kind(data: bytes) -> None:
    """Raise the right error for an OLE2 compound file (never returns)."""
    if "EncryptionInfo".encode("utf-16-le") in data:
        raise EncryptedDocument("password-protected Office document")
    if "Workbook".encode("utf-16-le") in data:
        raise UnsupportedFormat("legacy Excel .xls binary format: not a report document")
    if "PowerPoint Document".encode("utf-16-le") in data:
        raise UnsupportedFormat("legacy PowerPoint .ppt binary format: not a report document")
    raise UnsupportedFormat("legacy Word/WPS .doc binary format; convert to DOCX or PDF")


def _bom_encoding(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _normalise_charset(name: str) -> str | None:
    """Map a declared charset to a Python codec, widening GB2312/GBK to GB18030."""
    name = name.strip().strip("\"'").lower()
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec in ("gb2312", "gbk", "hz"):
        return "gb18030"
    if codec == "big5":
        return "big5hkscs"
    return codec


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode bytes: BOM, then the declared charset if the bytes decode strictly and read as text in it
    (`_reads_as_text`), else sniffed: UTF-16 by its NUL pattern, UTF-8, GB18030, Big5; last resort UTF-8 with
    replacement."""
    bom = _bom_encoding(data)
    if bom:
        text = _strict(data, bom)
        if text is not None:
            return text.lstrip("\ufeff")
    if declared:
        codec = _normalise_charset(declared)
        # A declared single-byte/ASCII charset on a page that is really UTF-8 or GBK is common;
        # only trust it when it is a multi-byte (or UTF) codec, or the bytes are pure ASCII.
        if codec and (codec not in ("ascii", "latin-1", "iso8859-1", "cp1252") or data.isascii()):
            text = _strict(data, codec)
            if text is not None and _reads_as_text(data, text):
                return text
            log.debug("declared charset %s does not decode to text; sniffing", declared)
    if b"\x00" in data[:4096]:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    # GB18030 decodes almost any byte pairs, so Big5 text also "decodes" as GB18030 — into
    # mojibake full of private-use and unprintable characters. Prefer the cleaner reading.
    candidates = [(enc, t) for enc in ("gb18030", "big5hkscs") if (t := _strict(data, enc)) is not None]
    if candidates:
        enc, text = min(candidates, key=lambda c: _bad_chars(c[1]))
        if enc != "gb18030":
            log.debug("decoded as %s", enc)
        return text
    log.warning("undecodable bytes; decoding as UTF-8 with replacement characters")
    return data.decode("utf-8", errors="replace")


MAX_BAD_SHARE = 0.005
"""A decoding with more unprintable or private-use characters than this share is not the text's."""


def _reads_as_text(data: bytes, text: str) -> bool:
    """Evidence that `text` is what `data` says: the markup survives the decoding (a page's `<` are `<` in
    it: UTF-8 bytes read as UTF-16 pair them up into CJK-looking mojibake), and next to no characters of a
    wrong decoding are left. A declaration alone is no evidence: it is read from the bytes as ASCII."""
    if text and _bad_chars(text) > MAX_BAD_SHARE * len(text):
        return False
    return 2 * text.count("<") >= data.count(b"<")


def _bad_chars(text: str) -> int:
    """Characters that signal a wrong decoding: unprintable controls and private-use code points."""
    return sum(
        1
        for ch in text
        if ch not in "\t\n\r\f" and (not ch.isprintable() or "\ue000" <= ch <= "\uf8ff" or ch == "\ufffd")
    )


_TEXT_FORMAT_CHARS = frozenset("\u200b\u200c\u200d\u2060\ufeff")
"""Zero-width characters web editors and browsers leave in copied text."""


def _printable_ratio(text: str) -> float:
    """The share of characters that text holds: printable ones, tabs and line ends, and the Unicode spaces
    (a browser's copy of a page whose empty cells are `&nbsp;` is mostly NBSP, tabs and newlines; Chinese
    text indents with U+3000), not the C0/C1 controls that `str.isspace` also counts."""
    if not text:
        return 0.0
    good = 0
    for ch in text:
        if ch in "\t\n\r\f" or (ch.isspace() and ch >= "\xa0") or ch in _TEXT_FORMAT_CHARS or (
            ch.isprintable() and ch != "\ufffd" and not "\ue000" <= ch <= "\uf8ff"
        ):
            good += 1
    return good / len(text)


def _looks_like_html(text: str) -> bool:
    head = text[:4096]
    if _HTML_MARKERS.search(head.lstrip()[:1024]):
        return True
    tags = _TAG.findall(head)
    if len(tags) >= 5 and sum(len(t) for t in tags) > 0.15 * max(len(head), 1):
        return True
    # Markup near the start of a long file (after a preamble) still counts.
    return len(_HTML_MARKERS.findall(head)) >= 3


_PLAUSIBLE_RANGES: tuple[tuple[str, str], ...] = (
    (" ", "~"),  # ASCII printable
    ("\u00a0", "\u00ff"),  # Latin-1 (·, ×, °)
    ("\u2000", "\u206f"),  # general punctuation (— “ ” …)
    ("\u2100", "\u27bf"),  # letterlike, numerals Ⅰ, arrows, math, ①, box drawing, shapes
    ("\u3000", "\u30ff"),  # CJK punctuation, kana
    ("\u3400", "\u4dbf"),  # CJK extension A
    ("\u4e00", "\u9fff"),  # CJK unified ideographs
    ("\uf900", "\ufaff"),  # CJK compatibility ideographs
    ("\ufe30", "\ufe4f"),  # CJK compatibility forms
    ("\uff00", "\uffef"),  # full-width forms
)


def _plausible_text_share(text: str) -> float:
    """Share of chars typical of Chinese report text: ASCII, CJK, CJK/full-width/general punctuation."""
    if not text:
        return 0.0
    ok = sum(1 for ch in text if ch in "\t\n\r" or any(lo <= ch <= hi for lo, hi in _PLAUSIBLE_RANGES))
    return ok / len(text)


def _utf16_without_bom(data: bytes) -> str | None:
    """Decode BOM-less UTF-16 when the bytes clearly are UTF-16 text (NUL pattern, or CJK-heavy)."""
    sample = data[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 8:
        return None
    even_nul = sample[0::2].count(0) / len(sample[0::2])
    odd_nul = sample[1::2].count(0) / len(sample[1::2])
    if odd_nul > 0.3 and even_nul < 0.05:
        order: tuple[str, ...] = ("utf-16-le",)
    elif even_nul > 0.3 and odd_nul < 0.05:
        order = ("utf-16-be",)
    elif b"\x00" in sample:
        order = ("utf-16-le", "utf-16-be")
    else:
        return None
    even = data[: len(data) - len(data) % 2]
    for enc in order:
        if _plausible_text_share(sample.decode(enc, errors="replace")) < 0.9:
            continue
        text = _strict(even, enc)
        return text if text is not None else even.decode(enc, errors="replace")
    return None


def _reject_xml(head: str) -> None:
    """XML that is not XHTML (SVG, Word 2003 XML, feeds…) is not a document we read."""
    if not head.startswith("<"):
        return
    low = head.lower()
    if "<svg" in low:
        raise UnsupportedFormat("SVG image: not a PDF, DOCX, HTML or text document")
    if "<w:worddocument" in low or 'progid="word.document"' in low:
        raise UnsupportedFormat("Word 2003 XML document; convert to DOCX or PDF")
    if "<office:document" in low:
        raise UnsupportedFormat("OpenDocument flat XML; convert to DOCX or PDF")
    if low.startswith("<?xml"):
        raise UnsupportedFormat("XML data (not XHTML): not a PDF, DOCX, HTML or text document")


def _text_or_html(data: bytes) -> Medium:
    head = data[:65536]
    text: str | None = None
    bom = _bom_encoding(head)
    if bom:
        text = head.decode(bom, errors="ignore")
    else:
        text = _utf16_without_bom(head)
    if text is None:
        if b"\x00" in head[:4096]:
            raise UnsupportedFormat("binary data (contains NUL bytes): not a PDF, DOCX, HTML or text document")
        # Decode a prefix tolerant of a multibyte char cut at the 64 KB boundary.
        for enc in ("utf-8", "gb18030", "big5hkscs"):
            try:
                candidate = codecs.getincrementaldecoder(enc)().decode(head, final=False)
            except UnicodeDecodeError:
                continue
            if text is None or _printable_ratio(candidate) > _printable_ratio(text):
                text = candidate
            if _printable_ratio(text) >= 0.99:
                break
    if text is None:
        text = head.decode("utf-8", errors="replace")
    stripped = text.strip()
    if not stripped:
        raise UnsupportedFormat("empty file")
    # Almost any byte string "decodes" as UTF-16: demand text that looks like CJK/ASCII prose.
    if (bom in ("utf-16", "utf-32") or b"\x00" in head[:4096]) and _plausible_text_share(stripped[:4096]) < 0.8:
        raise UnsupportedFormat("binary data of an unknown kind: not a PDF, DOCX, HTML or text document")
    if not _HTML_MARKERS.search(stripped[:1024]):
        _reject_xml(stripped[:4096])
    if _looks_like_html(text):
        return "html"
    if _printable_ratio(text) < 0.95:
        raise UnsupportedFormat("binary data of an unknown kind: not a PDF, DOCX, HTML or text document")
    return "text"


def sniff(data: bytes) -> Medium:
    """Return the medium of `data` ("pdf" | "docx" | "html" | "text") from its bytes alone."""
    if not data or (not data[:65536].strip() and not data.strip()):
        raise UnsupportedFormat("empty file")
    if _PDF_MAGIC in data[:1024]:
        return "pdf"
    head = data[:64]
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return "image"  # a scan or a screenshot of a report page: read by OCR
    if head.startswith(_OLE2_MAGIC):
        _ole2_kind(data)
    if head.startswith(_ZIP_MAGICS):
        return _zip_kind(data)
    for magic, what in _BINARY_SIGNATURES:
        if head.startswith(magic):
            raise UnsupportedFormat(f"{what}: not a PDF, DOCX, HTML or text document")
    media = _short_magic(head) or _looks_like_riff_or_ftyp(head)
    if media:
        raise UnsupportedFormat(f"{media}: not a PDF, DOCX, HTML or text document")
    if b"ustar" in data[257:265]:
        raise UnsupportedFormat("tar archive: not a PDF, DOCX, HTML or text document")
    return _text_or_html(data)
