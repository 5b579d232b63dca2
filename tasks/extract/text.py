"""Reader for plain text: text copied out of a web page, TSV / space-aligned copies, Markdown conversions.

`read_text(data)` decodes the bytes (`sniff.decode_text`) and returns a `Document` (media "text")
of `Paragraph` and `Table` blocks in reading order. Text tables carry no positions
(`Table.positioned` is False, pages are None): cells are only in order.

Layouts recognised (spec §7; sample `jining_org_dept_2021_text`):

* **Cell-per-line web copy** — each cell on its own line starting with a TAB, rows separated by
  blank lines, an empty cell is a line holding only a TAB (or other whitespace with a TAB); a
  line *without* a leading TAB inside a row continues the previous cell (a label wrapped with
  <br>: "\\t商业" + "企业" → "商业\\n企业"). A row may even contain a blank line inside a cell
  ("\\t结果", "", "纠正", "\\t其他" …): a short non-indented fragment that is directly followed by
  TAB lines, after a single blank line following a row, continues that row.
  A copy whose TABs were expanded to spaces (2–8 leading spaces per cell line) is read the same way.
* **TSV** — one row per line, cells separated by TABs ("规章\\t0\\t0\\t0"); a leading TAB is an
  empty first cell.
* **Cell-per-line without TABs** — rows separated by blank lines, one cell per line; an empty
  cell is a line holding a NBSP / full-width space, or, in a copy with no such line, an empty
  line inside its row (numbers follow it before the next label) or one more empty line than the
  row separator after it (`_parse`). Wrapped labels split over two lines are re-joined when together they form a known
  template label ("商业" + "企业" → "商业\\n企业").
* **Space-aligned** — one row per line, fields separated by 2+ spaces or full-width spaces, or
  single spaces when the line ends in a number ("规章 0 0 0").
* **Markdown** — "#" headings become paragraphs, pipe tables become rows ("|---|" separator lines
  dropped, empty cells kept, "<br>" → "\\n", "\\|" unescaped), "**bold**" markers are stripped.

Cell text is stripped at its edges only; width, digits and brackets are kept as printed (the
mapping layer normalises). Empty or whitespace-only input raises `UnsupportedFormat`.
"""

from __future__ import annotations

import html
import itertools
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from tasks.errors import UnsupportedFormat
from tasks.extract.inner_text import Row, looks_like_inner_text, split_inner_text
from tasks.extract.layout_text import looks_like_layout_text, read_layout_text
from tasks.extract.model import Block, Cell, Document, Paragraph, Table, TableRow
from tasks.extract.normalize import norm
from tasks.extract.sniff import decode_text
from tasks.extract.stream import ROW_LABELS, T3_GROUPS, T3_LABELS, join_wrapped_cells
from tasks.spec import t2, t3, t4

log = logging.getLogger(__name__)

_SHORT = 40
"""Longest line (characters) still taken for a table cell in layouts without explicit cell markers."""
_CONTINUATION_MAX = 12
"""Longest fragment taken as the rest of a cell split by a blank line inside a TAB-marked row."""
MAX_LINES = 20_000
"""Lines of a text file that are read; the rest are ignored (logged). A report copied as text runs to a
few thousand lines (a browser's or a PDF viewer's copy of a 5-page report about 1,200, one cell per
line): what follows line 20,000 is noise, and reading it would cost the report (10^7 lines took
minutes and more memory than a worker has; 20,000 lines of noise cost about half a second)."""

_EDGE_WS = " \t\r\n\f\v\xa0\u3000\u2002\u2003\u2009\u200b\ufeff"

_VALUE = re.compile(r"^[+\-－]?[0-9０-９][0-9０-９,，.．]*\s*(?:件|项|个|元|万元)?$")
_MARKER = re.compile(r"^[-－—–/／]+$")
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．，]|[（(][一二三四五六七八九十]+[）)])")
_SENTENCE_END = ("。", "；", ";", "！", "？")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
_HTML_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_PIPE_SPLIT = re.compile(r"(?<!\\)\|")
_SPACE_FIELDS = re.compile(r"[ \xa0]{2,}|\u3000+")
_MD_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$")
_PAGE_NO = re.compile(r"^(?:[-－—–\s]*[0-9０-９]+[-－—–\s]*|第\s*[0-9０-９]+\s*页(?:\s*[，,/／]?\s*共\s*[0-9０-９]+\s*页)?)$")


# ---------------------------------------------------------------- data held while parsing


@dataclass
class _Row:
    cells: list[str]
    source: str  # "tab" | "tsv" | "plain" | "space" | "pipe"


@dataclass
class _Tentative:
    """Short untagged lines that are table rows if a table follows them, paragraphs otherwise."""

    row: _Row
    lines: list[str] = field(default_factory=list)


_Item = _Row | _Tentative | Paragraph


# ---------------------------------------------------------------- small predicates


def _strip(text: str) -> str:
    return text.strip(_EDGE_WS)


def _is_blank(line: str) -> bool:
    """A row/paragraph separator: an empty line, one of ASCII spaces only, or a Markdown rule ("---")."""
    return line.strip(" \r\f\v") == "" or bool(_MD_RULE.match(line))


def _is_soft_blank(line: str) -> bool:
    """Whitespace with a NBSP / full-width space but no TAB: an empty cell in a cell-per-line block
    without TABs, a row break in a TAB-marked block (a copied <p>&nbsp;</p>)."""
    return "\t" not in line and _strip(line) == ""


def is_value(text: str) -> bool:
    """A printed number ("0", "24", "９６１７１.６", "251000元") or a dash/slash marker."""
    s = _strip(text)
    return bool(s) and (bool(_VALUE.match(s)) or bool(_MARKER.match(s)))


def _is_heading(text: str) -> bool:
    return bool(_HEADING.match(_strip(text)))


def _is_prose(text: str) -> bool:
    """Narrative rather than a cell: long, or ends a sentence."""
    s = _strip(text)
    return len(s) > _SHORT or s.endswith(_SENTENCE_END)


def _is_pipe_line(line: str) -> bool:
    s = line.strip()
    return len(s) >= 2 and (s.startswith("|") or (s.endswith("|") and s.count("|") >= 2))


def _is_tsv_line(line: str) -> bool:
    """A TAB remains between contents once one leading TAB (a cell marker) is removed."""
    s = line[1:] if line.startswith("\t") else line
    return "\t" in s.rstrip(_EDGE_WS)


def _clean_markup(line: str) -> str:
    return _MD_BOLD.sub(r"\1", line)


# ---------------------------------------------------------------- known labels (wrapped-label repair)


@lru_cache(maxsize=1)
def _known_labels() -> frozenset[str]:
    labels: set[str] = set()
    for col in (*t3.COLUMNS, *t4.COLUMNS):
        labels.update(col.labels)
    for row in (*t3.ROWS, *t4.ROWS):
        labels.update(row.labels)
        if row.group:
            labels.add(row.group)
    for block in t2.BLOCKS:
        labels.add(block.caption)
        for row in block.rows:
            labels.update(row.labels)
        for cols in block.columns.values():
            for col in cols:
                labels.update(col.labels)
    labels.update(("信息内容", "申请人情况", "法人或其他组织", "行政复议", "行政诉讼"))
    return frozenset(norm(label) for label in labels)


def merge_wrapped_labels(cells: list[str]) -> list[str]:
    """Re-join label fragments that were split over lines: 2–4 consecutive non-empty, non-numeric
    fragments whose concatenation is a known template label become one cell ("商业", "企业" →
    "商业\\n企业"). Everything else is left as it is."""
    known = _known_labels()
    out: list[str] = []
    i = 0
    while i < len(cells):
        merged = False
        for j in range(min(len(cells), i + 4), i + 1, -1):
            frags = cells[i:j]
            if all(f and not is_value(f) for f in frags) and norm("".join(frags)) in known:
                out.append("\n".join(frags))
                i = j
                merged = True
                break
        if not merged:
            out.append(cells[i])
            i += 1
    return out


# ---------------------------------------------------------------- line groups

_INDENT = re.compile(r"^ {2,8}(?=\S)")
_INNER_GAP = re.compile(r"\S {2,}\S")


def _tabs_from_indent(lines: list[str]) -> list[str]:
    """A web copy whose TABs were expanded to spaces: indented lines are TAB-marked cells again.

    Applies only when no line holds a TAB, at least 8 lines are indented by 2–8 ASCII spaces with a
    single field each (not space-aligned columns), and some of them are numbers. A line of 2+ spaces
    is then an empty cell ("\t"); narrative lines are not indented (or use full-width spaces).
    """
    if any("\t" in line for line in lines):
        return lines
    indented = [x for x in lines if _INDENT.match(x) and not _INNER_GAP.search(x.strip())]
    if len(indented) < 8 or not any(is_value(x) for x in indented):
        return lines
    log.debug("text reader: %d space-indented lines read as TAB-marked cells", len(indented))
    out: list[str] = []
    for line in lines:
        if _INDENT.match(line) and not _INNER_GAP.search(line.strip()):
            out.append("\t" + line.lstrip(" "))
        elif len(line) >= 2 and line.strip(" ") == "":
            out.append("\t")
        else:
            out.append(line)
    return out


def _bare_pipe_lines(lines: list[str]) -> set[int]:
    """Indices of GFM table lines written without outer pipes ("规章 | 0 | 0"): the header line
    above a "---|---" separator and the "|"-holding lines below it."""
    found: set[int] = set()
    for i, line in enumerate(lines):
        if "|" not in line or "-" not in line or not _MD_SEPARATOR.match(line):
            continue
        if i > 0 and "|" in lines[i - 1]:
            found.add(i - 1)
        found.add(i)
        j = i + 1
        while j < len(lines) and "|" in lines[j] and not _is_blank(lines[j]):
            found.add(j)
            j += 1
    return found


def _groups(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Split lines into ("blank", [..]), ("pipe", [..]), ("heading", [line]), ("block", [..]) groups."""
    groups: list[tuple[str, list[str]]] = []
    bare_pipes = _bare_pipe_lines(lines)
    for i, line in enumerate(lines):
        if i in bare_pipes:
            kind = "pipe"
        elif _is_blank(line):
            kind = "blank"
        elif _is_pipe_line(line):
            kind = "pipe"
        elif _MD_HEADING.match(line) and not line.startswith("\t"):
            groups.append(("heading", [line]))
            continue
        else:
            kind = "block"
        if groups and groups[-1][0] == kind:
            groups[-1][1].append(line)
        else:
            groups.append((kind, [line]))
    return groups


# ---------------------------------------------------------------- per-layout parsers


def _pipe_rows(lines: list[str]) -> list[_Row]:
    rows: list[_Row] = []
    for line in lines:
        if _MD_SEPARATOR.match(line):
            continue
        s = line.strip()
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|") and not s.endswith("\\|"):
            s = s[:-1]
        cells = [_pipe_cell(part) for part in _PIPE_SPLIT.split(s)]
        rows.append(_Row(cells, "pipe"))
    return rows


def _pipe_cell(raw: str) -> str:
    text = _HTML_BR.sub("\n", _clean_markup(raw))
    text = html.unescape(_MD_ESCAPE.sub(r"\1", text))
    return "\n".join(p for p in (_strip(x) for x in text.split("\n")) if p)


def _tsv_items(lines: list[str]) -> list[_Item]:
    items: list[_Item] = []
    for line in lines:
        if "\t" in line:
            if line.strip(_EDGE_WS) == "":
                continue
            items.append(_Row([_strip(c) for c in line.split("\t")], "tsv"))
        elif _is_heading(line) or _is_prose(line):
            items.append(Paragraph(_strip(line)))
        elif _strip(line):
            items.append(_Row([_strip(line)], "tsv"))
    return items


def _tab_items(lines: list[str], prev: _Item | None, blanks: int) -> list[_Item]:
    """A blank-line-delimited block with TAB-marked cell lines (the web-copy layout)."""
    items: list[_Item] = []
    first_tab = next(i for i, line in enumerate(lines) if line.startswith("\t"))
    lead = [_strip(x) for x in lines[:first_tab] if _strip(x)]
    cells: list[str] = []
    continuing = bool(
        lead
        and isinstance(prev, _Row)
        and prev.source == "tab"
        and prev.cells
        and prev.cells[-1]
        and not is_value(prev.cells[-1])
        and blanks == 1
        and all(_is_fragment(x) for x in lead)
    )
    if continuing:
        assert isinstance(prev, _Row)
        prev.cells[-1] = "\n".join(p for p in (prev.cells[-1], *lead) if p)
        cells = prev.cells
    else:
        items.extend(Paragraph(x) for x in lead)

    for line in lines[first_tab:]:
        if line.startswith("\t"):
            cells.append(_strip(line))
        elif _is_soft_blank(line):
            if cells and not continuing:
                items.append(_tab_row(cells))
            cells, continuing = [], False
        elif _is_heading(line) or _is_prose(line):
            if cells and not continuing:
                items.append(_tab_row(cells))
            items.append(Paragraph(_strip(line)))
            cells, continuing = [], False
        elif cells:
            cells[-1] = "\n".join(p for p in (cells[-1], _strip(line)) if p)
        else:
            cells.append(_strip(line))
    if cells and not continuing:
        items.append(_tab_row(cells))
    return items


def _is_fragment(text: str) -> bool:
    """A short piece of a label: what a blank line inside a cell leaves on its own line."""
    return len(text) <= _CONTINUATION_MAX and not _is_heading(text) and not is_value(text) and not any(
        ch in text for ch in "：:。；;"
    )


def _tab_row(cells: list[str]) -> _Row | Paragraph:
    """A TAB-marked row; a lone TAB-indented sentence or section heading is a paragraph, not a row."""
    if len(cells) == 1 and (_is_prose(cells[0]) or _is_heading(cells[0])):
        return Paragraph(cells[0])
    return _Row(cells, "tab")


def _space_fields(line: str, among_rows: bool = False) -> list[str] | None:
    """Fields of a space-aligned table line, or None if the line is not one.

    Fields are separated by 2+ spaces or full-width spaces, or by single spaces when the line ends
    in a number. Without a trailing number a line needs 3+ short fields — or, `among_rows` (its
    block is already known to be space-aligned rows), 2+ fields of cell length.
    """
    s = _strip(line)
    if not s or s.endswith(_SENTENCE_END):
        return None
    fields = [f for f in (_strip(x) for x in _SPACE_FIELDS.split(s)) if f]
    if len(fields) < 2:
        tokens = s.split()
        if len(tokens) >= 2 and is_value(tokens[-1]):
            fields = tokens
        else:
            return None
    if any(len(f) > _SHORT for f in fields):
        return None
    if is_value(fields[-1]) or among_rows or (len(fields) >= 3 and all(len(f) <= 12 for f in fields)):
        return fields
    return None


def _plain_items(lines: list[str]) -> list[_Item]:
    """A blank-line-delimited block without TABs: paragraphs, a cell-per-line row, or space-aligned rows."""
    content = [x for x in lines if _strip(x)]
    spaced = [_space_fields(x) for x in content]
    if len(content) >= 2 and sum(f is not None for f in spaced) * 2 >= len(content):
        items: list[_Item] = []
        for line, fields in zip(content, spaced, strict=True):
            fields = fields or _space_fields(line, among_rows=True)
            if fields is not None:
                items.append(_Row(fields, "space"))
            elif _is_heading(line) or _is_prose(line):
                items.append(Paragraph(_strip(line)))
            else:
                items.append(_Tentative(_Row([_strip(line)], "space"), [_strip(line)]))
        return items
    if len(content) == 1:
        line = content[0]
        if _PAGE_NO.match(_strip(line)) and not is_value(line):
            return [Paragraph(_strip(line))]
        if spaced[0] is not None:
            return [_Row(spaced[0], "space")]
        if _is_heading(line) or _is_prose(line):
            return [Paragraph(_strip(line))]
        return [_Tentative(_Row([_strip(line)], "plain"), [_strip(line)])]
    if content and not any(_is_prose(x) for x in content):
        cells = [_strip(x) for x in lines]  # a whitespace-only line here holds NBSP/U+3000: an empty cell
        row = _Row(merge_wrapped_labels(cells), "plain")
        if any(is_value(c) for c in cells):
            return [row]
        return [_Tentative(row, [_strip(x) for x in content])]
    return [Paragraph(_strip(x)) for x in content]


# ---------------------------------------------------------------- assembly


def _lone_label(item: _Item | None) -> _Row | None:
    """The row of lines that are a data row's label and nothing else, after its groups' labels (its
    cells, if any, all empty lines): `二、上年结转政府信息公开申请数量` (read as a heading on its own),
    `三、本年度办理结果` / `（一）予以公开`."""
    if isinstance(item, Paragraph) and norm(item.text) in ROW_LABELS:  # a label that reads as a heading
        return _Row([item.text], "plain")
    if not isinstance(item, _Tentative) or not item.row.cells:
        return None
    *groups, label = (norm(c) for c in item.row.cells)
    if label in ROW_LABELS and all(g in T3_GROUPS for g in groups):
        return item.row
    return None


def _next_row(items: list[_Item], heading: bool) -> bool:
    """The block opens the next row: a labelled row of numbers, a data row's label alone (after its groups'
    labels), or, with `heading`, a heading (the section after the table)."""
    if _starts_row(items):
        return True
    if not items:
        return False
    return _lone_label(items[0]) is not None or (heading and isinstance(items[0], Paragraph) and _is_heading(items[0].text))


def _ends_in_value(item: _Item | None) -> bool:
    return isinstance(item, _Row) and item.source == "plain" and bool(item.cells) and is_value(item.cells[-1])


def _values_only(items: list[_Item]) -> list[str] | None:
    """The cells of a block that is one cell-per-line row of numbers only (a single number too)."""
    if len(items) != 1:
        return None
    row = items[0].row if isinstance(items[0], _Tentative) else items[0]
    if isinstance(row, _Row) and row.source == "plain" and all(is_value(c) for c in row.cells):
        return row.cells
    return None


def _starts_row(items: list[_Item]) -> bool:
    """The block opens a labelled row of numbers (a row's label, then its cells)."""
    return bool(items) and isinstance(items[0], _Row) and items[0].source == "plain" and not is_value(
        items[0].cells[0]
    ) and any(is_value(c) for c in items[0].cells)


def _row_separator(groups: list[tuple[str, list[str]]]) -> int:
    """How many empty lines part two rows of a cell-per-line copy without TABs: the fewest that follow
    a line holding a number before a line that is not one (1 in a web copy; a copy spaced out more
    has more)."""
    seps = [
        len(groups[i][1])
        for i in range(1, len(groups) - 1)
        if groups[i][0] == "blank" and groups[i - 1][0] == "block" and groups[i + 1][0] == "block"
        and is_value(groups[i - 1][1][-1]) and not is_value(groups[i + 1][1][0])
        and not any("\t" in x for x in groups[i - 1][1] + groups[i + 1][1])
    ]
    return min(seps, default=1)


def _go_on(items: list[_Item], row: _Row, cells: list[str]) -> None:
    """The last item's row goes on with `cells`; a data row's label read alone becomes that row."""
    row.cells.extend(cells)
    if items[-1] is not row:  # a data row's label and its empty cells: a row, not a paragraph
        items[-1] = row


def _parse(lines: list[str]) -> list[_Item]:
    """Items of the lines' groups. In a cell-per-line copy without TABs an empty cell is an empty line
    (nothing else is left of it): a row ending in a number followed, after k empty lines, by lines
    that are all numbers goes on with k empty cells and those numbers (a new row starts with its
    label); the empty lines after a row ending in a number beyond the copy's row separator
    (`_row_separator`) are empty cells closing it, when the next row follows (before a heading or a
    paragraph, more empty lines are only a wider break). A copy that prints its empty cells as NBSP
    lines has no empty cell of this kind. A data row's label alone on its line followed by empty lines
    and then numbers has those empty cells first (no separator comes inside a row); followed by more
    empty lines than the separator and then the next label, the lines beyond the separator are its
    empty cells (a row printed all empty, as pages that print zeros as empty cells do); the table
    reader then checks the row's count."""
    items: list[_Item] = []
    groups = _groups(lines)
    sep = _row_separator(groups)
    marked = any(_is_soft_blank(x) and not _is_blank(x) for x in lines)  # NBSP cells: empty lines are breaks
    # a copy whose rows print a label's line right above its first number's: the lines of a row are not apart,
    # so empty lines after a label alone are its empty cells (a viewer's copy parts every line instead)
    tight = any(
        kind == "block" and any(norm(a) in ROW_LABELS and is_value(b) for a, b in itertools.pairwise(group))
        for kind, group in groups
    )
    blanks = 0
    for n, (kind, group) in enumerate(groups):
        prev = items[-1] if items else None
        # the row empty lines may go on: one ending in a number, or a data row's label alone (in a tight copy)
        row = None if marked else (prev if isinstance(prev, _Row) and _ends_in_value(prev) else None)
        if row is None and tight and not marked:
            row = _lone_label(prev)
        if kind == "blank":
            blanks += len(group)
            if row is not None and len(group) > sep and n + 1 < len(groups):
                nxt = groups[n + 1]
                after = _plain_items(nxt[1]) if nxt[0] == "block" and not any("\t" in x for x in nxt[1]) else []
                # before a heading more empty lines are a wider break, unless they make a table-三 row whole
                labels = next((i for i, c in enumerate(row.cells) if is_value(c) or not c), len(row.cells))
                whole = (labels > 0 and norm(row.cells[labels - 1]) in T3_LABELS
                         and len(row.cells) - labels + len(group) - sep == len(t3.COLUMNS))  # fmt: skip
                if _values_only(after) is None and _next_row(after, heading=whole):
                    _go_on(items, row, [""] * (len(group) - sep))
            continue
        if kind == "block" and blanks and row is not None and not any("\t" in x for x in group):
            more = _values_only(_plain_items([_clean_markup(x) for x in group]))
            if more is not None:
                _go_on(items, row, [""] * blanks + more)  # within a row no separator: every empty line a cell
                blanks = 0
                continue
        if kind == "pipe":
            items.extend(_pipe_rows(group))
        elif kind == "heading":
            m = _MD_HEADING.match(group[0])
            assert m is not None
            text = _MD_ESCAPE.sub(r"\1", _clean_markup(m.group(2)))
            if text:
                items.append(Paragraph(_strip(text)))
        else:
            group = [_clean_markup(x) for x in group]
            if any(_is_tsv_line(x) for x in group):
                items.extend(_tsv_items(group))
            elif any(x.startswith("\t") for x in group):
                items.extend(_tab_items(group, prev, blanks))
            else:
                items.extend(_plain_items(group))
        blanks = 0
    return items


def _resolve(items: list[_Item]) -> list[_Row | Paragraph]:
    """Tentative rows are rows when a definite row follows before any paragraph; else paragraphs."""
    out: list[_Row | Paragraph] = []
    row_ahead = False
    for item in reversed(items):
        if isinstance(item, _Row):
            row_ahead = True
            out.append(item)
        elif isinstance(item, Paragraph):
            row_ahead = False
            out.append(item)
        elif row_ahead:
            out.append(item.row)
        else:
            out.extend(Paragraph(x) for x in reversed(item.lines))
    out.reverse()
    return out


def _blocks(items: list[_Row | Paragraph]) -> list[Block]:
    blocks: list[Block] = []
    rows: list[TableRow] = []
    for item in items:
        if isinstance(item, _Row):
            rows.append(TableRow(cells=[Cell(text=t) for t in item.cells]))
            continue
        if rows:
            blocks.append(Table(rows=rows, positioned=False))
            rows = []
        if item.text:
            blocks.append(item)
    if rows:
        blocks.append(Table(rows=rows, positioned=False))
    return blocks


def _first_lines(text: str, n: int) -> str:
    """The text up to its `n`-th line break (found without splitting the whole text into lines)."""
    end = -1
    for _ in range(n):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    rest = text.count("\n", end + 1) + 1
    log.warning("text reader: only the first %d lines are read; %d more are ignored", n, rest)
    return text[:end]


def _read_viewer_copy(text: str) -> Document:
    """Text from a PDF in reading order (`pdftotext` without `-layout`, pages ended by form feeds): a
    line per cell or per line of narrative, no rows. Every line is a paragraph, with its page and its
    run (lines without a blank line between: one text block of the viewer, read top to bottom and
    left to right); table location rebuilds the tables from the order of their numbers
    (tasks.extract.stream). A table-三 row's numbers wrapped in their cells, their ends on a later line,
    are joined where exactly one joining adds up (`stream.join_wrapped_cells`)."""
    pages = text.split("\f")
    if pages and not pages[-1].strip(_EDGE_WS):
        pages.pop()
    lines: list[Paragraph] = []
    run = 0
    for n, page in enumerate(pages, start=1):
        for line in page.split("\n"):
            if _strip(line):
                lines.append(Paragraph(_strip(line), page=n, run=run))
            else:
                run += 1
        run += 1
    blocks: list[Block] = list(join_wrapped_cells(lines))  # numbers wrapped in their cells, joined where they add up
    return Document(media="text", blocks=blocks, pages=max(1, len(pages)))


def read_text(data: bytes) -> Document:
    """Read a plain-text / Markdown report into paragraphs and unpositioned tables.

    Raises `UnsupportedFormat("empty document")` for empty or whitespace-only input.
    """
    text = decode_text(data)
    text = text.lstrip("\ufeff")
    if not text.strip(_EDGE_WS):
        raise UnsupportedFormat("empty document")
    text = _first_lines(text.replace("\r\n", "\n").replace("\r", "\n"), MAX_LINES)
    if looks_like_layout_text(text):  # pdftotext -layout and the like: columns aligned by spaces
        return read_layout_text(text)
    if "\f" in text and "\t" not in text and "|" not in text:
        return _read_viewer_copy(text)
    if looks_like_inner_text(text):  # a browser's copy of a page whose cells hold paragraphs
        items: list[_Row | Paragraph] = [
            _tab_row([_strip(c) for c in x.cells]) if isinstance(x, Row) else Paragraph(_strip(x.text))
            for x in split_inner_text(text)
        ]
        blocks = _blocks(items)
        return Document(media="text", blocks=blocks, pages=1)
    lines = _tabs_from_indent(text.split("\n"))
    blocks = _blocks(_resolve(_parse(lines)))
    n_tables = sum(isinstance(b, Table) for b in blocks)
    log.debug("text reader: %d blocks, %d tables, %d lines", len(blocks), n_tables, len(lines))
    return Document(media="text", blocks=blocks, pages=1)
