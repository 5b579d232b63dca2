"""PDF reader: pdfminer.six characters and ruling lines into a `Document` (paragraphs and tables).

The reader never uses pdfminer's text-flow order (spec §7 V1, §8). Each page is interpreted once
without layout analysis; everything else is rebuilt from coordinates:

1. ruling lines (LTLine, thin LTRect, the four sides of larger LTRect, straight segments of LTCurve)
   become horizontal and vertical edges, snapped and joined with a small tolerance;
2. edges → intersections → cells (the smallest rectangle whose four corners are intersections
   connected by edges, as pdfplumber does); cells sharing corners form one table;
3. every character goes to the cell containing its centre; a cell's text is its characters grouped
   into lines (top to bottom) joined with "\\n";
4. the distinct horizontal cell boundaries of a table define its row bands: a cell appears in the
   first band it covers, with `rowspan` the number of bands it spans;
5. characters outside ruled tables are grouped into visual lines; runs of lines that look like an
   unruled table (several lines carrying numbers in x-separated fragments) become positioned
   `Table` blocks, every other line becomes a `Paragraph`.

Only this module imports pdfminer.
"""

from __future__ import annotations

import io
import logging
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from tasks.errors import CorruptDocument, EncryptedDocument, XxgkError
from tasks.spec.sections import SECTIONS
from tasks.extract.model import Block, Cell, Document, Figure, Paragraph, Table, TableRow

log = logging.getLogger(__name__)

# --- tolerances (PDF points unless stated otherwise) -------------------------------------------
SNAP_TOL = 1.5
"""Edges whose positions differ by at most this much are collinear (one ruling line)."""
JOIN_TOL = 1.5
"""Collinear edge segments separated by at most this gap are joined into one."""
INTERSECT_TOL = 1.5
"""An edge may stop this short of the edge it meets and still intersect it."""
THIN_RECT = 2.0
"""A rectangle at most this thick is a line; thicker rectangles contribute their four sides."""
MIN_EDGE_LEN = 3.0
"""Joined edges shorter than this are ignored (dots, tick marks)."""
AXIS_TOL = 0.5
"""A segment whose ends differ by at most this much in y (x) is horizontal (vertical)."""
LINE_TOL_RATIO = 0.5
"""Characters are on one visual line when their y-centres differ by at most this × char height."""
SPACE_GAP_EM = 0.3
"""A gap wider than this (in ems) between two non-CJK characters becomes a space."""
CJK_SPACE_GAP_EM = 0.5
"""Next to a CJK character a wider gap is needed: Word/LibreOffice autospace adds ~0.25 em."""
FRAGMENT_GAP_EM = 1.0
LABEL_REACH = 1.5
"""A label-only line attaches to a value row within this many line heights (V9)."""
OPENER_REACH = 4.5
"""…and a line opening a row label ("1.本机关…") to one within this many: a long label may wrap twice above its numbers."""
"""In an unruled table, text fragments (cells) are separated by gaps wider than this (in ems)."""
MIN_TABLE_CELLS = 2
"""A ruled grid with fewer cells is a frame around text, not a table."""
UNRULED_MIN_ROWS = 3
"""An unruled table needs at least this many lines carrying numbers…"""
UNRULED_WIDE_ROW = 5
"""…or one line with at least this many numeric fragments (table 4 is one row of 15 numbers)."""
UNRULED_MAX_LINE_GAP = 2.5
"""Lines of one unruled table are at most this many line heights apart."""
MAX_RULING_EDGES = 3000
"""Above this many joined edges a page is a vector drawing, not a table page: rulings are ignored."""
IMAGE_MIN_AREA_RATIO = 0.1
"""An image covering at least this share of the page can hold a table."""
FIGURE_MIN_AREA_RATIO = 0.02
"""Images at least this large are kept as Figure blocks (where a table printed as a picture sits)."""
IMAGE_PAGE_MAX_CHARS = 120
"""A page with such an image and at most this many non-space characters is an image page."""

_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*、")
_SECTION_WORDS = tuple(words for sec in SECTIONS for words in sec.keywords)


def _is_section_heading(text: str) -> bool:
    """"三、收到和处理…" is a heading; "一、本年新收…申请数" (a table-3 label wrapped off its numbers) is not."""
    return bool(_HEADING.match(text)) and any(all(w in text for w in words) for words in _SECTION_WORDS)
"""A section heading (三、收到和处理…) never belongs to an unruled table: it bounds one."""
_NUMERIC = re.compile(r"^[+\-]?\d[\d,]*(?:\.\d+)?%?$")


# --- geometry primitives ------------------------------------------------------------------------
@dataclass(slots=True)
class Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(slots=True)
class Edge:
    """A horizontal (`pos` = y, span in x) or vertical (`pos` = x, span in y) ruling segment."""

    pos: float
    lo: float
    hi: float


@dataclass(slots=True)
class GridCell:
    x0: float
    y0: float
    x1: float
    y1: float
    chars: list[Char] = field(default_factory=list)


@dataclass(slots=True)
class Grid:
    """One ruled table on a page: its cells and the elementary slots used to place characters."""

    cells: list[GridCell]
    xs: list[float]
    ys: list[float]
    slots: dict[tuple[int, int], int]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])

    def locate(self, x: float, y: float) -> GridCell | None:
        if not (self.xs[0] <= x <= self.xs[-1] and self.ys[0] <= y <= self.ys[-1]):
            return None
        i = min(bisect_right(self.xs, x) - 1, len(self.xs) - 2)
        j = min(bisect_right(self.ys, y) - 1, len(self.ys) - 2)
        k = self.slots.get((i, j))
        return None if k is None else self.cells[k]


@dataclass(slots=True)
class PageContent:
    chars: list[Char]
    h_edges: list[Edge]
    v_edges: list[Edge]
    has_big_image: bool
    figures: list[tuple[float, float, float, float]]


# --- characters → lines → text ------------------------------------------------------------------
def _is_cjk(ch: str) -> bool:
    if not ch:
        return False
    o = ord(ch[0])
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FA1F


def chars_to_lines(chars: Iterable[Char]) -> list[list[Char]]:
    """Group characters into visual lines (top to bottom), each sorted left to right."""
    ordered = sorted(chars, key=lambda c: -c.cy)
    lines: list[list[Char]] = []
    cur: list[Char] = []
    cur_cy = 0.0
    cur_h = 0.0
    for c in ordered:
        h = c.height if c.height > 0 else c.size
        if cur and abs(c.cy - cur_cy) <= LINE_TOL_RATIO * min(h, cur_h):
            cur.append(c)
            n = len(cur)
            cur_cy += (c.cy - cur_cy) / n
            cur_h += (h - cur_h) / n
        else:
            if cur:
                lines.append(cur)
            cur, cur_cy, cur_h = [c], c.cy, h
    if cur:
        lines.append(cur)
    for line in lines:
        line.sort(key=lambda c: c.x0)
    return lines


def _gap_is_space(left: Char, right: Char) -> bool:
    gap = right.x0 - left.x1
    em = max(left.size, right.size, 1.0)
    ratio = CJK_SPACE_GAP_EM if (_is_cjk(left.text) or _is_cjk(right.text)) else SPACE_GAP_EM
    return gap > ratio * em


def line_text(line: Sequence[Char]) -> str:
    """The text of one visual line: characters by x, a space where the gap is wide."""
    parts: list[str] = []
    prev: Char | None = None
    for c in line:
        if prev is not None and _gap_is_space(prev, c):
            parts.append(" ")
        parts.append(c.text)
        prev = c
    return " ".join("".join(parts).split())


def split_fragments(line: Sequence[Char]) -> list[list[Char]]:
    """Split a line at gaps wider than FRAGMENT_GAP_EM between visible characters; whitespace
    characters stay inside a fragment but never start or end one."""
    frags: list[list[Char]] = []
    cur: list[Char] = []
    prev: Char | None = None
    for c in line:
        if not c.text.strip():
            if cur:
                cur.append(c)
            continue
        if prev is not None and c.x0 - prev.x1 > FRAGMENT_GAP_EM * max(prev.size, c.size, 1.0):
            frags.append(_rstrip(cur))
            cur = []
        cur.append(c)
        prev = c
    if cur:
        frags.append(_rstrip(cur))
    return frags


def _rstrip(chars: list[Char]) -> list[Char]:
    while chars and not chars[-1].text.strip():
        chars.pop()
    return chars


def cell_text(chars: Iterable[Char]) -> str:
    lines = [line_text(line) for line in chars_to_lines(chars)]
    return "\n".join(t for t in lines if t)


# --- ruling lines → edges → cells ---------------------------------------------------------------
def _segments_to_edges(
    segments: Iterable[tuple[float, float, float, float]],
) -> tuple[list[Edge], list[Edge]]:
    """Classify straight segments (x0, y0, x1, y1) into horizontal and vertical edges."""
    hs: list[Edge] = []
    vs: list[Edge] = []
    for x0, y0, x1, y1 in segments:
        if abs(y1 - y0) <= AXIS_TOL and abs(x1 - x0) > 0:
            hs.append(Edge((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= AXIS_TOL and abs(y1 - y0) > 0:
            vs.append(Edge((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return hs, vs


def rect_segments(
    x0: float, y0: float, x1: float, y1: float, stroked: bool = True
) -> list[tuple[float, float, float, float]]:
    """A thin rectangle is one line along its long side; a larger stroked one is its four sides.

    A larger rectangle that is only filled is shading (Word paints a white box behind every cell
    and every paragraph line): its sides are not rulings."""
    w, h = x1 - x0, y1 - y0
    if w <= THIN_RECT and h <= THIN_RECT:
        return []
    if h <= THIN_RECT:
        cy = (y0 + y1) / 2
        return [(x0, cy, x1, cy)]
    if w <= THIN_RECT:
        cx = (x0 + x1) / 2
        return [(cx, y0, cx, y1)]
    if not stroked:
        return []
    return [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)]


def merge_edges(edges: Iterable[Edge]) -> list[Edge]:
    """Snap edges whose positions are within SNAP_TOL to their mean, then join overlapping segments."""
    ordered = sorted(edges, key=lambda e: e.pos)
    clusters: list[list[Edge]] = []
    for e in ordered:
        if clusters and e.pos - clusters[-1][-1].pos <= SNAP_TOL:
            clusters[-1].append(e)
        else:
            clusters.append([e])
    out: list[Edge] = []
    for cl in clusters:
        pos = sum(e.pos for e in cl) / len(cl)
        cl.sort(key=lambda e: e.lo)
        cur = Edge(pos, cl[0].lo, cl[0].hi)
        for e in cl[1:]:
            if e.lo <= cur.hi + JOIN_TOL:
                cur.hi = max(cur.hi, e.hi)
            else:
                out.append(cur)
                cur = Edge(pos, e.lo, e.hi)
        out.append(cur)
    return [e for e in out if e.hi - e.lo >= MIN_EDGE_LEN]


def find_cells(h_edges: Sequence[Edge], v_edges: Sequence[Edge]) -> list[tuple[float, float, float, float]]:
    """Cells (x0, y0, x1, y1) bounded by edges: for each intersection taken as a top-left corner,
    the smallest rectangle whose other corners are intersections connected to it by edges."""
    # point (x, y) -> (ids of horizontal edges, ids of vertical edges) through it
    points: dict[tuple[float, float], tuple[set[int], set[int]]] = {}
    vs_sorted = sorted(range(len(v_edges)), key=lambda i: v_edges[i].pos)
    v_pos = [v_edges[i].pos for i in vs_sorted]
    for hi, h in enumerate(h_edges):
        lo_i = bisect_right(v_pos, h.lo - INTERSECT_TOL - 1e-9)
        for k in range(lo_i, len(vs_sorted)):
            vi = vs_sorted[k]
            v = v_edges[vi]
            if v.pos > h.hi + INTERSECT_TOL:
                break
            if v.lo - INTERSECT_TOL <= h.pos <= v.hi + INTERSECT_TOL:
                hs, vset = points.setdefault((v.pos, h.pos), (set(), set()))
                hs.add(hi)
                vset.add(vi)
    by_x: dict[float, list[float]] = defaultdict(list)
    by_y: dict[float, list[float]] = defaultdict(list)
    for x, y in points:
        by_x[x].append(y)
        by_y[y].append(x)
    for ys in by_x.values():
        ys.sort(reverse=True)  # top to bottom
    for xs in by_y.values():
        xs.sort()
    cells: list[tuple[float, float, float, float]] = []
    for (x, y), (p_h, p_v) in points.items():
        below = [yy for yy in by_x[x] if yy < y]
        right = [xx for xx in by_y[y] if xx > x]
        found = False
        for yb in below:
            b_h, b_v = points[(x, yb)]
            if not (p_v & b_v):
                continue
            for xr in right:
                r_h, r_v = points[(xr, y)]
                if not (p_h & r_h):
                    continue
                corner = points.get((xr, yb))
                if corner is None:
                    continue
                c_h, c_v = corner
                if (c_v & r_v) and (c_h & b_h):
                    cells.append((x, yb, xr, y))
                    found = True
                    break
            if found:
                break
    return cells


def group_cells(cells: Sequence[tuple[float, float, float, float]]) -> list[list[tuple[float, float, float, float]]]:
    """Cells sharing a corner belong to one table (union-find over corners)."""
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[float, float], int] = {}
    for i, (x0, y0, x1, y1) in enumerate(cells):
        for corner in ((x0, y0), (x0, y1), (x1, y0), (x1, y1)):
            j = owner.setdefault(corner, i)
            if j != i:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[ri] = rj
    groups: dict[int, list[tuple[float, float, float, float]]] = defaultdict(list)
    for i, c in enumerate(cells):
        groups[find(i)].append(c)
    return list(groups.values())


def build_grid(cells: Sequence[tuple[float, float, float, float]]) -> Grid:
    xs = sorted({v for c in cells for v in (c[0], c[2])})
    ys = sorted({v for c in cells for v in (c[1], c[3])})
    x_index = {x: i for i, x in enumerate(xs)}
    y_index = {y: i for i, y in enumerate(ys)}
    grid_cells = [GridCell(*c) for c in sorted(cells, key=lambda c: (-c[3], c[0]))]
    slots: dict[tuple[int, int], int] = {}
    for k, gc in enumerate(grid_cells):
        for i in range(x_index[gc.x0], x_index[gc.x1]):
            for j in range(y_index[gc.y0], y_index[gc.y1]):
                slots.setdefault((i, j), k)
    return Grid(grid_cells, xs, ys, slots)


def find_grids(h_edges: Sequence[Edge], v_edges: Sequence[Edge]) -> list[Grid]:
    h = merge_edges(h_edges)
    v = merge_edges(v_edges)
    if not h or not v:
        return []
    if len(h) + len(v) > MAX_RULING_EDGES:
        log.warning("page has %d ruling edges: treated as a drawing, tables read without rulings", len(h) + len(v))
        return []
    grids = [build_grid(g) for g in group_cells(find_cells(h, v)) if len(g) >= MIN_TABLE_CELLS]
    grids = [g for g in grids if len(g.xs) >= 3]  # one column: a frame around text
    return grids


def grid_to_table(grid: Grid, page: int) -> Table:
    """Rows are the bands between the grid's distinct horizontal boundaries, top to bottom."""
    tops = sorted(grid.ys, reverse=True)
    band_of = {y: i for i, y in enumerate(tops)}
    rows: list[list[Cell]] = [[] for _ in range(len(tops) - 1)]
    for gc in grid.cells:
        first = band_of[gc.y1]
        span = band_of[gc.y0] - first
        rows[first].append(
            Cell(
                text=cell_text(gc.chars),
                x0=gc.x0,
                x1=gc.x1,
                page=page,
                bbox=(gc.x0, gc.y0, gc.x1, gc.y1),
                rowspan=max(span, 1),
            )
        )
    table_rows = [TableRow(sorted(r, key=lambda c: c.x0), page=page) for r in rows if r]
    return Table(table_rows, positioned=True, page=page)


# --- unruled tables -----------------------------------------------------------------------------
@dataclass(slots=True)
class TextLine:
    chars: list[Char]
    frags: list[list[Char]]
    top: float
    bottom: float
    numeric: int

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.top - self.bottom


def _frag_cells(frag: list[Char], page: int) -> list[Cell]:
    text = line_text(frag)
    x0 = min(c.x0 for c in frag)
    x1 = max(c.x1 for c in frag)
    y0 = min(c.y0 for c in frag)
    y1 = max(c.y1 for c in frag)
    tokens = text.split()
    if len(tokens) > 1 and all(_NUMERIC.match(t) for t in tokens):
        # numbers typed with plain spaces: one cell per number, positioned by their own chars
        out: list[Cell] = []
        for sub in _split_on_space(frag):
            out.extend(_frag_cells(sub, page))
        if len(out) == len(tokens):
            return out
    return [Cell(text=text, x0=x0, x1=x1, page=page, bbox=(x0, y0, x1, y1))]


def _split_on_space(frag: list[Char]) -> list[list[Char]]:
    parts: list[list[Char]] = []
    cur: list[Char] = []
    prev: Char | None = None
    for c in frag:
        if prev is not None and _gap_is_space(prev, c) and cur:
            parts.append(cur)
            cur = []
        cur.append(c)
        prev = c
    if cur:
        parts.append(cur)
    return parts


_VALUE_MARK = re.compile(r"^(?:[-—–―/／]+|[+\-]?\d[\d,]*(?:\.\d+)?(?:%|元|万元|件|项)?)$")


def _numeric_count(frags: list[list[Char]]) -> int:
    """Numbers in the run of value fragments that ends the line: a table row's values come last,
    while prose interleaves its numbers with words ("2023 年 1 月 1 日起")."""
    n = 0
    for f in reversed(frags):
        tokens = line_text(f).split()
        if not tokens or not all(_VALUE_MARK.match(t) for t in tokens):
            break
        n += sum(1 for t in tokens if _NUMERIC.match(t) or t[:1].isdigit() or t[:1] in "+-" and t[1:2].isdigit())
    return n


def make_text_lines(chars: Iterable[Char]) -> list[TextLine]:
    out: list[TextLine] = []
    for line in chars_to_lines(chars):
        visible = [c for c in line if c.text.strip()]
        if not visible:
            continue
        frags = split_fragments(line)
        out.append(
            TextLine(
                chars=line,
                frags=frags,
                top=max(c.y1 for c in visible),
                bottom=min(c.y0 for c in visible),
                numeric=_numeric_count(frags),
            )
        )
    return out


def _is_value_row(line: TextLine) -> bool:
    return line.numeric >= 1 and len(line.frags) >= 2


def _group_lines(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    """Split lines (top to bottom) where the vertical gap exceeds UNRULED_MAX_LINE_GAP line heights;
    a section heading is a group of its own."""
    groups: list[list[TextLine]] = []
    after_heading = False
    for ln in lines:
        heading = ln.numeric == 0 and len(ln.frags) == 1 and _is_section_heading(line_text(ln.chars))
        if groups and not heading and not after_heading:
            prev = groups[-1][-1]
            h = max(min(prev.height, ln.height), 1.0)
            if prev.bottom - ln.top <= UNRULED_MAX_LINE_GAP * h:
                groups[-1].append(ln)
                continue
        groups.append([ln])
        after_heading = heading
    return groups


def _looks_like_table(group: Sequence[TextLine]) -> bool:
    multi = sum(1 for ln in group if ln.numeric >= 2 and len(ln.frags) >= 2)
    rows = sum(1 for ln in group if _is_value_row(ln))
    wide = any(ln.numeric >= UNRULED_WIDE_ROW for ln in group)
    return multi >= UNRULED_MIN_ROWS or (rows >= UNRULED_MIN_ROWS and multi >= 1) or wide


_ROW_OPENER = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]{1,2}[)）]|[一二三四五六七八九十]{1,2}[、.．]|\d{1,2}[.、．])")


def _attach_labels(group: Sequence[TextLine]) -> tuple[list[TextLine], dict[int, list[TextLine]], list[TextLine]]:
    """Value rows; label-only pieces attached to a value row (keyed by its id); the other lines.

    Each fragment of a label-only line (a group label and a leaf label side by side are two
    fragments) attaches to the nearest value row when it lies entirely left of the numeric
    columns and within 1.5 line heights of that row (V9: a two-line label around its numbers).
    A fragment that opens a row label ("1.本机关…", "（四）…") prefers a value row with no text of
    its own in that column over a neighbour at the same distance that has some."""
    value_rows = [ln for ln in group if _is_value_row(ln)]
    first_value_x0 = {
        id(ln): min((min(c.x0 for c in f) for f in ln.frags if _numeric_count([f])), default=float("inf"))
        for ln in value_rows
    }
    attached: dict[int, list[TextLine]] = defaultdict(list)
    standalone: list[TextLine] = []
    for ln in group:
        if _is_value_row(ln):
            continue
        if ln.numeric:
            standalone.append(ln)
            continue
        pieces = [_piece(f) for f in ln.frags] if len(ln.frags) > 1 else [ln]
        homes = [_label_home(piece, value_rows, first_value_x0) for piece in pieces]
        if any(h is None for h in homes):
            standalone.append(ln)
            continue
        for piece, home in zip(pieces, homes):
            attached[id(home)].append(piece)
    return value_rows, attached, standalone


def _piece(frag: list[Char]) -> TextLine:
    visible = [c for c in frag if c.text.strip()] or frag
    return TextLine(frag, [frag], max(c.y1 for c in visible), min(c.y0 for c in visible), 0)


def _label_home(piece: TextLine, value_rows: Sequence[TextLine], first_value_x0: dict[int, float]) -> TextLine | None:
    x0 = min(c.x0 for c in piece.chars)
    right = max(c.x1 for c in piece.chars)
    opens_row = bool(_ROW_OPENER.match(line_text(piece.chars)))
    best: TextLine | None = None
    dist = float("inf")
    for vr in value_rows:
        h = max(vr.height, piece.height)
        d = abs(vr.cy - piece.cy)
        if d > h * (OPENER_REACH if opens_row else LABEL_REACH) or right > first_value_x0[id(vr)] + SNAP_TOL:
            continue
        if opens_row:  # a row's label starts above (or beside) its numbers, never below them
            if vr.cy > piece.cy:
                d += h
            if any(c.text.strip() and c.x1 > x0 and c.x0 < right for c in vr.chars):
                d += 2 * h  # that row already has its own label in this column
        if d < dist:
            best, dist = vr, d
    return best


def unruled_table(group: Sequence[TextLine], page: int) -> Table:
    """Rows from lines: value rows keep their fragments as cells, attached label lines are merged
    into the row's overlapping cell, other lines become rows of their own."""
    value_rows, attached, standalone = _attach_labels(group)
    rows: list[tuple[float, TableRow]] = []
    for ln in value_rows:
        extra = attached.get(id(ln), [])
        if not extra:
            cells = [c for f in ln.frags for c in _frag_cells(f, page)]
        else:
            cells = _merge_label_lines(ln, extra, page)
        rows.append((ln.cy, TableRow(cells, page=page)))
    for ln in standalone:
        rows.append((ln.cy, TableRow([c for f in ln.frags for c in _frag_cells(f, page)], page=page)))
    rows.sort(key=lambda r: -r[0])
    return Table([r for _, r in rows], positioned=True, page=page)


def _merge_label_lines(row: TextLine, extra: Sequence[TextLine], page: int) -> list[Cell]:
    """Merge label fragments of nearby lines into the row's fragments that overlap them in x."""
    frags: list[list[Char]] = [list(f) for f in row.frags]
    for ln in extra:
        for f in ln.frags:
            fx0 = min(c.x0 for c in f)
            fx1 = max(c.x1 for c in f)
            target = None
            for tf in frags:
                if min(c.x0 for c in tf) <= fx1 and fx0 <= max(c.x1 for c in tf):
                    target = tf
                    break
            if target is None:
                frags.append(list(f))
            else:
                target.extend(f)
    frags.sort(key=lambda f: min(c.x0 for c in f))
    out: list[Cell] = []
    for f in frags:
        if len(chars_to_lines(f)) > 1:
            x0 = min(c.x0 for c in f)
            x1 = max(c.x1 for c in f)
            bbox = (x0, min(c.y0 for c in f), x1, max(c.y1 for c in f))
            out.append(Cell(text=cell_text(f), x0=x0, x1=x1, page=page, bbox=bbox))
        else:
            out.extend(_frag_cells(f, page))
    return out


def text_blocks(lines: Sequence[TextLine], page: int) -> list[tuple[float, Block]]:
    """Paragraphs and unruled tables from the lines outside ruled tables, keyed by their top."""
    out: list[tuple[float, Block]] = []
    for group in _group_lines(lines):
        if not _looks_like_table(group):
            out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group)
            continue
        # single-fragment lines at either end (a heading, a note) stay paragraphs, unless they are
        # label lines of a value row
        _, attached, _ = _attach_labels(group)
        kept = {id(ln) for labels in attached.values() for ln in labels}

        def loose(ln: TextLine) -> bool:
            return len(ln.frags) < 2 and id(ln) not in kept

        lo, hi = 0, len(group)
        while lo < hi and loose(group[lo]):
            lo += 1
        while hi > lo and loose(group[hi - 1]):
            hi -= 1
        out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group[:lo])
        out.append((group[lo].top, unruled_table(group[lo:hi], page)))
        out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group[hi:])
    return out


# --- pdfminer access ----------------------------------------------------------------------------
def _page_content(layout: object) -> PageContent:
    from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage, LTLine, LTRect

    chars: list[Char] = []
    segments: list[tuple[float, float, float, float]] = []
    big_image = False
    figures: list[tuple[float, float, float, float]] = []
    px0, py0, px1, py1 = layout.bbox  # type: ignore[attr-defined]
    page_area = max((px1 - px0) * (py1 - py0), 1.0)

    stack: list[object] = list(layout)  # type: ignore[call-overload]
    while stack:
        o = stack.pop()
        if isinstance(o, LTChar):
            t = o.get_text()
            if t:
                chars.append(Char(t, o.x0, o.y0, o.x1, o.y1, o.size or (o.y1 - o.y0)))
        elif isinstance(o, LTRect):
            segments.extend(rect_segments(o.x0, o.y0, o.x1, o.y1, bool(o.stroke)))
        elif isinstance(o, LTLine):
            (ax, ay), (bx, by) = o.pts[0], o.pts[-1]
            segments.append((ax, ay, bx, by))
        elif isinstance(o, LTCurve):
            pts = o.pts
            segments.extend((pts[i][0], pts[i][1], pts[i + 1][0], pts[i + 1][1]) for i in range(len(pts) - 1))
        elif isinstance(o, LTImage):
            area = (o.x1 - o.x0) * (o.y1 - o.y0)
            if area >= FIGURE_MIN_AREA_RATIO * page_area:
                figures.append((o.x0, o.y0, o.x1, o.y1))
            if area >= IMAGE_MIN_AREA_RATIO * page_area:
                big_image = True
        elif isinstance(o, LTContainer):
            stack.extend(o)
    h, v = _segments_to_edges(segments)
    return PageContent(chars, h, v, big_image, figures)


def _safe_document(parser: object) -> object:
    """A pdfminer PDFDocument whose object lookups refuse reference loops (`4 0 obj 4 0 R endobj`,
    or 4 → 5 → 4): pdfminer's `resolve1` would follow such a chain forever."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdftypes import PDFObjRef

    class SafeDocument(PDFDocument):
        def getobj(self, objid: int) -> object:
            obj = super().getobj(objid)
            seen = {objid}
            while isinstance(obj, PDFObjRef):
                if obj.objid in seen:
                    raise CorruptDocument(
                        f"the PDF is damaged: object {objid} refers to itself through a loop of references"
                    )
                seen.add(obj.objid)
                obj = super().getobj(obj.objid)
            return obj

    return SafeDocument(parser)


def _damage(data: bytes, exc: Exception) -> str:
    """Why pdfminer failed, in an operator's words (a truncated upload is the common case)."""
    if isinstance(exc, RecursionError):
        what = "its objects or cross-reference tables loop or nest too deeply"
    else:
        what = f"{type(exc).__name__}: {exc}"
    if b"%%EOF" not in data[-2048:]:
        return f"the PDF is truncated or damaged (no %%EOF marker at its end; upload the complete file again): {what}"
    return f"the PDF is damaged and cannot be parsed ({what})"


def _iter_layouts(data: bytes) -> Iterator[object]:
    """Yield one pdfminer LTPage per page (no layout analysis); map pdfminer errors to ours.

    MemoryError is not a property of the file's format: it propagates (the caller reports the
    resource limit)."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    try:
        parser = PDFParser(io.BytesIO(data))
        doc = _safe_document(parser)
    except PDFPasswordIncorrect as exc:
        raise EncryptedDocument("the PDF is password protected: it cannot be opened without its password") from exc
    except PDFEncryptionError as exc:
        raise EncryptedDocument(f"the PDF is password protected with an unsupported encryption: {exc}") from exc
    except (XxgkError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure on bad bytes is a corrupt document
        raise CorruptDocument(_damage(data, exc)) from exc

    rsrc = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rsrc, laparams=None)
    interpreter = PDFPageInterpreter(rsrc, device)
    try:
        for page in PDFPage.create_pages(doc):  # type: ignore[arg-type]
            interpreter.process_page(page)
            yield device.get_result()
    except (XxgkError, MemoryError):
        raise
    except PDFPasswordIncorrect as exc:
        raise EncryptedDocument("the PDF is password protected: it cannot be opened without its password") from exc
    except Exception as exc:  # noqa: BLE001
        raise CorruptDocument(_damage(data, exc)) from exc


def page_blocks(content: PageContent, page: int) -> list[Block]:
    """All blocks of one page in reading order (top to bottom)."""
    grids = find_grids(content.h_edges, content.v_edges)
    free: list[Char] = []
    if grids:
        for ch in content.chars:
            cx, cy = ch.cx, ch.cy
            for g in grids:
                gc = g.locate(cx, cy)
                if gc is not None:
                    gc.chars.append(ch)
                    break
            else:
                free.append(ch)
    else:
        free = content.chars
    keyed: list[tuple[float, Block]] = [(g.ys[-1], grid_to_table(g, page)) for g in grids]
    keyed.extend(text_blocks(make_text_lines(free), page))
    keyed.extend((f[3], Figure(page=page, bbox=f)) for f in content.figures)
    keyed.sort(key=lambda kb: -kb[0])
    return [b for _, b in keyed]


def read_pdf(data: bytes) -> Document:
    """Read a PDF into paragraphs and tables in reading order (see the module docstring).

    Raises EncryptedDocument for a PDF that needs a password, CorruptDocument for bytes pdfminer
    cannot parse.
    """
    if b"%PDF" not in data[:1024]:
        raise CorruptDocument("the file has no PDF header")
    doc = Document(media="pdf", blocks=[], pages=0)
    n = 0
    for n, layout in enumerate(_iter_layouts(data), start=1):
        try:
            content = _page_content(layout)
            doc.blocks.extend(page_blocks(content, n))
        except (XxgkError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - geometry of a damaged page
            raise CorruptDocument(f"page {n} of the PDF cannot be read ({type(exc).__name__}: {exc})") from exc
        visible = sum(1 for c in content.chars if c.text.strip())
        if content.has_big_image and visible <= IMAGE_PAGE_MAX_CHARS:
            doc.image_pages.add(n)
    if n == 0:
        raise CorruptDocument("the PDF has no pages")
    doc.pages = n
    log.debug("read_pdf: %d pages, %d blocks", n, len(doc.blocks))
    return doc
