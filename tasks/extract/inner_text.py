"""Text copied from a web page whose table cells hold paragraphs (a browser's `innerText`, what
selecting the page and copying it gives).

A browser writes a `<td><p>…</p></td>` table as one piece of text per cell: the cell's paragraphs
with a blank line between them, a TAB on a line of its own between two cells of a row
(`"80\\n\\n\\t\\n\\n1"`), three or more line breaks between rows, and a rowspan cell once, in the
first row it covers. An empty cell (`&nbsp;`) is a line holding a NBSP; a cell that is empty
without one leaves two TABs next to each other, or, closing its row, a TAB followed by the row's
break (`"0\\n\\n\\t\\n\\n\\n\\n\\n行政规范性文件"`: the row ends with an empty cell, the next row
starts; never read as one more cell of the row). Paragraphs outside the tables are separated by one
blank line, as everywhere.

`split_inner_text(text)` recognises that layout and cuts it into rows of cells and paragraphs, in
order; the text reader turns them into its tables. A cell whose label is split over paragraphs
(`"行政事业性\\n\\n收费\\n\\n\\t0"`) is one cell again: short label fragments are joined to the cell
they start or continue; a heading, a sentence or a number never is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.extract.values import is_value_like

MIN_TAB_LINES = 4
"""Lines holding only a TAB between blank lines that make a text an innerText copy of cell paragraphs
(where they outnumber the TAB-marked cell lines that follow one another, as in a copy whose cells are
lines of their own: the text reader's web-copy layout)."""
FRAGMENT_MAX = 12
"""Longest piece of text taken for part of a wrapped label."""

ROW_BREAK = 3
"""Line breaks that end a row (a cell's paragraphs are one blank line apart, two breaks)."""
_LONE_TAB = re.compile(r"\n *\n *\t *\n *\n")
_TAB_LINES = re.compile(r"\n\t[^\n]*\n\t")
_SEPARATOR = re.compile(r"[ \t\r\n\f\v]*[\t\n][ \t\r\n\f\v]*")
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．，]|[（(][一二三四五六七八九十]+[）)])")
_SENTENCE_END = ("。", "；", ";", "！", "？", "：", ":")
_EDGE_WS = " \t\r\n\f\v\xa0\u3000\u200b\ufeff"


def looks_like_inner_text(text: str) -> bool:
    lone = len(_LONE_TAB.findall(text))
    return lone >= MIN_TAB_LINES and lone > len(_TAB_LINES.findall(text))


@dataclass
class Row:
    cells: list[str]


@dataclass
class Para:
    text: str


@dataclass
class _State:
    out: list[Row | Para] = field(default_factory=list)
    row: list[list[str]] | None = None  # cells of the row being read, each a list of lines
    pending: list[str] = field(default_factory=list)  # pieces not yet known to be paragraphs or a first cell
    in_table: bool = False  # the pending pieces follow a row break (not a paragraph break after a table)

    def end_row(self) -> None:
        if self.row is not None:
            self.out.append(Row(["\n".join(c) for c in self.row]))
            self.row = None

    def flush_pending(self, as_row: bool = False) -> None:
        """Pending pieces are paragraphs; with `as_row`, their trailing fragments are a one-cell row
        (a caption row such as "第二十条第（一）项")."""
        first = self._first_cell() if as_row else []
        self.out.extend(Para(p) for p in self.pending)
        self.pending = []
        if first:
            self.out.append(Row(["\n".join(first)]))

    def _first_cell(self) -> list[str]:
        """The last pending piece, with the label fragments just before it: a row's first cell."""
        if not self.pending:
            return []
        if self.in_table and all(_is_fragment(p) for p in self.pending):
            cell, self.pending = self.pending, []  # a label wrapped over paragraphs of a row's first cell
            return cell
        return [self.pending.pop()]

    def start_row(self) -> None:
        first = self._first_cell()
        self.flush_pending()
        self.row = [first] if first else [[]]


def _strip(text: str) -> str:
    return text.strip(_EDGE_WS)


def _is_fragment(text: str) -> bool:
    s = _strip(text)
    return (
        0 < len(s) <= FRAGMENT_MAX
        and not _HEADING.match(s)
        and not is_value_like(s)
        and not s.endswith(_SENTENCE_END)
    )


def split_inner_text(text: str) -> list[Row | Para]:
    """Rows (cells left to right) and paragraphs of an innerText copy, in document order."""
    st = _State()
    pos = 0
    sep = ""
    for m in _SEPARATOR.finditer(text + "\n\n\n"):
        piece = text[pos : m.start()]
        pos = m.end()
        if piece.strip(" "):
            _take(st, sep, piece)
            sep = m.group()
        else:
            sep += m.group()
    st.end_row()
    st.flush_pending()
    return st.out


def _take(st: _State, sep: str, piece: str) -> None:
    """One piece of text and the separator before it."""
    tabs = sep.count("\t")
    breaks = sep.count("\n")
    piece = piece.strip(" ")
    if tabs and st.row is not None and sep[sep.rindex("\t") + 1 :].count("\n") >= ROW_BREAK:
        # the row's last cells are empty (no NBSP): their TABs, then the break to the next row
        st.row.extend([] for _ in range(tabs))
        tabs, breaks = 0, ROW_BREAK
    if tabs:
        if st.row is None:
            st.start_row()
        assert st.row is not None
        st.row.extend([] for _ in range(tabs - 1))  # TABs next to each other: empty cells between
        st.row.append([piece])
        return
    if breaks >= 3 or not breaks:
        in_table = st.row is not None or (bool(st.pending) and st.in_table)
        st.end_row()
        if st.pending:
            st.flush_pending(as_row=True)
        st.pending.append(piece)
        st.in_table = in_table
        return
    if st.row is not None:
        cell = st.row[-1]
        if cell and _is_fragment(cell[-1]) and _is_fragment(piece):
            cell.append(piece)  # a label wrapped over paragraphs of its cell
            return
        st.end_row()
        st.in_table = False
    if not st.pending:
        st.in_table = False
    st.pending.append(piece)
