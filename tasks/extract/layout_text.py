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

from tasks.extract.model import BBox, Document, Table
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


_NUMBER = re.compile(r"[+-]?\d[\d,.]*")
WRAP_REACH = 2
"""Lines apart (the first one above or below that prints anything in the column) at which a line of bare
numbers and a number in the same columns are the two halves of one number wrapped in its cell."""


MIN_ROW_NUMBERS = 4
"""Numbers a line of bare numbers holds to be a row's line (the halves of a wrapped cell around it)."""


def _tokens(line: str, wide_as_two: bool) -> list[tuple[str, int, int]]:
    out = []
    for m in re.finditer(r"\S+", line):
        c0 = _col_at(line, m.start(), wide_as_two)
        out.append((m.group(), c0, c0 + _col_at(m.group(), len(m.group()), wide_as_two)))
    return out


def wrapped_numbers(lines: list[str], wide_as_two: bool) -> set[tuple[int, int]]:
    """(line, start column) of every number that may be half of a number wrapped in a narrow cell
    (pdftotext keeps "1180" over "61" for 118061 as two lines): two lines of bare numbers (no label
    on them) where a number of one is, within WRAP_REACH lines, the first thing printed in the
    columns of a number of the other (a row's line of numbers next to another row's labelled line
    is the common layout of labels wrapped above their numbers, and is not flagged); or a number
    above and one below a line of at least MIN_ROW_NUMBERS bare numbers, in columns that line leaves
    empty (one cell wrapped around its row's line: "1188" / the row's six numbers / "7"); or a line of a row's numbers that
    do not add up whose numbers joined with the ones right under (over) them do
    (`_wrap_that_adds_up`: "740 … 105" over "反复申请 8 … 14").
    Both halves are flagged. Rows of such numbers are not read:
    which lines belong to which cell is not known (a row label may stand between the halves, and the
    last digits alone add up like the row does)."""
    toks = [_tokens(line, wide_as_two) for line in lines]
    bare = [bool(t) and all(_NUMBER.fullmatch(x) for x, _, _ in t) for t in toks]
    flagged: set[tuple[int, int]] = set()
    for i, line_toks in enumerate(toks):
        if i + 2 < len(toks) and bare[i + 1] and len(toks[i + 1]) >= MIN_ROW_NUMBERS:
            # a row's numbers on a line of their own, a number above and one below in a column they leave
            # empty: one cell wrapped around its row's line ("1188" / the row's six numbers / "7")
            for x, c0, c1 in line_toks:
                if _NUMBER.fullmatch(x) and not any(a < c1 and c0 < b for _, a, b in toks[i + 1]):
                    below = [a for y, a, b in toks[i + 2] if a < c1 and c0 < b and _NUMBER.fullmatch(y)]
                    if below:
                        flagged.add((i, c0))
                        flagged.update((i + 2, a) for a in below)
        flagged.update(_wrap_that_adds_up(toks, i))
        if not bare[i]:
            continue
        for _, c0, c1 in line_toks:
            for step in (-1, 1):
                j = i + step
                while 0 <= j < len(toks) and abs(j - i) <= WRAP_REACH:
                    hit = [(x, a, b) for x, a, b in toks[j] if a < c1 and c0 < b]
                    if hit:
                        nums = [(x, a) for x, a, _ in hit if _NUMBER.fullmatch(x)]
                        if nums and bare[j]:
                            flagged.add((i, c0))
                            flagged.update((j, a) for _, a in nums)
                        break
                    j += step
    return flagged


def _as_int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _wrap_that_adds_up(toks: list[list[tuple[str, int, int]]], i: int) -> set[tuple[int, int]]:
    """Line i's numbers and the numbers right under (or over) them on the next (previous) line, when
    line i's do not add up (its last is not the sum of the others) and the numbers joined digit by
    digit do ("103 … 163" over "数量 147 … 281": 103147 + … = 163281): one row's numbers wrapped in
    their cells. A row whose own numbers do not add up (the source's error) is left alone unless the
    joined ones do."""
    nums = [(x, a, b) for x, a, b in toks[i] if _as_int(x) is not None]
    if len(nums) < MIN_ROW_NUMBERS or sum(int(x) for x, _, _ in nums[:-1]) == int(nums[-1][0]):
        return set()
    for j in (i + 1, i - 1):
        if not 0 <= j < len(toks):
            continue
        joined, spots = [], set()
        for x, a, b in nums:
            part = [(y, c) for y, c, d in toks[j] if c < b and a < d and _as_int(y) is not None]
            if len(part) > 1:
                break
            if part:
                joined.append(int(x + part[0][0]) if j > i else int(part[0][0] + x))
                spots.add((j, part[0][1]))
            else:
                joined.append(int(x))
        else:
            if spots and sum(joined[:-1]) == joined[-1]:
                return spots | {(i, a) for _, a, _ in nums}
    return set()


def _drop_wrapped(blocks: list, flagged: set[tuple[int, int]], wide: bool, lines: list[str]) -> list:
    """The page's blocks without the table rows (and paragraphs) holding a flagged number."""
    if not flagged:
        return blocks
    spots = []
    for i, c0 in flagged:
        end = next(b for x, a, b in _tokens(lines[i], wide) if a == c0)
        y = -(i + 1) * LINE_H + FONT / 2
        spots.append(((c0 + end) / 2 * CELL_W, y))

    def hit(bbox: BBox | None) -> bool:
        return bbox is not None and any(bbox[0] <= x <= bbox[2] and bbox[1] - 1 <= y <= bbox[3] + 1 for x, y in spots)

    out = []
    for b in blocks:
        if isinstance(b, Table):
            rows = [r for r in b.rows if not any(hit(c.bbox) for c in r.cells)]
            if rows:
                out.append(Table(rows=rows, positioned=b.positioned, page=b.page))
        else:  # a Paragraph has no bbox: it stays
            out.append(b)
    return out


MIN_JOINED_DIGITS = 4
"""Digits a total wrapped around its row's line must have once joined (a narrow cell wraps long numbers)."""


def join_wrapped_totals(lines: list[str], wide_as_two: bool) -> list[str]:
    """A row's total wrapped in its narrow cell around the row's line ("1066" above, "1" below the
    line "二、上年结转… 8157 846 173 263 954 268"): the nearest things printed in the total's columns
    above and below the line are two bare numbers right of the line's last number; joined top to
    bottom they are the total when they make at least MIN_JOINED_DIGITS digits and the sum of the
    line's own six numbers (H3.3). The joined total is written on the row's line in the upper half's
    column and the halves are blanked; any other reading leaves the lines as they are (and
    `wrapped_numbers` keeps such rows from being read)."""
    out = list(lines)
    toks = [_tokens(line, wide_as_two) for line in out]
    parts = len(_T3_PARTS)
    for i in range(1, len(out) - 1):
        nums = [(x, a, b) for x, a, b in toks[i] if _as_int(x) is not None]
        if len(nums) != parts or toks[i][-parts:] != nums:
            continue
        last_end = nums[-1][2]
        halves = []
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(out) and abs(j - i) <= WRAP_REACH:
                hit = [t for t in toks[j] if t[2] > last_end + 1]
                if hit:
                    halves.append((j, hit[0]) if len(hit) == 1 and _as_int(hit[0][0]) is not None else None)
                    break
                j += step
        if len(halves) != 2 or None in halves:
            continue
        (ja, (xa, ca, cb)), (jb, (xb, cc, cd)) = halves  # type: ignore[misc]
        if not (ca < cd and cc < cb) or len(xa + xb) < MIN_JOINED_DIGITS:
            continue  # not one column
        if int(xa + xb) != sum(int(x) for x, _, _ in nums):
            continue
        width = _col_at(out[i], len(out[i]), wide_as_two)
        if width >= ca:
            continue
        out[i] = out[i] + " " * (ca - width) + xa + xb
        for j, x, c0 in ((ja, xa, ca), (jb, xb, cc)):
            k = _index_at(out[j], c0, wide_as_two)
            out[j] = out[j][:k] + " " * len(x) + out[j][k + len(x) :]
        toks = [_tokens(line, wide_as_two) for line in out]
    return out


_T3_PARTS = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
             "legal_service_org", "other_org")  # fmt: skip
"""Table 三's six applicant columns, whose sum is the row's 总计 (H3.3)."""


def _index_at(line: str, col: int, wide_as_two: bool) -> int:
    """The index in `line` of the character at display column `col`."""
    c = 0
    for k, ch in enumerate(line):
        if c >= col:
            return k
        c += 2 if wide_as_two and _wide(ch) else 1
    return len(line)


def read_layout_text(text: str) -> Document:
    pages = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
    all_lines = [line for page in pages for line in page.split("\n")]
    # pdftotext counts a CJK character as one column; a terminal rendering as two: take whichever aligns
    wide = _alignment_spread(all_lines, True) < _alignment_spread(all_lines, False)
    doc = Document(media="text", blocks=[], pages=len(pages))
    for n, page in enumerate(pages, start=1):
        lines = join_wrapped_totals(page.expandtabs(8).split("\n"), wide)
        chars = _chars(lines, wide)
        if chars:
            blocks = page_blocks(PageContent(chars, [], [], False, []), n)
            doc.blocks.extend(_drop_wrapped(blocks, wrapped_numbers(lines, wide), wide, lines))
    return doc
