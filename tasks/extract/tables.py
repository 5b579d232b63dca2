"""Locating the three statistical tables in a Document and mapping printed cells to canonical keys.

Written once for every medium: readers hand over logical table rows (cells left to right,
with horizontal positions where the medium has them); this module

1. finds value columns by header text (自然人 … 总计, 结果维持 …, 本年制发件数 …), by
   position where positions exist and by order (from the right end of a row) where not;
2. matches table-3 rows to the spec by an order-preserving alignment of fuzzy label
   scores, which survives lost characters (V11), group labels sharing a row (V4),
   labels broken at page breaks (V3), annotations (V16) and the 2021_mixed （六） row (V14);
3. returns the printed cells, never corrected.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.extract.model import BBox, Cell, Document, Paragraph, Table, TableRow
from tasks.extract.normalize import label_score, norm
from tasks.extract.values import is_value_like, parse_value
from tasks.spec import t2, t3, t4
from tasks.spec.model import Column

log = logging.getLogger(__name__)

MIN_ROW_SCORE = 0.6
"""Lowest label score at which a printed row can be taken for a spec row."""


@dataclass(frozen=True)
class Printed:
    """One printed cell, located: what the cell record's raw, page and bbox come from."""

    raw: str
    page: int | None
    bbox: BBox | None


@dataclass
class Line:
    """A table row in document order, with the table it came from and its place in that table."""

    table: int
    row: TableRow
    positioned: bool
    first: bool = True  # the table's first row
    last: bool = True  # the table's last row
    page_foot: bool = False  # the table's last row, and nothing after the table on its page

    @property
    def cells(self) -> list[Cell]:
        return self.row.cells


def lines_of(doc: Document) -> list[Line]:
    """Every table row in document order; a paragraph laid out like a row ("规章   0   0   0": fields
    separated by runs of spaces or tabs, ending in values) counts as a one-row table of its own."""
    out: list[Line] = []
    n = 0
    for j, b in enumerate(doc.blocks):
        if isinstance(b, Table):
            k = len(b.rows) - 1
            nxt = doc.blocks[j + 1] if j + 1 < len(doc.blocks) else None
            foot = nxt is None or nxt.page != b.page
            out.extend(Line(n, r, b.positioned, i == 0, i == k, foot and i == k) for i, r in enumerate(b.rows))
            n += 1
        elif isinstance(b, Paragraph) and (row := _row_from_text(b)) is not None:
            out.append(Line(n, row, False))
            n += 1
    return out


_CJK = re.compile(r"[\u4e00-\u9fff]")
_FIELD_GAP = re.compile(r"\t+| {2,}|\u3000+")


_GLUED = re.compile(r"^(\S*[\u4e00-\u9fff])(\d\S*)$")


def _unglue(fields: list[str]) -> list[str]:
    """A table-二 row label run into its first number ("行政事业性收费3691.19": a PDF whose label
    column ends where the value column starts, nothing between them) is two fields. Only a whole
    row label of table 二 is cut off, so prose that runs into a number stays prose."""
    m = _GLUED.match(fields[0]) if fields else None
    if m is None or _t2_row(m.group(1)) is None:
        return fields
    return [m.group(1), m.group(2), *fields[1:]]


def _row_from_text(p: Paragraph) -> TableRow | None:
    fields = [f.strip() for f in _FIELD_GAP.split(p.text.strip())]
    if len(fields) < 2:  # "规章 0 0 0": a CJK label, then values separated by single spaces
        fields = _unglue(p.text.split())
        if not _CJK.search(fields[0] if fields else ""):
            return None
    if len(fields) < 2 or not fields[0] or not all(fields):
        return None
    if not all(is_value_like(f) for f in fields[1:]):
        return None
    if is_value_like(fields[0]) and len(fields) < len(t4.COLUMNS):  # prose starting with a number
        return None
    return TableRow([Cell(f, page=p.page) for f in fields], page=p.page)


def printed(cell: Cell, row: TableRow) -> Printed:
    return Printed(cell.text, cell.page if cell.page is not None else row.page, cell.bbox)


def _centre(c: Cell) -> float:
    return (c.x0 + c.x1) / 2


def _overlap(c: Cell, span: tuple[float, float]) -> float:
    return max(0.0, min(c.x1, span[1]) - max(c.x0, span[0]))


def _assign_by_position(
    cells: list[Cell], spans: list[tuple[float, float]], one_column: bool = False
) -> list[Cell | None] | None:
    """Each span's cell by horizontal overlap; None if two cells claim one span (ambiguous), or, with
    `one_column`, if a printed cell lies across two spans (the numbers of neighbouring columns run
    together where no ruling parts them: "1693" and "638" read as one "1693638")."""
    out: list[Cell | None] = [None] * len(spans)
    for c in cells:
        best, best_ov = -1, 0.0
        for i, sp in enumerate(spans):
            ov = _overlap(c, sp)
            if ov > best_ov:
                best, best_ov = i, ov
        if best < 0 or best_ov < 0.3 * max(1e-6, min(c.x1 - c.x0, spans[best][1] - spans[best][0])):
            continue
        if one_column and c.text.strip() and any(
            i != best and _overlap(c, sp) >= 0.3 * max(1e-6, min(c.x1 - c.x0, sp[1] - sp[0]))
            for i, sp in enumerate(spans)
        ):
            return None
        if out[best] is not None:
            if out[best].text.strip() and c.text.strip():  # type: ignore[union-attr]
                return None
            if not c.text.strip():
                continue
        out[best] = c
    return out


def _with_blanks(
    cells: list[Cell | None], spans: list[tuple[float, float]], page: int | None, row: Sequence[Cell | None]
) -> list[Cell | None]:
    """`cells` (one per span) with each empty place a printed blank: an empty cell over its span, in the
    band of the `row`'s cells where their boxes are known."""
    boxes = [c.bbox for c in row if c is not None and c.bbox]
    band = (min(b[1] for b in boxes), max(b[3] for b in boxes)) if boxes else None
    return [
        c if c is not None else Cell("", x0, x1, page, (x0, band[0], x1, band[1]) if band else None)
        for c, (x0, x1) in zip(cells, spans)
    ]


# --------------------------------------------------------------------------------------------
# Table 3
# --------------------------------------------------------------------------------------------

_T3_HEADERS = {norm(c.label): c.key for c in t3.COLUMNS}


def _t3_header_spans(rows: list[Line]) -> list[tuple[float, float]] | None:
    """The x-spans of the seven value columns, from the header cells of one table."""
    found: dict[str, tuple[float, float]] = {}
    for line in rows[:8]:
        for c in line.cells:
            key = _T3_HEADERS.get(norm(c.text))
            if key and key not in found:
                found[key] = (c.x0, c.x1)
    if len(found) < len(t3.COLUMNS):
        return None
    spans = [found[c.key] for c in t3.COLUMNS]
    if any(b[0] < a[0] for a, b in itertools.pairwise(spans)):
        return None
    return spans


_ANNOTATION = re.compile(r"[(（][^()（）]*[)）]|[(（].*$|^[^()（）]*[)）]", re.S)
"""A word's annotation: a bracketed part, a bracket opened and not closed in the word (it runs on in
the words below), or the close of one opened above ("量(指" / "2019年" / "事项数)")."""


def _stacked_headers(rows: list[Line], labels: dict[str, str], upto_values: bool = True) -> list[tuple[float, float, str, int]]:
    """Column headers printed as words stacked over lines in narrow cells without rulings ("自然" over
    "人", "结果" over "维持"): the words of the header rows (those before the first row printing a
    number, or all of `rows` unless `upto_values`) starting at one x (±`STACK_TOL`) are read top to
    bottom, their annotations left out (V16: "上一年" / "项目数" / "量(指" …), and a run of them
    spelling one of `labels` (normalised label -> key) is that column. (x0, x1, key, last header
    row) per column found, left to right."""
    stacks: list[tuple[float, list[tuple[int, Cell, str]]]] = []
    for i, line in enumerate(rows[:STACKED_HEADER_ROWS]):
        if upto_values and any(c.text.strip() and is_value_like(c.text) for c in line.cells):
            break
        for c in line.cells:
            t = norm(_ANNOTATION.sub("", c.text))
            if not t or any(ch.isdigit() for ch in t):
                continue
            home = next((st for x, st in stacks if abs(x - c.x0) <= STACK_TOL), None)
            if home is None:
                stacks.append((c.x0, [(i, c, t)]))
            else:
                home.append((i, c, t))
    found: list[tuple[float, float, str, int]] = []
    for _, stack in stacks:
        texts = [t for *_, t in stack]
        for a, b in itertools.combinations(range(len(stack) + 1), 2):
            if (key := labels.get("".join(texts[a:b]))) is not None:
                part = [c for _, c, _ in stack[a:b]]
                found.append((min(c.x0 for c in part), max(c.x1 for c in part), key, stack[b - 1][0]))
                break
    found.sort()
    return found


def _t3_stacked_spans(rows: list[Line]) -> list[tuple[float, float]] | None:
    """The seven value columns' x-spans from header words stacked over lines (`_stacked_headers`:
    "自然" / "人", "法律服" / "务机构"), or None unless exactly the seven are found, in order and
    apart."""
    found = _stacked_headers(rows, _T3_HEADERS)
    if [k for _, _, k, _ in found] != [c.key for c in t3.COLUMNS]:
        return None
    spans = [(x0, x1) for x0, x1, _, _ in found]
    if any(b[0] < a[1] for a, b in itertools.pairwise(spans)):
        return None
    return spans


def _t3_value_spans(rows: list[Line]) -> list[tuple[float, float]] | None:
    """Column spans learned from complete rows (seven numbers at the end), for tables whose header
    could not be read (words split over lines): blank cells that left no trace in the text then
    keep their columns."""
    ncol = len(t3.COLUMNS)
    complete = [
        line.cells[-ncol:]
        for line in rows
        if len(line.cells) > ncol and all(parse_value(c.text)[1] == "reported" for c in line.cells[-ncol:])
    ]
    if len(complete) < 2:
        return None
    spans = [(min(r[i].x0 for r in complete), max(r[i].x1 for r in complete)) for i in range(ncol)]
    if any(b[0] < a[1] for a, b in itertools.pairwise(spans)):  # columns overlap: not one grid
        return None
    return spans


@dataclass
class T3Row:
    line: Line
    values: list[Cell | None]
    leaf: str
    full: str


_TRAILING_NUMBER = re.compile(r"(?:^|\s|(?<=[\u4e00-\u9fff]))[+\-]?\d[\d,]*(?:\.\d+)?$", re.M)
"""A line of a table-3 label ending in a number ("…执法案卷92", "…信息公开申请 52"): no table-3 label
ends so, it is a value merged into the label where no ruling parts them."""


def _split_t3_row(line: Line, spans: list[tuple[float, float]] | None, unlabelled: bool = False) -> T3Row | None:
    """The row's label and its seven value cells, or None if it is no table-3 data row. `unlabelled`
    accepts a row without a label (the piece of a row cut by a page break that holds only its
    numbers: at the foot of one page or the head of the next); its leaf label is ""."""
    cells = line.cells
    ncol = len(t3.COLUMNS)
    if spans is not None and line.positioned:
        left = spans[0][0]
        label_cells = [c for c in cells if _centre(c) < left]
        value_cells = [c for c in cells if _centre(c) >= left]
        values = _assign_by_position(value_cells, spans, one_column=True)
        if values is None:
            return None
        if any(c.text.strip() and not any(v is c for v in values) for c in value_cells):
            return None  # a printed cell under no column (or beside another in one): its column is unknown
        if line.row.empty and not value_cells and label_cells:
            # a label printed alone in its band (the reader vouches nothing is right of it): a row
            # printing every cell empty, each a printed blank
            label_box = label_cells[0].bbox
            values = [
                Cell("", sp[0], sp[1], line.row.page, (sp[0], label_box[1], sp[1], label_box[3]) if label_box else None) for sp in spans
            ]
        if any(v is not None and v.text.strip() for v in values):
            # nothing printed under a column of a row that prints values (no cell at all where the
            # medium draws none: borderless PDFs, converted text) is a printed blank
            values = _with_blanks(values, spans, line.row.page, values)
    else:
        if len(cells) < ncol + 1:
            return None
        label_cells, values = cells[:-ncol], list(cells[-ncol:])
    present = [v for v in values if v is not None]
    printed_cells = [v for v in present if v.text.strip()]
    words = sum(not is_value_like(v.text) for v in printed_cells)
    if words > 1 or (words == 1 and len(printed_cells) - words < 5):  # a header or a caption, not a data row
        return None
    if not present or sum(is_value_like(v.text) for v in present) < max(4, len(present) - 1):
        return None
    if not any(v.text.strip() for v in present) and len(present) < ncol:
        return None
    labels = [c.text for c in label_cells if c.text.strip()]
    if any(sum(bool(_ROW_MARK.match(norm(ln))) for ln in t.split("\n")) > 1 for t in labels):
        return None  # two rows' labels in one cell (each line opening a row): whose numbers these are is unknown
    if any(is_value_like(t) for t in labels):  # numbers left of the value columns: another table's row (table 4)
        return None
    if line.positioned and any(_TRAILING_NUMBER.search(t) for t in labels):
        return None  # the first column's number ran into the label where no ruling parts them: unreadable
    if not labels:
        return T3Row(line, values, "", "") if unlabelled and line.positioned and spans is not None else None
    return T3Row(line, values, norm(labels[-1]), norm("".join(labels)))


def _t3_candidates(lines: list[Line]) -> list[T3Row]:
    out: list[T3Row] = []
    spans: list[tuple[float, float]] | None = None
    by_table: dict[int, list[Line]] = {}
    for line in lines:
        by_table.setdefault(line.table, []).append(line)
    for _, rows in sorted(by_table.items()):
        own = (_t3_header_spans(rows) or _t3_stacked_spans(rows) or _t3_value_spans(rows)) if rows[0].positioned else None
        if own is not None:
            spans = own
        for line in rows:
            row = _split_t3_row(line, spans if line.positioned else None, line.first or line.last)
            if row is None and spans is not None and line.positioned:
                row = _split_t3_row(line, None)
            if row is not None:
                out.append(row)
    return _join_page_splits(out)


_ROW_MARK = re.compile(r"^(?:\(?[一二三四五六七八九十]{1,2}\)|[一二三四五六七八九十]{1,2}[、.]|\d{1,2}\.)")


def _complete(row: T3Row) -> bool:
    return all(v is not None and v.text.strip() for v in row.values)


def _all_blank(row: T3Row) -> bool:
    return all(v is None or not v.text.strip() for v in row.values)


def _join_page_splits(rows: list[T3Row]) -> list[T3Row]:
    """A row cut by a page break (V2/V3) comes as two rows, the foot of one table and the head of
    the next: either the second has a label that does not start with a row marker and does not read
    as a row on its own (the label ran on), or one of them has no label at all (the numbers closed
    one page and the label opens the next, or the label closed it and the numbers open the next).
    Make them one row again: labels joined, and each value cell's two parts joined top to bottom (a
    number wrapped inside its cell may be cut too: "326" / "3" is 3263). A piece without a label
    that joins nothing is dropped."""
    out: list[T3Row] = []
    for row in rows:
        prev = out[-1] if out else None
        cut = (
            prev is not None
            and row.line.table != prev.line.table
            and row.line.row.page != prev.line.row.page
            and prev.line.last
            and row.line.first  # the two halves meet at the page break: the foot of one table, the head of the next
        )
        if cut and _complete(prev) and _complete(row):  # type: ignore[arg-type]
            cut = False  # two full sets of numbers are two rows (the unlabelled one is not read), never one
        if cut and (
            not prev.leaf  # type: ignore[union-attr]
            or not row.leaf
            or (
                not _ROW_MARK.match(row.leaf)
                and (_all_blank(row) or _all_blank(prev) or _best_label_score(row.leaf) < CONTINUATION_SCORE)  # type: ignore[arg-type]
            )
        ):
            out[-1] = T3Row(prev.line, _join_values(prev.values, row.values), prev.leaf + row.leaf, prev.full + row.full)  # type: ignore[union-attr]
            continue
        out.append(row)
    return [r for r in out if r.leaf]


CONTINUATION_SCORE = 0.8
"""A label part scoring below this against every spec row is the tail of a row cut by a page break."""


def _best_label_score(text: str) -> float:
    return max(label_score(lbl, text) for _, lbl in _T3_SPEC)


def _join_values(top: list[Cell | None], bottom: list[Cell | None]) -> list[Cell | None]:
    out: list[Cell | None] = []
    for a, b in zip(top, bottom):
        if a is None or not a.text.strip():
            out.append(b if b is not None and b.text.strip() else a)
        elif b is None or not b.text.strip():
            out.append(a)
        else:
            out.append(Cell(a.text + "\n" + b.text, a.x0, a.x1, a.page, a.bbox, a.rowspan))
    return out


_T3_SPEC = [(r.key, norm(r.label)) for r in t3.ROWS]


def _row_score(label: str, cand: T3Row) -> float:
    return max(label_score(label, cand.leaf), label_score(label, cand.full) - 0.05)


def align(spec: list[tuple[str, str]], cands: list[T3Row]) -> dict[str, T3Row]:
    """Order-preserving best matching of printed rows to spec rows (Needleman–Wunsch, no gap cost)."""
    n, m = len(spec), len(cands)
    if not m:
        return {}
    score = [[_row_score(lbl, c) for c in cands] for _, lbl in spec]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = score[i][j]
            take = s + best[i + 1][j + 1] if s >= MIN_ROW_SCORE else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out: dict[str, T3Row] = {}
    i = j = 0
    while i < n and j < m:
        s = score[i][j]
        if s >= MIN_ROW_SCORE and best[i][j] == s + best[i + 1][j + 1]:
            out[spec[i][0]] = cands[j]
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


@dataclass
class T3Result:
    cells: dict[tuple[str, str], Printed]
    layout: str | None  # "2021" (three （六） leaves), "single" (one （六） row), None (not found)
    rows_found: int


def _owned(key: str, row: T3Row) -> bool:
    """The row's printed label is a piece of `key`'s label and of no other row's (or holds it whole)."""
    owners = {r.key for r in t3.ROWS for lbl in r.labels if row.leaf and (row.leaf in norm(lbl) or norm(lbl) in row.leaf)}
    return owners == {key}


def _adds_up(row: T3Row) -> bool:
    """Every cell printed, and the 总计 the sum of the six others (H3.3; a dash or 无 is 0 for the check)."""
    if not all(v is not None and v.text.strip() for v in row.values):
        return False
    nums = [parse_value(v.text) for v in row.values if v is not None]
    if any(st == "reported" and not isinstance(x, int) for x, st in nums):
        return False
    n = [x if st == "reported" and isinstance(x, int) else 0 for x, st in nums]
    return n[-1] == sum(n[:-1])


def read_t3(lines: list[Line], confirmed: bool = False) -> T3Result:
    """Table 三's rows matched to the spec's by their labels, in order. `confirmed` (a PDF viewer's copy,
    whose lines are not the printed rows: a line of a label wrapped in a narrow cell may end in another
    row's numbers or in the first lines of numbers wrapped in their cells): a row is kept only where
    its printed label is a piece of its own spec label and of no other row's and its numbers add up
    (H3.3)."""
    cands = _t3_candidates(lines)
    matched = align(_T3_SPEC, cands)
    if confirmed:
        matched = {k: r for k, r in matched.items() if _owned(k, r) and _adds_up(r)}
    # keep the rows of the table that holds the most matches (a stray row elsewhere cannot join)
    cells: dict[tuple[str, str], Printed] = {}
    for key, row in matched.items():
        for col, cell in zip(t3.COLUMNS, row.values):
            if cell is not None:
                cells[(key, col.key)] = printed(cell, row.line.row)
    leaves = [k for k in t3.OTHER_LEAVES if k in matched]
    layout = "2021" if leaves else ("single" if "other_total" in matched else None)
    if layout is None and matched:
        layout = "unknown"
    return T3Result(cells, layout, len(matched))


# --------------------------------------------------------------------------------------------
# Table 4
# --------------------------------------------------------------------------------------------

_T4_LEAVES = {norm(c.label): c.key for c in t4.COLUMNS}
_T4_BLOCKS = [(r.key, norm(r.label)) for r in t4.ROWS]


def _t4_header_end(rows: list[Line]) -> tuple[int, list[Cell]] | None:
    """Index of the last header row of a table-4 table, and its leaf header cells."""
    leaf_cells: list[Cell] = []
    last = -1
    for i, line in enumerate(rows[:8]):
        hits = [c for c in line.cells if norm(c.text) in _T4_LEAVES]
        if hits:
            leaf_cells.extend(hits)
            last = i
    if len(leaf_cells) < 5:
        return None
    return last, leaf_cells


def _value_run(rows: list[Line], n: int) -> list[tuple[Cell, TableRow]] | None:
    """The first `n` value cells after the header, from the right end of the first row holding them."""
    for line in rows:
        cells = line.cells
        if (
            len(cells) >= n
            and all(is_value_like(c.text) for c in cells[-n:])
            and (any(c.text.strip() for c in cells[-n:]) or len(cells) == n)
        ):
            return [(c, line.row) for c in cells[-n:]]
    run: list[tuple[Cell, TableRow]] = []
    for line in rows:  # values spread over several physical rows
        for c in line.cells:
            if is_value_like(c.text) and c.text.strip():
                run.append((c, line.row))
            elif c.text.strip():
                return None
        if len(run) >= n:
            return run[:n] if len(run) == n else None
    return None


def read_t4(lines: list[Line]) -> dict[tuple[str, str], Printed]:
    by_table: dict[int, list[Line]] = {}
    for line in lines:
        by_table.setdefault(line.table, []).append(line)
    for _, rows in sorted(by_table.items()):
        head = _t4_header_end(rows)
        if head is None:
            if rows[0].positioned and (found := _t4_stacked(rows)):
                return found
            continue
        last, leaf_cells = head
        body = rows[last + 1 :]
        keys = [(b, c.key) for b, _ in _T4_BLOCKS for c in t4.COLUMNS]
        if rows[0].positioned and len(leaf_cells) == len(keys):
            spans = [(c.x0, c.x1) for c in sorted(leaf_cells, key=lambda c: (c.x0, c.x1))]
            for line in body:
                vals = [c for c in line.cells if is_value_like(c.text)]
                if not any(c.text.strip() for c in vals):
                    continue
                assigned = _assign_by_position(vals, spans)
                if assigned is not None and sum(a is not None for a in assigned) >= 10:
                    return {k: printed(c, line.row) for k, c in zip(keys, assigned) if c is not None}
        transposed = _read_t4_transposed(body)
        if transposed:
            return transposed
        run = _value_run(body, len(keys))
        if run is not None:
            return {k: printed(c, row) for k, (c, row) in zip(keys, run)}
    return {}


def _t4_stacked_header(rows: list[Line]) -> tuple[int, list[tuple[float, float]]] | None:
    """Table 四's fifteen leaf headers printed as words stacked over lines in narrow cells without
    rulings ("结果" over "维持", "总" over "计"; `_stacked_headers`). The last header row and the
    fifteen columns' x-spans, or None unless exactly the fifteen leaves are found, in order."""
    leaves = _stacked_headers(rows, _T4_LEAVES)
    if [k for *_, k, _ in leaves] != [c.key for _ in t4.ROWS for c in t4.COLUMNS]:
        return None
    return max(i for *_, i in leaves), [(x0, x1) for x0, x1, _, _ in leaves]


STACKED_HEADER_ROWS = 12
"""Rows read for a stacked header: a block's caption and two-character words over four lines, for
two or three header levels, fit in them."""

STACK_TOL = 2.0
"""Header words whose left edges are this close (points) belong to one narrow header cell."""


def _t4_stacked(rows: list[Line]) -> dict[tuple[str, str], Printed]:
    """Table 四 under a stacked header (`_t4_stacked_header`): the first row of values after it,
    placed by position, a number across two columns refusing the row. A row printing every cell is
    read as printed; where cells are empty (nothing printed under a header), a block is taken only
    when its printed total is the sum of its printed parts (H4.1, an empty cell 0), its empty cells
    then printed blanks; the other blocks are not_found."""
    head = _t4_stacked_header(rows)
    if head is None:
        return {}
    last, spans = head
    for line in rows[last + 1 :]:
        vals = [c for c in line.cells if is_value_like(c.text) and c.text.strip()]
        if not vals:
            continue
        if len(vals) != len(line.cells):
            return {}
        assigned = _assign_by_position(vals, spans, one_column=True)
        if assigned is None or sum(a is not None for a in assigned) != len(vals):
            return {}
        ncol = len(t4.COLUMNS)
        out: dict[tuple[str, str], Printed] = {}
        full = all(a is not None for a in assigned)
        after = rows[rows.index(line) + 1 :]
        for k, (blk, _) in enumerate(_T4_BLOCKS):
            cells = assigned[k * ncol : (k + 1) * ncol]
            if not full and all(c is None for c in cells):
                # a block printing every cell empty: blanks only where the row cannot go on
                # elsewhere (not at the foot of a page, nothing printed under the block below it)
                # and the row's other blocks add up
                block_spans = spans[k * ncol : (k + 1) * ncol]
                below = any(
                    c.text.strip() and is_value_like(c.text) and any(_overlap(c, sp) > 0 for sp in block_spans)
                    for ln in after for c in ln.cells
                )
                if line.page_foot or below or not _t4_blocks_add_up(assigned, k):
                    continue
            elif not full and not _t4_block_adds_up(cells):
                continue
            for col, c in zip(t4.COLUMNS, cells):
                out[(blk, col.key)] = printed(c, line.row) if c is not None else Printed("", line.row.page, None)
        return out
    return {}


def _t4_block_adds_up(cells: list[Cell | None]) -> bool:
    """A block's printed total is the sum of its printed parts (H4.1, an empty cell 0)."""
    nums = [parse_value(c.text) if c is not None else (0, "blank") for c in cells]
    if cells[-1] is None or any(st == "reported" and not isinstance(v, int) for v, st in nums):
        return False
    vals = [v if st == "reported" and isinstance(v, int) else 0 for v, st in nums]
    return vals[-1] == sum(vals[:-1])


def _t4_blocks_add_up(assigned: list[Cell | None], skip: int) -> bool:
    """Every block of the row but `skip` prints a number and adds up."""
    ncol = len(t4.COLUMNS)
    others = [assigned[k * ncol : (k + 1) * ncol] for k in range(len(t4.ROWS)) if k != skip]
    return all(any(c is not None for c in cells) and _t4_block_adds_up(cells) for cells in others)


def read_t4_headerless(doc: Document) -> dict[tuple[str, str], Printed]:
    """Header words scattered beyond recognition (one character per line, converted text): the
    first row of fifteen values within a few blocks after a mention of 复议 or 诉讼."""
    keys = [(b, c.key) for b, _ in _T4_BLOCKS for c in t4.COLUMNS]
    since: int | None = None
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            rows = [r] if (r := _row_from_text(block)) is not None else []
            mention = "复议" in block.text or "诉讼" in block.text
        elif isinstance(block, Table):
            rows = block.rows
            mention = False
        else:
            continue
        for row in rows:
            cells = row.cells
            if any("复议" in c.text or "诉讼" in c.text for c in cells):
                since = 0
                continue
            if (
                since is not None
                and len(cells) == len(keys)
                and all(is_value_like(c.text) for c in cells)
                and any(c.text.strip() for c in cells)
            ):
                return {k: printed(c, row) for k, c in zip(keys, cells, strict=True)}
        if mention:
            since = 0
        elif since is not None:
            since += 1
            if since > T4_HEADERLESS_WINDOW:
                since = None
    return {}


T4_HEADERLESS_WINDOW = 12
"""Blocks after a mention of 复议/诉讼 in which a headerless table 4's value row is looked for."""


def _t4_caption_block(text: str) -> str | None:
    """The table-4 block a caption names: 行政复议, 行政诉讼（未经复议直接起诉）/ 直接起诉, 复议后起诉."""
    s = norm(text)
    if not s or len(s) > T4_CAPTION_MAX:
        return None
    if "复议后起诉" in s:
        return "litigation_after_review"
    if "直接起诉" in s:
        return "litigation_direct"
    if s.strip("0123456789.()、") == "行政复议":
        return "admin_review"
    return None


T4_CAPTION_MAX = 24
"""Longest caption (normalised characters) taken for the name of one of table 四's three small tables."""


def read_t4_small_tables(doc: Document) -> dict[tuple[str, str], Printed]:
    """Table 四 printed as three small tables (行政复议 / 行政诉讼（未经复议直接起诉）/ 复议后起诉), each
    named by a caption (a paragraph or a one-cell row just before it), with its own header row of the
    five leaf labels and one row of five values under it. All three blocks, each once, or nothing."""
    items: list[Paragraph | TableRow] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            items.append(b)
        elif isinstance(b, Table):
            items.extend(b.rows)
    out: dict[tuple[str, str], Printed] = {}
    seen: set[str] = set()
    block: str | None = None
    since = 0  # items since the caption
    for i, item in enumerate(items):
        texts = [item.text] if isinstance(item, Paragraph) else [c.text for c in item.cells if c.text.strip()]
        if len(texts) == 1 and (named := _t4_caption_block(texts[0])) is not None:
            block, since = named, 0
            continue
        since += 1
        if block is None or since > 1 or not isinstance(item, TableRow):
            continue
        header = [_T4_LEAVES.get(norm(c.text)) for c in item.cells]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if None in header or len(set(header)) != len(t4.COLUMNS) or not isinstance(nxt, TableRow):
            continue
        if len(nxt.cells) != len(header) or not all(is_value_like(c.text) for c in nxt.cells):
            continue
        if block in seen:
            return {}
        seen.add(block)
        out.update({(block, col): printed(c, nxt) for col, c in zip(header, nxt.cells)})  # type: ignore[misc]
        block = None
    return out if len(seen) == len(t4.ROWS) else {}


def _read_t4_transposed(rows: list[Line]) -> dict[tuple[str, str], Printed]:
    """Table 4 printed as three rows (行政复议 / 直接起诉 / 复议后起诉) of five values."""
    out: dict[tuple[str, str], Printed] = {}
    ncol = len(t4.COLUMNS)
    for line in rows:
        cells = line.cells
        if len(cells) < ncol + 1 or not all(is_value_like(c.text) for c in cells[-ncol:]):
            continue
        label = norm("".join(c.text for c in cells[:-ncol]))
        for key, lbl in _T4_BLOCKS:
            if lbl in label and not any(k[0] == key for k in out):
                if key == "admin_review" and ("诉讼" in label or "起诉" in label):
                    continue
                out.update({(key, col.key): printed(c, line.row) for col, c in zip(t4.COLUMNS, cells[-ncol:])})
                break
    return out if len({k[0] for k in out}) == len(t4.ROWS) else {}


# --------------------------------------------------------------------------------------------
# Table 2
# --------------------------------------------------------------------------------------------

_T2_COLUMNS: dict[str, list[tuple[str, Column]]] = {}
for _block in t2.BLOCKS:
    for _fmt, _cols in _block.columns.items():
        for _col in _cols:
            for _lbl in _col.labels:
                _T2_COLUMNS.setdefault(norm(_lbl), []).append((_fmt, _col))
_T2_HEADER_LABELS = sorted(_T2_COLUMNS, key=len, reverse=True)
_T2_ROWS = sorted(
    ((norm(lbl), blk, row) for blk in t2.BLOCKS for row in blk.rows for lbl in row.labels),
    key=lambda x: len(x[0]),
    reverse=True,
)
FORMAT_ONLY = {"2021": {"issued", "abolished", "in_force", "fee_amount"}}
FORMAT_ONLY["2019"] = {
    "newly_made",
    "newly_published",
    "total_published",
    "prior_year_items",
    "items_change",
    "procurement_items",
    "procurement_amount",
}


def _t2_header(text: str) -> str | None:
    s = norm(text)
    for lbl in _T2_HEADER_LABELS:
        if s.startswith(lbl):
            return lbl
    return None


def _t2_row(text: str) -> tuple[t2.Block, t2.Row] | None:
    s = norm(text)
    for lbl, blk, row in _T2_ROWS:
        if s == lbl or (s.startswith(lbl) and s[len(lbl)] in "(（[:：*"):
            return blk, row
    return None


@dataclass
class T2Result:
    cells: dict[tuple[str, str], Printed]
    format: str | None  # "2021", "2019" or None when table 2's headers were not seen


def read_t2(lines: list[Line], confirmed: bool = False) -> T2Result:
    """Table 二's rows by their labels, their values under the last header line's columns. `confirmed`
    (a PDF viewer's copy: header lines are not above their columns): a row is read only where the
    header words show the format and its line prints every column of its block, in the block's order."""
    header: list[tuple[str, Cell]] = []  # (normalised header label, cell)
    votes = {"2021": 0, "2019": 0}
    rows: list[tuple[int, t2.Block, t2.Row, list[tuple[str, Cell]]]] = []  # (the row's line in `lines`, …)
    above: list[Line] = []  # the lines since the last header or row: a stacked header's words

    def take(hits: list[tuple[str, Cell]]) -> None:
        nonlocal header
        header = hits
        for h, _ in hits:
            for f in {f for f, col in _T2_COLUMNS[h] if col.key in FORMAT_ONLY[f]}:
                votes[f] += 1

    for at, line in enumerate(lines):
        hits = [(h, c) for c in line.cells if (h := _t2_header(c.text))]
        if len(hits) >= 1 and len(hits) >= len([c for c in line.cells if c.text.strip()]) - 1:
            take(hits)
            above = []
            continue
        nonempty = [i for i, c in enumerate(line.cells) if c.text.strip()]
        if not nonempty:
            continue
        first = nonempty[0]
        found = _t2_row(line.cells[first].text)
        if found is None:
            above.append(line)
            continue
        if above and line.positioned and (stacked := _t2_stacked_header(above[-STACKED_HEADER_ROWS:])):
            take(stacked)
        above = []
        rows.append((at, found[0], found[1], header))
    fmt = None if votes["2021"] == votes["2019"] == 0 else ("2019" if votes["2019"] > votes["2021"] else "2021")
    cells: dict[tuple[str, str], Printed] = {}
    for at, blk, row, head in rows:
        line = lines[at]
        cols = _t2_value_columns(blk, fmt, head)
        if not cols:
            continue
        label_at = next(i for i, c in enumerate(line.cells) if c.text.strip())
        values = line.cells[label_at + 1 :]
        expected = list(blk.columns.get(fmt or "2021", ()))  # type: ignore[call-overload]
        printed_values = [c for c in values if c.text.strip() and is_value_like(c.text)]
        if confirmed:
            if fmt is None or len(values) != len(expected) or len(printed_values) != len(expected):
                continue
            cols = expected
        if len(values) != len(cols) and len(printed_values) == len(expected):
            cols = expected  # header words run together or missing: the block's columns, in order
        if len(values) == len(cols) and _repeats(cols):
            picked, cols = _t2_unrepeat(values, cols)
        else:
            near = [lines[j] for j in (at - 1, at + 1) if 0 <= j < len(lines) and lines[j].table == line.table]
            picked = _t2_pick(values, head, cols, line, blanks=not any(map(_numbers_only, near)))
        for col, cell in zip(cols, picked):
            if cell is not None and (row.key, col.key) not in cells:
                cells[(row.key, col.key)] = printed(cell, line.row)
    return T2Result(cells, fmt)


def _numbers_only(line: Line) -> bool:
    """A line printing numbers only (one or several cells)."""
    cells = [c for c in line.cells if c.text.strip()]
    return bool(cells) and all(is_value_like(c.text) for c in cells)


def _t2_stacked_header(above: list[Line]) -> list[tuple[str, Cell]]:
    """A block's column headers printed as words stacked over lines in narrow cells without rulings
    ("本年新" / "制作数" / "量", one character a line for a narrower one: `_stacked_headers`), from the
    lines between the last row or header and a row's label: each header found, left to right, as a
    header cell spanning its words."""
    found = _stacked_headers([ln for ln in above if ln.table == above[-1].table], _T2_STACK_LABELS, upto_values=False)
    return [(lbl, Cell(lbl, x0, x1)) for x0, x1, lbl, _ in found]


_T2_STACK_LABELS = {lbl: lbl for lbl in _T2_COLUMNS}


def _t2_value_columns(blk: t2.Block, fmt: str | None, head: list[tuple[str, Cell]]) -> list[Column]:
    if fmt is None:
        fmt = "2021"
    expected = list(blk.columns.get(fmt, ()))  # type: ignore[call-overload]
    if head:
        by_label = {h: col for h, _ in head for f, col in _T2_COLUMNS[h] if f == fmt}
        ordered = [by_label[h] for h, _ in head if h in by_label]
        if ordered and {c.key for c in ordered} <= {c.key for c in expected}:
            return ordered
    return expected


def _repeats(cols: list[Column]) -> bool:
    return any(a.key == b.key for a, b in itertools.pairwise(cols))


def _t2_unrepeat(values: list[Cell], cols: list[Column]) -> tuple[list[Cell | None], list[Column]]:
    """A row under a header whose merged cells were repeated into every slot they cover (Markdown,
    text conversions): the row's own merged cells are repeated too, but may cover other slots than
    the header's (header spans 1-1-2-1 over data spans 1-2-1-1), so a slot is not a column. The
    row's values are its runs of equal cells: every way to cut the row into one run per column is
    tried; the values are read only if all such cuts read the same, else the row is not read."""
    distinct = [c for i, c in enumerate(cols) if i == 0 or cols[i - 1].key != c.key]
    texts = [v.text.strip() for v in values]
    readings: set[tuple[str, ...]] = set()
    first: list[Cell] | None = None
    for cuts in itertools.combinations(range(1, len(values)), len(distinct) - 1):
        bounds = [0, *cuts, len(values)]
        runs = [texts[a:b] for a, b in itertools.pairwise(bounds)]
        if all(len(set(r)) == 1 for r in runs):
            readings.add(tuple(r[0] for r in runs))
            first = first or [values[a] for a in bounds[:-1]]
    if len(readings) != 1 or first is None:
        return [None] * len(distinct), distinct
    return list(first), distinct


def _t2_pick(
    values: list[Cell], head: list[tuple[str, Cell]], cols: list[Column], line: Line, blanks: bool = True
) -> list[Cell | None]:
    """The row's cells per column: as printed when they fit, else by position under the header cells,
    where (`blanks`: no line printing numbers only lies right above or below the row, a number wrapped
    or printed out of its row's band) nothing printed under a column is a printed blank."""
    if len(values) == len(cols):
        return list(values)
    if line.positioned and head and len(head) == len(cols):
        spans = [(c.x0, c.x1) for _, c in head]
        picked = _assign_by_position(values, spans)
        if blanks and picked is not None and all(any(p is c for p in picked) for c in values if c.text.strip()):
            # every printed cell under a header: nothing printed under a column is a printed blank
            # (as in table 三's rows, `_split_t3_row`)
            return _with_blanks(picked, spans, line.row.page, values)
        if picked is not None:
            return picked
    nonempty: list[Cell | None] = [c for c in values if c.text.strip() and is_value_like(c.text)]
    if len(nonempty) == len(cols):
        return nonempty
    return [None] * len(cols)
