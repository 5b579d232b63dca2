"""Pure geometry of a PDF page (pdfplumber's table pipeline): ruling segments → edges → cells →
grids → rows, and characters → lines → words. No pdfminer here: the input is a `PageContent` of
plain numbers, so a bug in this module is an internal error, never a "damaged file"."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tasks.extract.model import Cell, Table, TableRow
from tasks.extract.pdf.tolerances import SETTINGS, TableSettings

log = logging.getLogger(__name__)

Segment = tuple[float, float, float, float]
"""A straight segment (x0, y0, x1, y1) of a ruling line, in PDF points."""


# --- primitives -----------------------------------------------------------------------------------
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
    """What the geometry needs of one page: characters, ruling edges, pictures."""

    chars: list[Char]
    h_edges: list[Edge]
    v_edges: list[Edge]
    has_big_image: bool
    figures: list[tuple[float, float, float, float]]
    noise: str | None = None
    """Why the page was not read at all (set where it is read: too many characters drawn)."""


# --- characters → lines → text --------------------------------------------------------------------
def is_cjk(ch: str) -> bool:
    if not ch:
        return False
    o = ord(ch[0])
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FA1F


def chars_to_lines(chars: Iterable[Char], s: TableSettings = SETTINGS) -> list[list[Char]]:
    """Group characters into visual lines (top to bottom), each sorted left to right."""
    ordered = sorted(chars, key=lambda c: -c.cy)
    lines: list[list[Char]] = []
    cur: list[Char] = []
    cur_cy = 0.0
    cur_h = 0.0
    for c in ordered:
        h = c.height if c.height > 0 else c.size
        if cur and abs(c.cy - cur_cy) <= s.line_tol_ratio * min(h, cur_h):
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


def gap_is_space(left: Char, right: Char, s: TableSettings = SETTINGS) -> bool:
    gap = right.x0 - left.x1
    em = max(left.size, right.size, 1.0)
    ratio = s.cjk_space_gap_em if (is_cjk(left.text) or is_cjk(right.text)) else s.space_gap_em
    return gap > ratio * em


def line_text(line: Sequence[Char], s: TableSettings = SETTINGS) -> str:
    """The text of one visual line: characters by x, a space where the gap is wide."""
    parts: list[str] = []
    prev: Char | None = None
    for c in line:
        if prev is not None and gap_is_space(prev, c, s):
            parts.append(" ")
        parts.append(c.text)
        prev = c
    return " ".join("".join(parts).split())


def split_fragments(line: Sequence[Char], s: TableSettings = SETTINGS) -> list[list[Char]]:
    """Split a line at gaps wider than `fragment_gap_em` between visible characters; whitespace
    characters stay inside a fragment but never start or end one."""
    frags: list[list[Char]] = []
    cur: list[Char] = []
    prev: Char | None = None
    for c in line:
        if not c.text.strip():
            if cur:
                cur.append(c)
            continue
        if prev is not None and c.x0 - prev.x1 > s.fragment_gap_em * max(prev.size, c.size, 1.0):
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


def cell_text(chars: Iterable[Char], s: TableSettings = SETTINGS) -> str:
    lines = [line_text(line, s) for line in chars_to_lines(chars, s)]
    return "\n".join(t for t in lines if t)


# --- ruling segments → edges ----------------------------------------------------------------------
def segments_to_edges(segments: Iterable[Segment], s: TableSettings = SETTINGS) -> tuple[list[Edge], list[Edge]]:
    """Classify straight segments (x0, y0, x1, y1) into horizontal and vertical edges."""
    hs: list[Edge] = []
    vs: list[Edge] = []
    for x0, y0, x1, y1 in segments:
        if abs(y1 - y0) <= s.axis_tol and abs(x1 - x0) > 0:
            hs.append(Edge((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= s.axis_tol and abs(y1 - y0) > 0:
            vs.append(Edge((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return hs, vs


def rect_segments(
    x0: float, y0: float, x1: float, y1: float, stroked: bool = True, s: TableSettings = SETTINGS
) -> list[Segment]:
    """A thin rectangle is one line along its long side; a larger stroked one is its four sides.

    A larger rectangle that is only filled is shading (Word paints a white box behind every cell
    and every paragraph line): its sides are not rulings."""
    w, h = x1 - x0, y1 - y0
    if w <= s.thin_rect and h <= s.thin_rect:
        return []
    if h <= s.thin_rect:
        cy = (y0 + y1) / 2
        return [(x0, cy, x1, cy)]
    if w <= s.thin_rect:
        cx = (x0 + x1) / 2
        return [(cx, y0, cx, y1)]
    if not stroked:
        return []
    return [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)]


def merge_edges(edges: Iterable[Edge], s: TableSettings = SETTINGS) -> list[Edge]:
    """Snap edges whose positions are within `snap_tol` to their mean, then join overlapping segments."""
    ordered = sorted(edges, key=lambda e: e.pos)
    clusters: list[list[Edge]] = []
    for e in ordered:
        if clusters and e.pos - clusters[-1][-1].pos <= s.snap_tol:
            clusters[-1].append(e)
        else:
            clusters.append([e])
    out: list[Edge] = []
    for cl in clusters:
        pos = sum(e.pos for e in cl) / len(cl)
        cl.sort(key=lambda e: e.lo)
        cur = Edge(pos, cl[0].lo, cl[0].hi)
        for e in cl[1:]:
            if e.lo <= cur.hi + s.join_tol:
                cur.hi = max(cur.hi, e.hi)
            else:
                out.append(cur)
                cur = Edge(pos, e.lo, e.hi)
        out.append(cur)
    return [e for e in out if e.hi - e.lo >= s.min_edge_len]


# --- edges → cells → grids ------------------------------------------------------------------------
Rect = tuple[float, float, float, float]


def find_cells(h_edges: Sequence[Edge], v_edges: Sequence[Edge], s: TableSettings = SETTINGS) -> list[Rect]:
    """Cells (x0, y0, x1, y1) bounded by edges: for each intersection taken as a top-left corner,
    the smallest rectangle whose other corners are intersections connected to it by edges."""
    tol = s.intersect_tol
    # point (x, y) -> (ids of horizontal edges, ids of vertical edges) through it
    points: dict[tuple[float, float], tuple[set[int], set[int]]] = {}
    vs_sorted = sorted(range(len(v_edges)), key=lambda i: v_edges[i].pos)
    v_pos = [v_edges[i].pos for i in vs_sorted]
    for hi, h in enumerate(h_edges):
        lo_i = bisect_right(v_pos, h.lo - tol - 1e-9)
        for k in range(lo_i, len(vs_sorted)):
            vi = vs_sorted[k]
            v = v_edges[vi]
            if v.pos > h.hi + tol:
                break
            if v.lo - tol <= h.pos <= v.hi + tol:
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
    cells: list[Rect] = []
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


def group_cells(cells: Sequence[Rect]) -> list[list[Rect]]:
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
    groups: dict[int, list[Rect]] = defaultdict(list)
    for i, c in enumerate(cells):
        groups[find(i)].append(c)
    return list(groups.values())


def build_grid(cells: Sequence[Rect]) -> Grid:
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


def close_cut_rows(h: list[Edge], v: Sequence[Edge], s: TableSettings = SETTINGS) -> list[Edge]:
    """A row cut by a page break has no ruling where the page cuts it: browsers and HTML engines
    (Chromium, WeasyPrint) draw the cell sides down to the foot of the page and on from the top of
    the next, without a bottom or top border. Where at least `min_cut_columns` + 1 vertical edges end
    together at the page's lowest (highest) vertical extent and no horizontal edge runs there, the
    cut is closed by one, so the row's pieces become grid cells like any other."""
    out = list(h)
    for top in (True, False):
        y = max(e.hi for e in v) if top else min(e.lo for e in v)
        ends = [e for e in v if abs((e.hi if top else e.lo) - y) <= s.snap_tol]
        if len(ends) < s.min_cut_columns + 1:
            continue
        x0, x1 = min(e.pos for e in ends), max(e.pos for e in ends)
        if any(abs(e.pos - y) <= s.snap_tol and e.lo <= x0 + s.join_tol and e.hi >= x1 - s.join_tol for e in h):
            continue
        out.append(Edge(y, x0, x1))
    return out


def close_cut_columns(h: Sequence[Edge], v: list[Edge], chars: Sequence[Char] = (),
                      s: TableSettings = SETTINGS) -> list[Edge]:
    """A table reaching the page's printable edge loses its last column's outer side: a browser
    (Chromium) culls the vertical ruling there while the rows' horizontal rulings are drawn whole
    (a path partly outside the clip keeps its length). Where at least `min_cut_rows` + 1
    horizontal edges end together at the rightmost (leftmost) horizontal extent, beyond every
    vertical edge, the cut is closed by a vertical edge there, so the column's cells become grid
    cells.

    The glyphs beyond the clip are culled too, so the column is closed only when nothing of its
    text can be missing: it prints some text, and every line of it is centred in the column
    (within `cut_centre_em` of its size): a run whose end was culled is off centre. Otherwise the
    column stays outside the grid (its cells are not read)."""
    out = list(v)
    if not h or not v:
        return out
    for right in (True, False):
        x = max(e.hi for e in h) if right else min(e.lo for e in h)
        ends = [e for e in h if abs((e.hi if right else e.lo) - x) <= s.snap_tol]
        if len(ends) < s.min_cut_rows + 1:
            continue
        if (right and any(e.pos >= x - s.snap_tol for e in v)) or (not right and any(e.pos <= x + s.snap_tol for e in v)):
            continue
        inner = max(e.pos for e in v) if right else min(e.pos for e in v)
        y0, y1 = min(e.pos for e in ends), max(e.pos for e in ends)
        lo, hi = min(inner, x), max(inner, x)
        col = [c for c in chars if c.text.strip() and lo < c.cx < hi and y0 < c.cy < y1]
        if not col:
            continue
        centre = (lo + hi) / 2
        lines = chars_to_lines(col, s)
        if all(abs((ln[0].x0 + ln[-1].x1) / 2 - centre) <= s.cut_centre_em * max(c.size for c in ln) for ln in lines):
            out.append(Edge(x, y0, y1))
    return out


def find_grids(
    h_edges: Sequence[Edge], v_edges: Sequence[Edge], s: TableSettings = SETTINGS, chars: Sequence[Char] = ()
) -> list[Grid]:
    h = merge_edges(h_edges, s)
    v = merge_edges(v_edges, s)
    if not h or not v:
        return []
    h = close_cut_rows(h, v, s)
    v = close_cut_columns(h, v, chars, s)
    if len(h) + len(v) > s.max_ruling_edges:
        log.warning("page has %d ruling edges: treated as a drawing, tables read without rulings", len(h) + len(v))
        return []
    grids = [build_grid(g) for g in group_cells(find_cells(h, v, s)) if len(g) >= s.min_table_cells]
    return [g for g in grids if len(g.xs) >= 3]  # one column: a frame around text


def place_chars(grids: Sequence[Grid], chars: Iterable[Char]) -> list[Char]:
    """Put every character into the grid cell holding its centre; return the others (free text)."""
    free: list[Char] = []
    for ch in chars:
        cx, cy = ch.cx, ch.cy
        for g in grids:
            gc = g.locate(cx, cy)
            if gc is not None:
                gc.chars.append(ch)
                break
        else:
            free.append(ch)
    return free


# --- grids → rows ---------------------------------------------------------------------------------
def grid_to_table(grid: Grid, page: int, s: TableSettings = SETTINGS) -> Table:
    """Rows are the bands between the grid's distinct horizontal boundaries, top to bottom: a cell
    appears in the first band it covers, with `rowspan` the number of bands it spans."""
    tops = sorted(grid.ys, reverse=True)
    band_of = {y: i for i, y in enumerate(tops)}
    rows: list[list[Cell]] = [[] for _ in range(len(tops) - 1)]
    for gc in grid.cells:
        first = band_of[gc.y1]
        span = band_of[gc.y0] - first
        rows[first].append(
            Cell(
                text=cell_text(gc.chars, s),
                x0=gc.x0,
                x1=gc.x1,
                page=page,
                bbox=(gc.x0, gc.y0, gc.x1, gc.y1),
                rowspan=max(span, 1),
            )
        )
    table_rows = [TableRow(sorted(r, key=lambda c: c.x0), page=page) for r in rows if r]
    return Table(table_rows, positioned=True, page=page)
