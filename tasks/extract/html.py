"""HTML reader: bytes of a web page (or an HTML fragment) → `Document` (media "html").

- Charset: a `<meta charset>` / `<meta http-equiv content="…charset=…">` declaration in the first
  4 KB, checked by decoding strictly; otherwise the `decode_text` chain (UTF-8, GB18030, Big5).
- Blocks in document order. Each data `<table>` becomes a `Table` whose rowspan/colspan are
  expanded into a grid: a cell has `x0` = its first grid column, `x1 = x0 + colspan`, `rowspan`
  set, and appears once, in the first row it covers. Empty cells (`&nbsp;`, whitespace) are kept
  as `Cell(text="")`. `<br>` and block-level children inside a cell become "\n".
- Nested tables: a table whose cells hold a real table (≥ 2 rows and ≥ 2 columns) or a 1×1 table
  is a *layout* table — it is not emitted; its cells' contents are read as ordinary blocks, so the
  statistical tables inside a page-layout table come out as `Table`s. A small inner table inside
  a data table cell (a single row or column) is flattened into the cell's text, one line per
  inner cell.
- Other text (p, div, h1–h6, li, … and text directly in body) → one `Paragraph` per block
  element, whitespace runs collapsed to one space (`<br>` kept as "\n"); script/style/noscript/
  template/head are skipped. A `<caption>` becomes a Paragraph just before its table.
- SPA pages: when the page shows almost no text but a `<script>` holds a string literal of HTML
  mentioning 政府信息公开, that literal is unescaped and read instead. A bare JavaScript data file
  (`let content = "<p>…"`) whose main literal is such HTML is unwrapped the same way.
- Deep nesting keeps its text. libxml2 (even with huge_tree) keeps at most `LIBXML2_MAX_DEPTH` (2,048)
  open elements and drops everything after the point where a page goes deeper. Such a page is parsed
  again with its container elements (div, span, font, section, … : any element whose end tag is
  required, except tables' own) nested deeper than `FLATTEN_DEPTH` (256) flattened: their text stays
  where it was, a block element's edge stays a paragraph break, only their own markup goes. The walkers
  are iterative. A document holding only a comment gives an empty Document; whitespace-only input
  raises `CorruptDocument`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import lxml.html
from lxml import etree

from tasks.errors import CorruptDocument
from tasks.extract.model import Block, Cell, Document, Figure, Paragraph, Table, TableRow
from tasks.extract.sniff import decode_text

log = logging.getLogger(__name__)

_SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "object", "svg", "math"})
_BLOCK = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
        "blockquote", "pre", "section", "article", "header", "footer", "nav", "aside", "main",
        "address", "figure", "figcaption", "form", "fieldset", "legend", "center", "hr",
        "body", "html", "tr", "td", "th", "thead", "tbody", "tfoot", "caption", "details", "summary",
        "option", "textarea",
    }
)  # fmt: skip
_MAX_SPAN = 1000
_WS = re.compile(r"[ \t\n\r\f\v\xa0\u200b\ufeff]+")
_BR = "\x00"  # line-break sentinel inside text buffers; replaced by "\n" after collapsing
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""",
    re.IGNORECASE,
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_JS_STRING = re.compile(r""""((?:[^"\\\n]|\\.){64,})"|'((?:[^'\\\n]|\\.){64,})'|`((?:[^`\\]|\\.){64,})`""", re.DOTALL)
_JS_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|.)", re.DOTALL)
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": "", "\r\n": ""}
_SPA_MIN_VISIBLE = 200


# --------------------------------------------------------------------------- decoding


def declared_charset(data: bytes) -> str | None:
    """The charset a `<meta>` tag declares in the first 4 KB, if any."""
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii") if m else None


def _decode(data: bytes) -> str:
    text = decode_text(data, declared_charset(data))
    return _XML_DECL.sub("", text, count=1)


# --------------------------------------------------------------------------- text helpers


def _tag(el: etree._Element) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):
        return None
    return tag.rsplit("}", 1)[-1].lower()


def _clean_lines(raw: str) -> str:
    """Collapse whitespace runs to one space per line; `_BR` sentinels become "\n"; drop empty lines."""
    lines = (_WS.sub(" ", part).strip() for part in raw.split(_BR))
    return "\n".join(line for line in lines if line)


def _span(el: etree._Element, name: str) -> int:
    raw = (el.get(name) or "").strip()
    m = re.search(r"\d+", raw)  # tolerate junk such as \"3\" left by escaped quotes
    if not m:
        return 1
    return max(0, min(int(m.group()), _MAX_SPAN))


# --------------------------------------------------------------------------- tables


def _direct_rows(table: etree._Element) -> list[etree._Element]:
    rows: list[etree._Element] = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(gc for gc in child if _tag(gc) == "tr")
    return rows


def _row_cells(tr: etree._Element) -> list[etree._Element]:
    return [c for c in tr if _tag(c) in ("td", "th")]


def _inner_tables(el: etree._Element) -> Iterator[etree._Element]:
    yield from el.iterdescendants("table")


def _is_layout_table(table: etree._Element) -> bool:
    rows = [r for r in _direct_rows(table) if _row_cells(r)]
    cells = [c for r in rows for c in _row_cells(r)]
    if not cells:
        return True
    if len(cells) == 1:
        return True
    for cell in cells:
        for inner in _inner_tables(cell):
            inner_rows = [r for r in _direct_rows(inner) if _row_cells(r)]
            if len(inner_rows) >= 2 and max(len(_row_cells(r)) for r in inner_rows) >= 2:
                return True
    return False


def _cell_text(cell: etree._Element) -> str:
    """Text of a table cell: block children and <br> give "\n"; inner tables flatten to one line per cell."""
    buf: list[str] = []
    walker = etree.iterwalk(cell, events=("start", "end", "comment"))
    for event, el in walker:
        if event == "comment":
            if el.tail and el is not cell:
                buf.append(el.tail)
            continue
        tag = _tag(el)
        if event == "start":
            if tag in _SKIP:
                walker.skip_subtree()
                continue
            if tag == "br" or (tag in _BLOCK and el is not cell):
                buf.append(_BR)
            if el.text and tag not in _SKIP:
                buf.append(el.text)
        else:
            if el is cell:
                break
            if tag in _BLOCK:
                buf.append(_BR)
            if el.tail:
                buf.append(el.tail)
    return _clean_lines("".join(buf))


def read_table(table: etree._Element) -> Table:
    """Expand one <table> into grid-positioned rows (x0/x1 = grid columns, rowspan counted in rows)."""
    trs = [tr for tr in _direct_rows(table) if _row_cells(tr)]
    n_rows = len(trs)
    occupied: dict[int, set[int]] = {}
    rows: list[TableRow] = []
    for r, tr in enumerate(trs):
        taken = occupied.setdefault(r, set())
        col = 0
        cells: list[Cell] = []
        for td in _row_cells(tr):
            while col in taken:
                col += 1
            colspan = max(1, _span(td, "colspan"))
            rowspan = _span(td, "rowspan")
            rowspan = n_rows - r if rowspan == 0 else min(rowspan, n_rows - r)
            rowspan = max(1, rowspan)
            for rr in range(r, r + rowspan):
                occupied.setdefault(rr, set()).update(range(col, col + colspan))
            cells.append(Cell(text=_cell_text(td), x0=float(col), x1=float(col + colspan), rowspan=rowspan))
            col += colspan
        rows.append(TableRow(cells=cells))
    return Table(rows=rows, positioned=True)


# --------------------------------------------------------------------------- document walk


class _Blocks:
    """Accumulates inline text into Paragraphs and collects Tables, in document order."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._buf: list[str] = []

    def text(self, s: str | None) -> None:
        if s:
            self._buf.append(s)

    def br(self) -> None:
        self._buf.append(_BR)

    def flush(self) -> None:
        if self._buf:
            text = _clean_lines("".join(self._buf))
            self._buf.clear()
            if text:
                self.blocks.append(Paragraph(text=text))

    def table(self, table: Table) -> None:
        self.flush()
        if table.rows:
            self.blocks.append(table)


def _is_picture(img: etree._Element) -> bool:
    """An <img> big enough to hold a table (icons and spacers declare small sizes)."""
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < 64:
            return False
    return True


def _walk(root: etree._Element) -> list[Block]:
    out = _Blocks()
    walker = etree.iterwalk(root, events=("start", "end", "comment"))
    pre_depth = 0
    for event, el in walker:
        if event == "comment":
            out.text(el.tail)
            continue
        tag = _tag(el)
        if event == "start":
            if tag in _SKIP:
                walker.skip_subtree()
                continue
            if tag == "table" and not _is_layout_table(el):
                for cap in (c for c in el if _tag(c) == "caption"):
                    out.flush()
                    out.text(_cell_text(cap))
                    out.flush()
                out.table(read_table(el))
                walker.skip_subtree()
                continue
            if tag == "br":
                out.br()
            elif tag == "img" and _is_picture(el):
                out.flush()
                out.blocks.append(Figure(ref=el.get("src")))
            elif tag in _BLOCK or tag == "table":
                out.flush()
            if tag == "pre":
                pre_depth += 1
            if el.text:
                out.text(el.text.replace("\n", _BR) if pre_depth else el.text)
        else:  # end
            if tag in _SKIP:
                out.text(el.tail)
                continue
            if tag == "pre":
                pre_depth = max(0, pre_depth - 1)
            if tag in _BLOCK or tag == "table":
                out.flush()
            if el.tail:
                out.text(el.tail.replace("\n", _BR) if pre_depth else el.tail)
    out.flush()
    return out.blocks


# --------------------------------------------------------------------------- SPA (HTML inside JS)


def _js_unescape(body: str) -> str:
    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc.startswith("u{"):
            return chr(min(int(esc[2:-1], 16), 0x10FFFF))
        if esc[0] == "u" and len(esc) == 5:
            return chr(int(esc[1:], 16))
        if esc[0] == "x" and len(esc) == 3:
            return chr(int(esc[1:], 16))
        return _JS_SIMPLE.get(esc, esc)

    text = _JS_ESCAPE.sub(repl, body)
    # Re-pair UTF-16 surrogates written as two \uXXXX escapes.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _js_literal_html(src: str) -> str | None:
    """The longest JS string literal in `src` holding HTML that mentions 政府信息公开, unescaped."""
    if "政府信息公开" not in src and "\\u653f\\u5e9c" not in src:
        return None
    best: str | None = None
    for m in _JS_STRING.finditer(src):
        body = next(g for g in m.groups() if g is not None)
        if "<" not in body:
            continue
        html = _js_unescape(body)
        if (
            "政府信息公开" in html
            and re.search(r"<\s*(p|table|div|br|span|td)\b", html, re.I)
            and (best is None or len(html) > len(best))
        ):
            best = html
    return best


def _embedded_html(root: etree._Element) -> str | None:
    """The longest HTML string literal found in the page's scripts."""
    found = (_js_literal_html(script.text or "") for script in root.iter("script"))
    return max((h for h in found if h), key=len, default=None)


_JS_START = re.compile(r"^\s*(?:let|var|const|window\.|export\b|module\.exports|define\(|\w+\s*=|[{\[(])")


def _unwrap_js_file(text: str) -> str:
    """A JavaScript file (not HTML) whose main string literal is the report's HTML → that HTML."""
    if not _JS_START.match(text):
        return text
    html = _js_literal_html(text)
    if html and len(html) > 0.4 * len(text.strip()):
        log.info("input is JavaScript holding the report HTML in a string literal; reading that HTML")
        return html
    return text


def _visible_chars(blocks: list[Block]) -> int:
    return Document(media="html", blocks=blocks).text_chars


# --------------------------------------------------------------------------- entry point


LIBXML2_MAX_DEPTH = 2048
"""Open elements libxml2's HTML parser keeps with huge_tree (256 without); past them it stops, dropping the rest."""
FLATTEN_DEPTH = 256
"""Container elements nested deeper than this are flattened when a page exceeds `LIBXML2_MAX_DEPTH`."""
_KEEP = frozenset(
    {
        "html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "rb", "rt", "rp", "rtc",
        "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup",
        "script", "style", "textarea", "title", "xmp", "plaintext", "noscript", "iframe", "noembed", "noframes",
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr", "basefont", "bgsound", "frame", "keygen", "image",
    }
)  # fmt: skip
"""Never flattened: table structure, elements whose end tag is optional or absent, raw-text elements."""


class _Flattener(HTMLParser):
    """Finds the start and end tags of container elements nested deeper than `bound` (a tokenizer pass, linear in
    the input): `cuts` holds (start, end, replacement) character spans of the source text."""

    def __init__(self, text: str, bound: int) -> None:
        super().__init__(convert_charrefs=False)
        self.bound = bound
        self.cuts: list[tuple[int, int, str]] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, flattened)
        self._where: dict[str, list[int]] = {}  # tag -> its positions in _stack
        self._depth = 0  # open containers not flattened
        self._text = text
        self._lines = [0] + [m.end() for m in re.finditer("\n", text)]

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._lines[line - 1] + col

    def _mark(self, tag: str) -> str:
        return "<hr>" if tag in _BLOCK else ""  # a block's edge stays a paragraph break

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _KEEP:
            return
        flat = self._depth >= self.bound
        if flat:
            start = self._offset()
            self.cuts.append((start, start + len(self.get_starttag_text() or ""), self._mark(tag)))
        else:
            self._depth += 1
        self._where.setdefault(tag, []).append(len(self._stack))
        self._stack.append((tag, flat))

    def handle_endtag(self, tag: str) -> None:
        where = self._where.get(tag)
        if tag in _KEEP or not where:
            return
        pos = where[-1]
        while len(self._stack) > pos:  # elements left open inside it close with it
            open_tag, flat = self._stack.pop()
            self._where[open_tag].pop()
            self._depth -= not flat
        if flat:
            start = self._offset()
            end = self._text.find(">", start)
            self.cuts.append((start, len(self._text) if end < 0 else end + 1, self._mark(tag)))


def flatten_deep(text: str, bound: int = FLATTEN_DEPTH) -> str:
    """`text` with the markup of container elements nested deeper than `bound` replaced (see `_Flattener`)."""
    flattener = _Flattener(text, bound)
    flattener.feed(text)
    flattener.close()
    out: list[str] = []
    last, mark = 0, ""
    for start, end, replacement in sorted(flattener.cuts):
        between = text[last:start]
        if between.strip() or replacement != mark:  # one break for a run of block edges with no text between
            out += [between, replacement]
            mark = replacement
        last = end
    out.append(text[last:])
    return "".join(out)


def _too_deep(parser: etree.HTMLParser) -> bool:
    return any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT and "depth" in e.message for e in parser.error_log)


def _parse(text: str) -> etree._Element | None:
    """Parse (possibly fragmentary) HTML; None when there is no element at all (e.g. only a comment)."""
    if not text.strip():
        raise CorruptDocument("HTML document is empty")
    root, parser = _lxml_parse(text)
    if _too_deep(parser):
        log.info("HTML nested deeper than %d elements: parsed again with containers past %d levels flattened",
                 LIBXML2_MAX_DEPTH, FLATTEN_DEPTH)
        try:
            flat = flatten_deep(text)
        except (AssertionError, ValueError, IndexError) as exc:  # html.parser on markup it cannot tokenize
            log.warning("deep HTML could not be flattened (%s); reading what libxml2 kept", exc)
            return root
        root, parser = _lxml_parse(flat)
        if _too_deep(parser):
            log.warning("HTML still nested deeper than %d elements after flattening: the text past that is lost",
                        LIBXML2_MAX_DEPTH)
    return root


def _lxml_parse(text: str) -> tuple[etree._Element | None, etree.HTMLParser]:
    # huge_tree lifts libxml2's nesting limit from 256 to LIBXML2_MAX_DEPTH; the walkers are iterative.
    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=False, no_network=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser), parser
    except etree.ParserError as exc:
        if "empty" in str(exc).lower():
            return None, parser
        raise CorruptDocument(f"HTML cannot be parsed: {exc}") from exc
    except ValueError as exc:
        raise CorruptDocument(f"HTML cannot be parsed: {exc}") from exc


def read_html(data: bytes) -> Document:
    """Read HTML bytes (a full page or a fragment) into a Document of Paragraphs and Tables."""
    root = _parse(_unwrap_js_file(_decode(data)))
    if root is None:
        return Document(media="html", blocks=[], pages=1)
    blocks = _walk(root)
    if _visible_chars(blocks) < _SPA_MIN_VISIBLE:
        embedded = _embedded_html(root)
        inner_root = _parse(_XML_DECL.sub("", embedded, count=1)) if embedded else None
        if inner_root is not None:
            log.info("page has %d visible chars; reading the HTML embedded in a script", _visible_chars(blocks))
            inner = _walk(inner_root)
            if _visible_chars(inner) > _visible_chars(blocks):
                blocks = inner
    return Document(media="html", blocks=blocks, pages=1)
