"""DOCX reader: bytes of a Word 2007+ file → `Document` (media "docx").

Safety: the ZIP member `word/document.xml` is refused (`DocumentTooLarge`) when its declared or
actual uncompressed size exceeds `max_xml_bytes` or its compression ratio is absurd (zip bomb);
it is read in bounded chunks. The XML is parsed by lxml with entity resolution, DTD loading and
network access off; a document that carries a DOCTYPE at all (Word never writes one) is refused
with `CorruptDocument`, so no entity is ever expanded.

Structure: `w:body` is walked in document order. `w:p` → `Paragraph` (runs' `w:t`, `w:tab` →
"\t", `w:br`/`w:cr` → "\n"; text inside `w:ins`, `w:hyperlink`, `w:smartTag`, `w:sdt`,
`w:fldSimple`, text boxes; `w:del`/`w:moveFrom`/field instructions skipped; for
`mc:AlternateContent` only the first `mc:Choice` is read). `w:tbl` → `Table` on the grid given by
`w:gridBefore` and `w:gridSpan` (x0 = grid column, x1 = x0 + span); `w:vMerge` continuation
cells are dropped and counted in the first cell's `rowspan`. A row made only of continuation
cells is kept (with no cells) so rowspans stay consistent. Cell text is its paragraphs joined
with "\n" (empty paragraphs dropped); a table nested in a cell is flattened into that text, one
line per inner cell paragraph. DOCX has no pages: `page` is None and `pages` is 1.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

from tasks.errors import CorruptDocument, DocumentTooLarge, EncryptedDocument, XxgkError
from tasks.extract.model import Block, Cell, Document, Figure, Paragraph, Table, TableRow
from tasks.extract.sniff import sniff

log = logging.getLogger(__name__)

W_NS = frozenset(
    {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://purl.oclc.org/ooxml/wordprocessingml/main",
    }
)
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
DOCUMENT_XML = "word/document.xml"
MAX_XML_BYTES = 64 * 2**20
MAX_RATIO = 200
RATIO_MIN_SIZE = 4 * 2**20
"""The compression-ratio check applies to members larger than this (small XML compresses well)."""
_CHUNK = 1 << 20
_MAX_SPAN = 1000

# Subtrees whose text is not document text.
_SKIP_TEXT = frozenset({"del", "moveFrom", "delText", "instrText", "delInstrText", "rPr", "pPr", "tblPr", "tcPr",
                        "trPr", "sectPr", "commentReference", "footnoteReference", "endnoteReference"})
_CONTAINERS = frozenset({"sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag", "hyperlink", "fldSimple", "dir",
                         "bdo"})


@dataclass(frozen=True)
class _Limits:
    max_xml_bytes: int


# --------------------------------------------------------------------------- ZIP access


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError (zip version), struct.error, …
        raise CorruptDocument(f"DOCX is not a readable ZIP archive: {type(exc).__name__}: {exc}") from exc


def _document_part(zf: zipfile.ZipFile) -> str:
    """The main document part: word/document.xml, else the officeDocument target of _rels/.rels."""
    names = set(zf.namelist())
    if DOCUMENT_XML in names:
        return DOCUMENT_XML
    for name in names:
        if name.lower() == DOCUMENT_XML:
            return name
    if "_rels/.rels" in names and zf.getinfo("_rels/.rels").file_size < 1 << 20:
        try:
            rels = zf.read("_rels/.rels")
        except Exception as exc:  # noqa: BLE001 - damaged member: report the missing main part below
            log.debug("cannot read _rels/.rels: %s", exc)
            rels = b""
        m = re.search(rb'Type="[^"]*/officeDocument"[^>]*Target="/?([^"]+)"', rels) or re.search(
            rb'Target="/?([^"]+)"[^>]*Type="[^"]*/officeDocument"', rels
        )
        if m:
            target = posixpath.normpath(m.group(1).decode("utf-8", "replace"))
            if target in names:
                return target
    raise CorruptDocument("DOCX has no word/document.xml (not a Word document, or the archive is damaged)")


def _read_member(zf: zipfile.ZipFile, name: str, limits: _Limits) -> bytes:
    info = zf.getinfo(name)
    if info.flag_bits & 0x1:
        raise EncryptedDocument("DOCX archive member is encrypted (password-protected ZIP)")
    if info.file_size > limits.max_xml_bytes:
        raise DocumentTooLarge(
            f"{name} unpacks to {info.file_size} bytes, over the {limits.max_xml_bytes}-byte limit"
        )
    if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise DocumentTooLarge(
            f"{name} has compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 "
            f"(over {MAX_RATIO}:1): refused as a zip bomb"
        )
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                out += chunk
                if len(out) > limits.max_xml_bytes:
                    raise DocumentTooLarge(
                        f"{name} unpacks to more than the {limits.max_xml_bytes}-byte limit (size header lies)"
                    )
                if len(out) > RATIO_MIN_SIZE and len(out) > MAX_RATIO * max(info.compress_size, 1):
                    raise DocumentTooLarge(f"{name} expands over {MAX_RATIO}:1: refused as a zip bomb")
    except XxgkError:
        raise
    except RuntimeError as exc:  # "File is encrypted, password required"
        raise EncryptedDocument(f"DOCX archive member is encrypted: {exc}") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error) as exc:
        raise CorruptDocument(f"cannot decompress {name}: {type(exc).__name__}: {exc}") from exc
    return bytes(out)


# --------------------------------------------------------------------------- XML


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def _parse_xml(xml: bytes) -> etree._Element:
    if _DOCTYPE.search(xml[:65536]):  # refused before parsing: no entity is ever declared, let alone expanded
        raise CorruptDocument("word/document.xml declares a DTD (entities are not allowed in DOCX); refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(xml, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptDocument(f"word/document.xml is not well-formed XML: {exc}") from exc
    except ValueError as exc:
        raise CorruptDocument(f"word/document.xml cannot be parsed: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise CorruptDocument("word/document.xml declares a DTD (entities are not allowed in DOCX); refused")
    return root


def _w(el: etree._Element) -> str | None:
    """Local name of a WordprocessingML element, else None."""
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    ns, _, local = tag[1:].partition("}")
    return local if ns in W_NS else None


def _mc(el: etree._Element) -> str | None:
    tag = el.tag
    if isinstance(tag, str) and tag.startswith("{" + MC_NS + "}"):
        return tag.split("}", 1)[1]
    return None


def _attr(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    for key, value in el.attrib.items():
        if key.rsplit("}", 1)[-1] == name:
            return value
    return None


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if _w(c) == name:
            return c
    return None


def _int_attr(el: etree._Element | None, default: int) -> int:
    raw = _attr(el, "val")
    if raw is None:
        return default
    m = re.match(r"\s*(\d+)", raw)
    return max(0, min(int(m.group(1)), _MAX_SPAN)) if m else default


# --------------------------------------------------------------------------- paragraphs


def paragraph_text(p: etree._Element) -> str:
    """Text of one w:p in order: w:t, w:tab → "\t", w:br/w:cr → "\n"; deletions and field codes skipped."""
    parts: list[str] = []
    walker = etree.iterwalk(p, events=("start",))
    for _, el in walker:
        name = _w(el)
        if name is None:
            mc = _mc(el)
            if mc == "Fallback" or (mc == "Choice" and el.getprevious() is not None and _mc(el.getprevious()) == "Choice"):
                walker.skip_subtree()
            continue
        if name in _SKIP_TEXT:
            walker.skip_subtree()
        elif name == "t":
            parts.append(el.text or "")
        elif name in ("tab", "ptab"):
            parts.append("\t")
        elif name in ("br", "cr"):
            parts.append("\n")
        elif name == "noBreakHyphen":
            parts.append("\u2011")
        elif name == "p" and el is not p:
            parts.append("\n")  # a paragraph inside a text box
        elif name == "tbl" and el is not p:
            parts.append("\n")
    return "".join(parts)


# --------------------------------------------------------------------------- tables


def _flatten(parent: etree._Element, names: frozenset[str]) -> list[etree._Element]:
    """Children named `names`, looking through sdt/customXml wrappers, in order."""
    out: list[etree._Element] = []
    stack = [iter(parent)]
    while stack:
        try:
            el = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        name = _w(el)
        if name in names:
            out.append(el)
        elif name in ("sdt", "sdtContent", "customXml"):
            stack.append(iter(el))
        elif _mc(el) == "AlternateContent":
            choice = next((c for c in el if _mc(c) in ("Choice", "Fallback")), None)
            if choice is not None:
                stack.append(iter(choice))
    return out


def cell_text(tc: etree._Element) -> str:
    """A cell's paragraphs joined with "\n" (empty ones dropped); nested tables flattened the same way."""
    lines: list[str] = []
    for p in tc.iter():
        if _w(p) != "p":
            continue
        # Paragraphs inside text boxes of another paragraph are read with that paragraph.
        if _inside_paragraph(p, tc):
            continue
        if _deleted(p, tc):
            continue
        text = paragraph_text(p).strip()
        if text:
            lines.append(text)
    return "\n".join(lines)


def _inside_paragraph(p: etree._Element, stop: etree._Element) -> bool:
    for a in p.iterancestors():
        if a is stop:
            return False
        if _w(a) == "p":
            return True
    return False


def _deleted(el: etree._Element, stop: etree._Element) -> bool:
    for a in el.iterancestors():
        if a is stop:
            return False
        if _w(a) in ("del", "moveFrom") or _mc(a) == "Fallback":
            return True
    return False


def _vmerge(tc: etree._Element) -> str | None:
    """"restart", "continue" or None for a w:tc."""
    tcpr = _child(tc, "tcPr")
    if tcpr is None:
        return None
    vm = _child(tcpr, "vMerge")
    if vm is None:
        return None
    val = _attr(vm, "val")
    return "restart" if val == "restart" else "continue"


def _grid_span(tc: etree._Element) -> int:
    tcpr = _child(tc, "tcPr")
    if tcpr is None:
        return 1
    return max(1, _int_attr(_child(tcpr, "gridSpan"), 1))


def _hmerge_continue(tc: etree._Element) -> bool:
    """Legacy w:hMerge continuation (Word 95-era): the cell is part of the previous cell."""
    tcpr = _child(tc, "tcPr")
    hm = _child(tcpr, "hMerge") if tcpr is not None else None
    return hm is not None and _attr(hm, "val") != "restart"


def _grid_before(tr: etree._Element) -> int:
    trpr = _child(tr, "trPr")
    if trpr is None:
        return 0
    return _int_attr(_child(trpr, "gridBefore"), 0)


def read_table(tbl: etree._Element) -> Table:
    """A w:tbl on its grid: x0/x1 grid columns, vMerge continuations folded into the first cell's rowspan."""
    rows: list[TableRow] = []
    active: dict[int, Cell] = {}  # grid column → origin cell of a running vertical merge
    for tr in _flatten(tbl, frozenset({"tr"})):
        col = _grid_before(tr)
        cells: list[Cell] = []
        next_active: dict[int, Cell] = {}
        for tc in _flatten(tr, frozenset({"tc"})):
            span = _grid_span(tc)
            if _hmerge_continue(tc) and cells:
                cells[-1].x1 += span
                col += span
                continue
            merge = _vmerge(tc)
            origin = active.get(col)
            if merge == "continue" and origin is not None:
                origin.rowspan += 1
                next_active[col] = origin
            else:
                cell = Cell(text=cell_text(tc), x0=float(col), x1=float(col + span))
                cells.append(cell)
                if merge is not None:  # restart (or a stray continue with nothing above)
                    next_active[col] = cell
            col += span
        active = next_active
        rows.append(TableRow(cells=cells))
    return Table(rows=rows, positioned=True)


# --------------------------------------------------------------------------- body


def _body_blocks(body: etree._Element) -> list[Block]:
    blocks: list[Block] = []
    for el in _flatten(body, frozenset({"p", "tbl"})):
        if _w(el) == "tbl":
            table = read_table(el)
            if table.rows:
                blocks.append(table)
        else:
            text = paragraph_text(el).strip()
            if text:
                blocks.append(Paragraph(text=text))
            if _has_picture(el):
                blocks.append(Figure(ref=_picture_ref(el)))
    return blocks


def _has_picture(p: etree._Element) -> bool:
    """An embedded image (DrawingML a:blip or VML v:imagedata) in the paragraph: a picture, possibly
    of a table (V10). Text boxes, also drawings, are not pictures."""
    for el in p.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.endswith(("}blip", "}imagedata")):
            return True
    return False


def _picture_ref(p: etree._Element) -> str | None:
    """The relationship id of the paragraph's first embedded picture (a:blip r:embed, v:imagedata r:id)."""
    for el in p.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.endswith(("}blip", "}imagedata")):
            for name, value in el.attrib.items():
                if name.endswith(("}embed", "}id")):
                    return value
    return None


def picture_bytes(data: bytes, rel_id: str, max_bytes: int) -> bytes | None:
    """The bytes of the picture the main part's relationship `rel_id` points to (for OCR), with
    the same size and zip-bomb limits as the XML parts."""
    with _open_zip(data) as zf:
        part = _document_part(zf)
        rels_name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
        if rels_name not in zf.namelist():
            return None
        rels = _read_member(zf, rels_name, _Limits(max_xml_bytes=MAX_XML_BYTES))
        m = re.search(rb'<Relationship\b[^>]*\bId="' + re.escape(rel_id.encode()) + rb'"[^>]*>', rels)
        target = re.search(rb'Target="([^"]+)"', m.group(0)) if m else None
        if target is None or b"TargetMode=\"External\"" in m.group(0):  # type: ignore[union-attr]
            return None
        name = posixpath.normpath(posixpath.join(posixpath.dirname(part), target.group(1).decode("utf-8", "replace")))
        name = name.lstrip("/")
        if name not in zf.namelist():
            return None
        return _read_member(zf, name, _Limits(max_xml_bytes=max_bytes))


def read_docx(data: bytes, max_xml_bytes: int = MAX_XML_BYTES) -> Document:
    """Read DOCX bytes into a Document of Paragraphs and Tables in body order."""
    limits = _Limits(max_xml_bytes=max_xml_bytes)
    if not data.startswith(b"PK"):
        # Not a ZIP: let sniff name it (an encrypted DOCX is an OLE2 file → EncryptedDocument).
        medium = sniff(data)
        raise CorruptDocument(f"not a DOCX (ZIP) file: the bytes look like {medium}")
    with _open_zip(data) as zf:
        part = _document_part(zf)
        xml = _read_member(zf, part, limits)
    root = _parse_xml(xml)
    if _w(root) != "document":
        raise CorruptDocument(f"{part} is not a WordprocessingML document (root element {root.tag!r})")
    body = _child(root, "body")
    if body is None:
        raise CorruptDocument(f"{part} has no w:body")
    return Document(media="docx", blocks=_body_blocks(body), pages=1)
