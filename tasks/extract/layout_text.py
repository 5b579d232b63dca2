"""Text converted from a PDF with its layout kept (`pdftotext -layout`, copies of fixed-width
renderings): every table row on one line, cells aligned by runs of spaces, labels wrapped over
the lines above and below their numbers, pages separated by form feeds.

Such text has geometry, only in character columns: each character becomes a glyph box and the
PDF reader's borderless-table logic (rows by baseline, labels attached to the nearest value row,
cells split at gaps) reads it, so it is written once.
"""

from __future__ import annotations

import re
import statistics
import unicodedata

from tasks.extract.model import Document
from tasks.extract.pdf import Char, PageContent, page_blocks

CELL_W = 5.0
"""Width of one character column, in pseudo-points (a 10 pt font's half em)."""
LINE_H = 14.0
FONT = 10.0
GAP_SIZE = CELL_W * 0.98
"""The size the fragment splitter measures gaps by: one blank column splits a fragment, since CJK
text has no spaces of its own ("不予处 4.无正当理由…" is a group label beside a row label)."""
_ALIGNED_ROW = re.compile(r"\S\s{2,}[+-]?\d[\d,.]*(?:\s{2,}[+-]?\d[\d,.]*){2,}\s*$")
MIN_ALIGNED_ROWS = 5


_INDENTED = re.compile(r"^ {6,}\S")
_BARE_VALUES = re.compile(r"^\s{6,}[+-]?\d[\d,.]*(?:\s+[+-]?\d[\d,.]*){2,}\s*$")


def looks_like_layout_text(text: str) -> bool:
    """A page laid out in character columns: several lines end in three or more numbers separated by
    runs of spaces, and the layout shows through (form feeds between pages, value rows whose labels
    wrapped onto other lines, or much of the text indented by spaces). Plain aligned rows, one per
    line, are left to the text reader."""
    lines = [line for line in text.splitlines() if line.strip()]
    if sum(1 for line in lines if _ALIGNED_ROW.search(line)) < MIN_ALIGNED_ROWS:
        return False
    bare = sum(1 for line in lines if _BARE_VALUES.match(line))
    indented = sum(1 for line in lines if _INDENTED.match(line))
    return "\f" in text or bare >= 2 or indented >= 0.2 * len(lines)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _columns(line: str, wide_as_two: bool) -> list[tuple[str, int, int]]:
    out, col = [], 0
    for ch in line:
        w = 2 if wide_as_two and _wide(ch) else 1
        if not ch.isspace():
            out.append((ch, col, col + w))
        col += w
    return out


def _col_at(line: str, index: int, wide_as_two: bool) -> int:
    return sum(2 if wide_as_two and _wide(ch) else 1 for ch in line[:index])


def _alignment_spread(lines: list[str], wide_as_two: bool) -> float:
    """How scattered the right ends of the value columns are across rows (lower is better aligned)."""
    ends: list[list[int]] = []
    for line in lines:
        if _ALIGNED_ROW.search(line):
            ends.append([_col_at(line, m.end(), wide_as_two) for m in re.finditer(r"[+-]?\d[\d,.]*(?=\s|$)", line)])
    if len(ends) < 2:
        return 0.0
    width = statistics.mode(len(e) for e in ends)
    rows = [e[-width:] for e in ends if len(e) >= width]
    return sum(statistics.pstdev(col) for col in zip(*rows))


def _chars(lines: list[str], wide_as_two: bool) -> list[Char]:
    out = []
    for i, line in enumerate(lines):
        y0 = -(i + 1) * LINE_H
        for ch, c0, c1 in _columns(line, wide_as_two):
            out.append(Char(ch, c0 * CELL_W, y0, c1 * CELL_W, y0 + FONT, GAP_SIZE))
    return out


def read_layout_text(text: str) -> Document:
    pages = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
    all_lines = [line for page in pages for line in page.split("\n")]
    # pdftotext counts a CJK character as one column; a terminal rendering as two: take whichever aligns
    wide = _alignment_spread(all_lines, True) < _alignment_spread(all_lines, False)
    doc = Document(media="text", blocks=[], pages=len(pages))
    for n, page in enumerate(pages, start=1):
        chars = _chars(page.expandtabs(8).split("\n"), wide)
        if chars:
            doc.blocks.extend(page_blocks(PageContent(chars, [], [], False, []), n))
    return doc
