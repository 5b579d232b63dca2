"""Tables whose cells come one per line in reading order, with no rows left: text copied from a PDF viewer
(`pdftotext` without `-layout`), where a row's label may come before, after or far from its numbers,
several rows' labels may come first and their numbers after, and running headers, URLs and page numbers
fall between pages.

What survives such a copy is the order of the numbers. The header says how many value columns a table
has (7 in table 三, 5 per block in table 四), the spec how many rows it has in each layout: the numbers of
a table, taken in order, are rebuilt into rows by that count. A reading is taken only where the
arithmetic identities confirm it (spec §3.4, §4.4): a row when its 总计 is the sum of its parts (H3.3,
H4.1), table 三 whole only when its columns also satisfy 一+二 = (七)+四 and (七) = the sum of the results
(H3.1, H3.2). A row's sum holds in any order of its parts, and a viewer may print a row's cells out of
order: a table-三 row of a table not read whole is kept only where its parts are on one line, all alike,
or in a column identity whose rows are all read and hold. Table 二 has no identity: its blocks are taken
only when their count and their printed headers leave one reading. Everything else is `not_found`
(STRUCT-02 says so): a count that does not fit or an identity that fails is never resolved by guessing.
A dash or 无 counts as 0 for the check only; the cell keeps what was printed.
"""

from __future__ import annotations

import bisect
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from tasks.checks.identities import identities
from tasks.extract.model import Block, Document, Paragraph, Table
from tasks.extract.normalize import norm
from tasks.extract.tables import Printed
from tasks.extract.values import Number, is_value_like, parse_value
from tasks.spec import t2, t3, t4
from tasks.spec.model import FormatVersion, Row

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Token:
    text: str
    block: int
    page: int | None
    run: int | None = None  # the viewer's text block (Paragraph.run); None: not known
    label: str = ""  # the row label (or a piece of it) printed before it on its line, normalised


def reading_order(doc: Document) -> Document:
    """The document as lines in reading order: its paragraphs, and every table cell as a paragraph of
    its own (a copy read into rows that are not the printed rows: a viewer's copy without page breaks
    is taken for cell-per-line rows by the text reader)."""
    if all(isinstance(b, Paragraph) for b in doc.blocks):
        return doc
    blocks: list[Block] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            blocks.append(b)
        elif isinstance(b, Table):
            blocks.extend(
                Paragraph(c.text.strip(), c.page if c.page is not None else r.page)
                for r in b.rows
                for c in r.cells
                if c.text.strip()
            )
    return Document(media=doc.media, blocks=blocks, pages=doc.pages, image_pages=set(doc.image_pages))


def _is_cell_value(text: str) -> bool:
    """A number, a dash or a word such as 无 standing alone: what a value cell prints."""
    return bool(text.strip()) and is_value_like(text)


def tokens(doc: Document, start: int = 0, end: int | None = None) -> list[Token]:
    """The value cells of blocks [start, end) in reading order. A line of several numbers separated by
    spaces ("29 1706": two cells side by side on one line of the copy) gives one token each."""
    out: list[Token] = []
    for i, b in enumerate(doc.blocks[start:end], start=start):
        run = b.run if isinstance(b, Paragraph) else None
        if isinstance(b, Paragraph):
            pieces = [(b.text, b.page)]
        elif isinstance(b, Table):
            pieces = [(c.text, c.page if c.page is not None else r.page) for r in b.rows for c in r.cells]
        else:
            continue
        for text, page in pieces:
            parts = text.split()
            numbers = len(parts)
            while numbers and _is_cell_value(parts[numbers - 1]):  # numbers, dashes, 无: "… 23 43 / 128"
                numbers -= 1
            if len(parts) > 1 and numbers == 0:
                out.extend(Token(p, i, page, run) for p in parts)
            elif _is_cell_value(text):
                out.append(Token(text.strip(), i, page, run))
            elif 0 < numbers < len(parts) and (
                _is_row_label(" ".join(parts[:numbers])) or _label_pieces(parts[:numbers])
            ):
                # a row's label, or a line of it wrapped in a narrow label column, and its numbers on one
                # line ("其他对外管理服务 1018 -34 913", "政府信息公开申请 97"), a group label's line
                # beside it ("度办 （二）部分公开（区分处理 83 51 14 40 59 42 289")
                label = norm(" ".join(parts[:numbers]))
                out.extend(Token(p, i, page, run, label) for p in parts[numbers:])
    return out


MAX_SPLIT_ENDS = 63
"""Numbers more than the table's cells that `join_split_numbers` looks for as the ends of wrapped numbers
(three rows of seven; more is not a table of wrapped cells, and the search grows with the count)."""
MAX_SPLIT_READINGS = 64
"""Readings of a copy with wrapped numbers whose columns `split_readings` leaves to the table's column
identities to tell (a wrapped cell's first line printed first adds up in any of its row's places)."""


def _split_runs(vals: list[Token], cells: int, several: bool, exact: bool = True) -> list[list[list[Token]]] | None:
    """The numbers of a table-三 copy with wrapped numbers' pieces joined, as runs: each a list of readings
    of the same tokens (one reading where the run is not joined or exactly one joining adds up, several
    where the joined cells' columns no sum tells, if `several`); None when the joins do not leave exactly
    `cells` (`exact`) or fewer."""
    ncol = len(t3.COLUMNS)
    if not 0 < len(vals) - cells <= MAX_SPLIT_ENDS:
        return None
    runs: list[list[list[Token]]] = []
    joined = count = 0
    product = 1  # readings so far
    i = 0
    while i < len(vals):
        found: dict[tuple[str, ...], tuple[int, list[int]]] = {}  # the row's cells → (ends joined, the heads' columns)
        for k in range(1, min(ncol, len(vals) - joined - cells) + 1):
            run = vals[i : i + ncol + k]
            if len(run) < ncol + k or not all(t.text.isdigit() for t in run):
                continue
            heads, ends = run[:ncol], [t.text for t in run[ncol:]]
            if int(heads[-1].text) == sum(int(t.text) for t in heads[:-1]):
                continue  # the seven add up as printed: not wrapped
            for wrapped in itertools.combinations(range(ncol), k):
                for first in (False, True) if k < ncol else (False,):
                    order = ([*wrapped, *(c for c in range(ncol) if c not in wrapped)] if first else list(range(ncol)))
                    texts = [""] * ncol
                    for t, c in zip(heads, order):
                        texts[c] = t.text
                    if any(texts[c] == "0" for c in wrapped):
                        continue
                    for c, e in zip(wrapped, ends):
                        texts[c] += e
                    n = [int(x) for x in texts]
                    if n[-1] == sum(n[:-1]):
                        found.setdefault(tuple(texts), (k, order))
        ks = {k for k, _ in found.values()}
        if len(ks) == 1 and (len(found) == 1 or (several and product * len(found) <= MAX_SPLIT_READINGS)):
            (k,) = ks
            product *= len(found)
            readings = []
            for row, (_, order) in found.items():
                head = {c: vals[i + j] for j, c in enumerate(order)}  # each cell's first line, where it was printed
                readings.append([Token(row[c], head[c].block, head[c].page, head[c].run, head[c].label) for c in range(ncol)])
            runs.append(readings)
            joined += k
            count += ncol
            i += ncol + k
        else:
            runs.append([[vals[i]]])
            count += 1
            i += 1
    return runs if count == cells or (not exact and count > cells) else None


def join_split_numbers(vals: list[Token], cells: int, exact: bool = True) -> list[Token]:
    """The numbers of a table-三 copy with the pieces of numbers wrapped in their narrow cells joined, when
    there are more numbers than the table's `cells` and exactly that many too many pieces are joined.

    A row whose cells wrapped prints seven numbers (each wrapped cell's first line) and then the wrapped
    cells' ends, left to right (WeasyPrint: `1365` / `3429 … 1975` / `量` / `3` for a total 13653;
    `169` / `472` / `638 500 720 640 529` / `请数量` / `3` / `0` for 1693 and 4720; a total's end right after
    it, `… 881` / `1107` / `5`). The first seven are the cells in their order, or the wrapped ones'
    first lines first; each of k ends is joined to a wrapped cell in order. Taken at a run of 7 + k
    numbers whose seven do not add up (H3.3) when exactly one choice of k, order and wrapped cells makes
    them add up (a printed 0 does not wrap); the runs are looked for left to right, and the joins are
    kept only when they leave exactly `cells` numbers (the identities then confirm the table or not).
    Where several choices add up (1693 in any of the first six places), see `split_readings`. Not
    `exact`: the joins are kept while they leave more than `cells` numbers, for `_deferred` to read the
    rest (a wrapped total whose end comes right after it, in a row whose other numbers are not together)."""
    runs = _split_runs(vals, cells, several=False, exact=exact)
    if runs is None:
        return vals
    return [t for r in runs for t in r[0]]


def split_readings(vals: list[Token], cells: int) -> list[list[Token]]:
    """Every reading `join_split_numbers` leaves open: the joined copy once per choice of the runs whose
    joined cells' columns no row sum tells (at most MAX_SPLIT_READINGS); [] when the joins do not leave
    exactly `cells` numbers or every run has one reading (`join_split_numbers` gives it)."""
    runs = _split_runs(vals, cells, several=True)
    if runs is None or all(len(r) == 1 for r in runs):
        return []
    return [[t for piece in choice for t in piece] for choice in itertools.product(*runs)]


MAX_BLOCK_WRAPS = 3
"""Numbers more than the table's cells that `wrap_readings` reads as the ends of wrapped numbers."""
MAX_WRAP_READINGS = 12
"""Joinings `wrap_readings` leaves to the table's identities to tell (each is read as a whole table)."""


def wrap_readings(vals: list[Token], cells: int) -> list[list[Token]]:
    """The readings of a copy whose wrapped numbers' pieces are printed on consecutive lines of one
    text block, apart from the cells around them (LibreOffice's PDF: `1365` / `3` for a total 13653 in
    a narrow column, among the other cells in an order of their own, so no row's seven numbers are
    together for `join_split_numbers`): every way to join exactly as many pieces as there are numbers
    more than `cells`. A first piece fills its cell's width, so it is as wide as the widest number
    printed (a narrower one did not wrap), is not 0 and does not start with 0; its end is a number on
    the next line of the same text block. [] when there are no numbers too many, more than
    MAX_BLOCK_WRAPS, or more than MAX_WRAP_READINGS joinings; the caller takes a reading only when
    its whole table every identity confirms and no other reading's does."""
    extra = len(vals) - cells
    if not 0 < extra <= MAX_BLOCK_WRAPS or not all(t.text.isdigit() for t in vals):
        return []
    width = max(len(t.text) for t in vals)
    spots = [
        j for j, (a, b) in enumerate(itertools.pairwise(vals))
        if len(a.text) == width and not a.text.startswith("0") and a.run is not None and a.run == b.run
        and b.block == a.block + 1
    ]  # fmt: skip
    joinings = [c for c in itertools.combinations(spots, extra) if all(q - p > 1 for p, q in itertools.pairwise(c))]
    if len(joinings) > MAX_WRAP_READINGS:
        return []
    out = []
    for joining in joinings:
        reading, j = [], 0
        while j < len(vals):
            t = vals[j]
            if j in joining:
                t, j = Token(t.text + vals[j + 1].text, t.block, t.page, t.run, t.label), j + 1
            reading.append(t)
            j += 1
        out.append(reading)
    return out


def _is_row_label(text: str) -> bool:
    """Text that labels a table row: a label of the spec's (table 二 or 三) whole, or a line of at least
    LABEL_PIECE characters of one (a label wrapped in a narrow cell, its numbers on that line)."""
    t = norm(text)
    return t in ROW_LABELS or (len(t) >= LABEL_PIECE and any(t in lbl for lbl in ROW_LABELS))


LABEL_PIECE = 4
"""The shortest line of a wrapped row label whose numbers on the same line are taken as the row's."""


def _label_pieces(words: list[str]) -> bool:
    """Words side by side that are lines of table 三's labels: each a piece of a row's or a group's
    label (a group label wrapped in its narrow cell beside a row's: "度办", "（三）", "不予公"), one of
    them at least LABEL_PIECE characters of a row's."""
    pieces = [norm(w) for w in words]
    return any(len(p) >= LABEL_PIECE and any(p in lbl for lbl in T3_LABELS) for p in pieces) and all(
        any(p in lbl for lbl in T3_LABELS | T3_GROUPS) for p in pieces
    )


def named_rows(text: str) -> set[str]:
    """Table 三's rows whose label a line names: a word of it (at least LABEL_PIECE characters, or a
    whole label) is a piece of the row's label, or holds it."""
    out = set()
    for w in text.split():
        p = norm(w)
        for r in t3.ROWS:
            for lbl in r.labels:
                n = norm(lbl)
                if (len(p) >= LABEL_PIECE and p in n) or (len(n) >= 2 and n in p) or p == n:
                    out.add(r.key)
    return out


def _row_labels() -> frozenset[str]:
    labels = {lbl for r in t3.ROWS for lbl in r.labels}
    labels |= {lbl for blk in t2.BLOCKS for r in blk.rows for lbl in r.labels}
    return frozenset(norm(x) for x in labels)


def _text(b: Block) -> str:
    return b.text if isinstance(b, Paragraph) else ""


def _num(tok: Token) -> Number:
    value, status = parse_value(tok.text)
    return value if status == "reported" and value is not None else 0


def _printed(tok: Token) -> Printed:
    return Printed(tok.text, tok.page, None)


def _all_numbers(vals: Sequence[Token]) -> bool:
    """Every token printed as a number: a dash or a word may be a cell printed elsewhere."""
    return all(parse_value(t.text)[1] == "reported" for t in vals)


ROW_LABELS = _row_labels()
"""The data rows' labels of tables 二 and 三, normalized (not groups, captions or columns)."""
T3_LABELS = frozenset(norm(lbl) for r in t3.ROWS for lbl in r.labels)
"""Table 三's row labels, normalized."""
T3_GROUPS = frozenset(norm(r.group) for r in t3.ROWS if r.group)
"""Table 三's group labels (三、本年度办理结果, （三）不予公开 …), normalized."""
T3_HEADER_WORDS = ("申请人",)
"""Words of table 三's header that must be printed before its last number (a viewer may print the
first rows' first columns before the header)."""
MIN_TELLING = 3
"""Numbers not 0 among its six parts that a row away from the top must hold to be taken by its place alone."""
SWAP_REACH = 2
"""How many following rows' labels, printed right before a row's numbers, make that row unconfirmed."""
LABELS_FIRST = 3
"""Rows below a row whose labels, printed together before its numbers, show a copy that prints the labels
first."""


T3_HEADER_LINES = ("申请人情况", "法人或其他组织", *(c.label for c in t3.COLUMNS if len(c.label) >= 3))
"""Words of table 三's header that no line printed among a row's numbers holds (a copy printing the table
column by column prints a column's first cells before the header's last lines)."""


def _header_line(text: str) -> bool:
    t = norm(text)
    return any(w in t for w in T3_HEADER_LINES)


def _telling(window: list[Token]) -> bool:
    """At least MIN_TELLING of a row's parts (its total aside) are not 0: such seven numbers seldom add up by
    chance (`0 0 0 1 0 1 2` does, in a sparse table whose cells are printed out of their places)."""
    return sum(1 for t in window[:-1] if _num(t) != 0) >= MIN_TELLING


def _layout_evidence(doc: Document, start: int, end: int) -> str:
    """2021 (three （六） rows) when a （六） leaf's label is printed in the section, else one （六） row."""
    text = "".join(norm(b.text) for b in doc.blocks[start:end] if isinstance(b, Paragraph))
    return "2021" if "不补正" in text or "逾期未按收费" in text else "single"


def labels_layout(doc: Document, start: int, end: int) -> str | None:
    """The table-三 layout the section's labels show, read or not: "2021" when a （六） leaf's label is printed,
    "single" when （六）其他处理 is and none of its leaves, None when neither is (the format of a report whose
    table 三 is not read then rests on its other tables)."""
    text = "".join(norm(b.text) for b in doc.blocks[start:end] if isinstance(b, Paragraph))
    if any(w in text for w in OTHER_LEAF_PIECES):
        return "2021"
    return "single" if norm(t3.OTHER) in text else None


OTHER_LEAF_PIECES = ("不补正", "逾期未按", "收费通知", "缴纳费用", "不再处理")
"""Pieces of the 2021 （六） leaves' labels, each short enough to survive a label wrapped over lines with
numbers between them: any of them printed shows the 2021 layout (`_layout_evidence`'s two words among them:
不补正, and 逾期未按 of 逾期未按收费)."""


def read_t3_stream(doc: Document, start: int, end: int) -> tuple[dict[tuple[str, str], Printed], str | None]:
    """Table 三 from the value cells between the section-三 heading (block `start`) and the section-四
    heading (block `end`), rebuilt into rows of 7 in the spec's row order: 25 rows (2021) or 23 (one
    （六） row), the layout the count fits (or the labels show).

    The whole table is taken when every row adds up (H3.3) and every column satisfies H3.1 and H3.2.
    Otherwise, when the count fits the layout, each row whose seven places hold seven numbers that
    add up is taken (a copy may print a group of rows column by column — the first cells of three
    rows, then the next ones — but seven numbers in a row's own places that add up are that row: a
    row's numbers come left to right and a column's top to bottom, so the numbers before them are
    exactly the rows above) — if at least three of them are not 0 (rows of zeros and ones add up
    wherever they land); when it does not fit (a blank cell that left no trace, a stray number),
    only the rows from the top while each adds up. Rows out of order or wrong in the source are not
    taken. When the count fits, a run of rows not taken between two taken rows (or the table's edge)
    holds exactly the numbers between them (no cell comes before the one above it or left of it):
    `_staircase` fills it with the one grid that adds up among the orders pdftotext prints (rows
    column by column, a staircase of blocks), or leaves it not_found. When one such run is left, the
    table's other rows are known and its columns must satisfy H3.1 and H3.2 as well (two grids that
    add up row by row seldom both do by the columns). When rows are still missing and the count fits,
    `_deferred` reads the whole table with cells printed after their place (Chromium and WeasyPrint
    put a cell beside a taller block into that block): taken when one grid satisfies every identity
    and agrees with the rows already taken.
    When the table is not read whole that way (a whole table's columns confirm it), rows of zeros and
    sparse rows such as `1 0 0 0 0 0 1`, which add up wherever they land, make the rows from the top
    weaker evidence: they are then taken only up to the first whose numbers another row's label line or
    a line of the header interrupts, after a block of several rows' labels only while each is on its
    label's line or telling, and without the rows of zeros that end them off their labels' lines.
    Numbers wrapped in their cells are joined first (`join_split_numbers`); where two wrapped cells'
    first lines come first and no row sum tells their columns, each reading is read as a table and the
    one whose whole table every identity confirms is taken (`split_readings`); a wrapped total whose
    end follows it is joined inside `_deferred`; pieces printed as two lines of one text block among
    cells in an order of their own are joined by the one joining whose whole table every identity
    confirms (`wrap_readings`).
    Rows taken while the table is not read whole are kept only where their column order is known
    (`_columns_known`: their parts on one line, all alike, or in a column identity that holds): a row's
    sum holds in any order of its parts. A row's numbers right after the label of one of the next rows are not taken (rows printed out of
    order, label first). Labels farther off are displaced labels (copies print groups of labels
    before or after their numbers). Two whole rows printed in each other's place with no label
    between would still add up: nothing in a reading-order copy shows it (pdftotext keeps rows in
    page order)."""
    vals = tokens(doc, start, end)
    ncol = len(t3.COLUMNS)
    work = Work()
    head = "".join(norm(b.text) for b in doc.blocks[start : vals[-1].block if vals else end] if isinstance(b, Paragraph))
    if not vals or not all(w in head for w in T3_HEADER_WORDS):  # no table-三 header among its numbers
        return {}, None
    shown = "2021" if _layout_evidence(doc, start, end) == "2021" else "2021_mixed"
    shown_cells = len(t3.rows_for(shown)) * ncol
    if len(vals) > shown_cells:  # more numbers than cells: numbers wrapped in their cells
        joined = join_split_numbers(vals, shown_cells)
        if joined is vals:  # no one joining: the readings whose joined cells' columns no row sum tells
            if (read := _one_whole(doc, start, split_readings(vals, shown_cells), shown, work)) is not None:
                return read
            rest = join_split_numbers(vals, shown_cells, exact=False)  # wrapped totals read in the search
            if len(rest) > shown_cells:
                rows, leaves, name = _shape(shown)
                extra = len(rest) - shown_cells
                grid = _deferred(rest, rows, leaves, joins=extra, work=work) or _deferred(
                    rest, rows, leaves, first_column=True, joins=extra, work=work
                )
                if grid is not None:
                    return _grid_cells(rows, dict(enumerate(grid))), name
            # wrapped numbers' pieces in text blocks of their own, the cells around them in another order
            if (read := _one_whole(doc, start, wrap_readings(vals, shown_cells), shown, work)) is not None:
                return read
        vals = joined
    return _read_t3(doc, start, vals, shown, slip_budget=DEFERRED_BUDGET, work=work)


def _one_whole(
    doc: Document, start: int, readings: list[list[Token]], shown: str, work: Work | None = None
) -> tuple[dict[tuple[str, str], Printed], str] | None:
    """The one reading (numbers with wrapped pieces joined) whose whole table every identity confirms:
    None when none or several do. When none does, the readings are searched again for a grid with one
    cell the source printed wrong (`_deferred`'s slip), each search in a smaller budget: there are many
    readings."""
    whole = {}
    for slip_budget in (None, SLIP_READINGS_BUDGET):  # then: a cell the source printed wrong in one of them
        for reading in readings:
            cells, name = _read_t3(doc, start, vals=reading, shown=shown, slip_budget=slip_budget, work=work)
            full = len(_shape("2021" if name == "2021" else "2021_mixed")[0]) * len(t3.COLUMNS)
            # with the slip, the table but its one cell printed wrong (other partial readings keep whole rows)
            if name and len(cells) in ((full,) if slip_budget is None else (full, full - 1)):
                whole[tuple(sorted((k, c.raw) for k, c in cells.items()))] = (cells, name)
        if whole:
            break
    if len(whole) > 1:
        log.debug("table 三 in reading order: %d readings of its wrapped numbers confirmed", len(whole))
    return next(iter(whole.values())) if len(whole) == 1 else None


def _shape(layout: str) -> tuple[Sequence[Row], tuple[str, ...], str]:
    """A table-三 layout's ("2021" or "2021_mixed") rows, result leaves and reading's name ("2021", "single")."""
    if layout == "2021":
        return t3.rows_for(layout), t3.RESULT_LEAVES_2021, "2021"
    return t3.rows_for(layout), t3.RESULT_LEAVES_2019, "single"


def _grid_cells(rows: Sequence[Row], grid: dict[int, list[Token]]) -> dict[tuple[str, str], Printed]:
    """The cells of table-三 rows read (row index → its seven tokens)."""
    return {(rows[k].key, col.key): _printed(t) for k, w in grid.items() for col, t in zip(t3.COLUMNS, w)}


def _read_t3(
    doc: Document, start: int, vals: list[Token], shown: str, slip_budget: int | None = None, work: Work | None = None
) -> tuple[dict[tuple[str, str], Printed], str | None]:
    """`read_t3_stream` on the table's numbers `vals` (wrapped numbers joined), `shown` the layout its
    labels show; when every other reading fails, a grid with one cell the source printed wrong is searched
    for in `slip_budget` steps (None: not)."""
    ncol = len(t3.COLUMNS)
    fits = {len(t3.rows_for(x)) * ncol: x for x in ("2021", "2021_mixed")}
    layout = fits.get(len(vals)) or shown
    if layout != shown and shown == "2021":  # 161 numbers under the three （六） leaves' labels: two rows lost
        layout = shown
    rows, leaves, name = _shape(layout)

    def window(i: int) -> list[Token]:
        return vals[i * ncol : (i + 1) * ncol]

    labels = {norm(lbl): r.key for r in t3.ROWS for lbl in r.labels}

    def adds_up(k: int, strict: bool = False) -> bool:
        """Row k's seven places add up and nothing printed around them says they are another row's; `strict`:
        nor is a line of another row's label printed among them (a copy that prints a row's first cells on its
        label's line and its other columns later: "1.属于国家秘密 0 0" / "2.其他法律行政法" / "0 0")."""
        w = window(k)
        n = [_num(t) for t in w]
        if len(n) != ncol or n[-1] != sum(n[:-1]):
            return False
        before = doc.blocks[w[0].block - 1] if w[0].block > start else None
        named = labels.get(norm(before.text)) if isinstance(before, Paragraph) else None
        # the label printed right before the numbers must not be the next rows' (those rows' numbers here)
        nxt = {r.key for r in rows[k + 1 : k + 1 + SWAP_REACH]}
        if named in nxt:
            return False
        # nor the lines of a wrapped label printed since the previous number, when they name the next
        # rows and not this one ("1.申请人无正当理由" / "逾期不补正、行政" before another row's numbers)
        first = vals.index(w[0])
        since = vals[first - 1].block + 1 if first else start + 1
        lines = {key for b in doc.blocks[since : w[0].block] if isinstance(b, Paragraph) for key in named_rows(b.text)}
        if lines & nxt and rows[k].key not in lines:
            return False
        # nor a label printed on a number's own line another row's only (a row dropped above: the rows shift)
        if not all(not t.label or not (own := named_rows(_text(doc.blocks[t.block]))) or rows[k].key in own for t in w):
            return False
        return not strict or not any(
            ((names := named_rows(b.text)) and rows[k].key not in names) or _header_line(b.text)
            for b in doc.blocks[w[0].block + 1 : w[-1].block]
            if isinstance(b, Paragraph)
        )

    def label_lines(k: int) -> list[set[str]]:
        """The rows each line printed between row k's place's first number and the number before it names."""
        since = vals[k * ncol - 1].block + 1 if k else start + 1
        return [named_rows(b.text) for b in doc.blocks[since : window(k)[0].block] if isinstance(b, Paragraph)]

    def on_its_line(k: int) -> bool:
        """Row k's numbers carry its label (a piece of it) on their line."""
        return any(t.label and rows[k].key in named_rows(_text(doc.blocks[t.block])) for t in window(k))

    def tied(k: int) -> bool:
        """Row k's numbers carry its label on their line, or the label lines printed since the number
        before them name this row and no other."""
        if on_its_line(k):
            return True
        return set().union(*label_lines(k)) == {rows[k].key}

    off = len(vals) - len(rows) * ncol

    def placed(k: int) -> bool:
        """When the count does not fit: row k's seven places counted from the table's end do not add up
        (else the cells lost or added above may be whole rows: a row printed empty or dropped), or, when
        there are none, its label ties it; or its label is printed on its numbers' line."""
        s = k * ncol + off
        if on_its_line(k):
            return True
        if s < 0:
            return tied(k)
        n = [_num(t) for t in vals[s : s + ncol]]
        return len(n) == ncol and n[-1] != sum(n[:-1])

    def labels_ahead(k: int) -> set[str]:
        """The rows below row k named by the label lines printed between row k's numbers and the number before
        them (each line naming one row)."""
        below = {r.key for r in rows[k + 1 :]}
        return {key for n in label_lines(k) if len(n) == 1 for key in n & below}

    taken: dict[int, list[Token]] = {}
    i = 0
    # a row dropped (or printed empty) moves every row below it up a place, each still adding up: when the
    # count does not fit, a row from the top is taken only where its places from the end do not add up
    while i < len(rows) and adds_up(i) and (not off or placed(i)):
        taken[i] = window(i)
        i += 1
    if i < len(rows):  # not the whole table (which its columns then confirm): the rows from the top, strictly
        i = next((k for k in range(i) if not adds_up(k, strict=True)), i)
        # after a block of several rows' labels printed together the numbers' order need not be the rows' (a
        # column's cells may come next): a row there is taken by its place only when its label is on its
        # line or it is telling
        first = next((k for k in range(i) if len(labels_ahead(k)) >= LABELS_FIRST), i)
        i = next((k for k in range(first, i) if not on_its_line(k) and not _telling(window(k))), i)
        for k in range(i, len(rows)):
            taken.pop(k, None)
    # rows of zeros add up wherever they land: those that end the run from the top, their label not on their
    # numbers' line, may be a column's zeros (a copy printing the rows' labels, then the numbers column by
    # column); they are left to the readings below, which the table's identities confirm
    while 0 < i < len(rows) and not on_its_line(i - 1) and all(_num(t) == 0 for t in window(i - 1)):
        i -= 1
        del taken[i]
    # every row adds up at its place but the columns do not: a row adds up in any order of its parts, so a
    # row whose cells are printed out of order (四's, in Chromium's copies) is not known by its place; no row
    # is, and the readings below search the whole table
    by_place = len(taken) == len(rows) and len(vals) == len(rows) * ncol and not _columns_hold(
        {rows[k].key: [_num(t) for t in w] for k, w in taken.items()}, leaves)
    if by_place:
        taken = {}

    def last_run(slip: bool = False) -> None:
        """One run of rows left (the whole table when none was taken): the table's other rows are known,
        so its columns must add up too; the staircase of blocks fills it where one grid fits (with `slip`,
        one of its rows printed wrong)."""
        gaps = [k for k in range(len(rows)) if k not in taken]
        if gaps and gaps == list(range(gaps[0], gaps[-1] + 1)) and len(gaps) <= STAIRCASE_ROWS:
            a, b = gaps[0], gaps[-1] + 1
            known = {rows[k].key: [_num(t) for t in w] for k, w in taken.items()}
            grid = _staircase(vals[a * ncol : b * ncol], rows[a:b], leaves, known, slip=slip, work=work)
            taken.update({a + j: row for j, row in enumerate(grid or [])})

    if len(vals) == len(rows) * ncol and not by_place:  # every row's place is known: take each row that adds up in it
        taken.update({k: window(k) for k in range(i, len(rows)) if adds_up(k, strict=True) and _telling(window(k))})
        # the rows between two rows at their places hold exactly the numbers between them (a cell never
        # comes before the one above it or left of it): such a run of rows is taken when one grid fits
        a = 0
        while a < len(rows):
            b = a
            while b < len(rows) and b not in taken:
                b += 1
            if 0 < b - a <= STAIRCASE_ROWS:
                grid = _staircase(vals[a * ncol : b * ncol], rows[a:b], leaves, work=work)
                taken.update({a + j: row for j, row in enumerate(grid or [])})
            a = b + 1
        last_run()

    def agrees(grid: list[list[Token]]) -> bool:
        """A whole reading reads the rows already taken as they were taken."""
        return all(grid[k] == w for k, w in taken.items())

    if len(taken) < len(rows) and len(vals) == len(rows) * ncol:
        # cells printed after their place (a cell whose line the viewer reads with a later block)
        grid = _deferred(vals, rows, leaves, work=work) or _deferred(vals, rows, leaves, first_column=True, work=work)
        if grid is not None and agrees(grid):
            taken = dict(enumerate(grid))
    if len(taken) < len(rows) and len(vals) == len(rows) * ncol:
        # first cells printed inside their labels' lines, the other cells in row order
        grids = [g for g in (_anchored(doc, start, vals, rows, leaves), _anchored_late(doc, start, vals, rows, leaves))
                 if g is not None and agrees(g)]
        values = {tuple(t.text for w in g for t in w) for g in grids}
        if len(values) == 1:  # the readings that the identities confirm read the same
            taken = dict(enumerate(grids[0]))
    if len(taken) < len(rows) and len(vals) == len(rows) * ncol:
        # groups of rows, each printed a row at a time or a column at a time
        grid = _row_groups(vals, rows, leaves)
        if grid is not None and agrees(grid):
            taken = dict(enumerate(grid))
    if len(taken) < len(rows) and len(vals) == len(rows) * ncol:
        # first cells and totals printed late, each in their own order (the widest search: the last)
        grid = _deferred(vals, rows, leaves, first_column=True, late_totals=True, work=work)
        if grid is not None and agrees(grid):
            taken = dict(enumerate(grid))
    if len(taken) < len(rows) and len(vals) == len(rows) * ncol:
        # first cells printed late, and the last cells of the row above (七) printed with 四's
        grid = _deferred(vals, rows, leaves, first_column=True, end_rows=True, work=work)
        if grid is not None and agrees(grid):
            taken = dict(enumerate(grid))
    if slip_budget and len(taken) < len(rows) and len(vals) == len(rows) * ncol:
        # one cell the source printed wrong (its row and column do not add up): the late-cell readings again
        grid = _deferred(vals, rows, leaves, slip=True, budget=slip_budget, work=work) or _deferred(
            vals, rows, leaves, first_column=True, slip=True, budget=slip_budget, work=work
        )
        if grid is not None and agrees(grid):
            taken = dict(enumerate(grid))
        last_run(slip=True)
    if len(taken) < len(rows):
        blank = _totals_blank(vals, rows, leaves) or _printed_empty(vals, rows, leaves, work)
        # the rows the earlier readings took must read the same in it
        if blank is not None and all(
            blank[(rows[k].key, col.key)].raw == t.text for k, w in taken.items() for col, t in zip(t3.COLUMNS, w)
        ):
            return blank, name
    if len(taken) == len(rows):
        n = {rows[k].key: [_num(t) for t in w] for k, w in taken.items()}
        odd = [key for key, x in n.items() if x[-1] != sum(x[:-1])]  # a cell the source printed wrong (the slip reading)
        if len(odd) == 1 and (slipped := _slip_cell(n, odd[0], leaves)) is not None:
            # its one cell that no identity confirms is not taken; the rest of the table is
            log.debug("table 三 in reading order: %s's %s (%s) does not add up; not_found", odd[0],
                      t3.COLUMNS[slipped].key, n[odd[0]][slipped])
            cells = _grid_cells(rows, taken)
            del cells[(odd[0], t3.COLUMNS[slipped].key)]
            return cells, name
        if odd or not _columns_hold(n, leaves):
            # every row adds up but the columns do not: the rows are not where the count puts them
            log.debug("table 三 in reading order: rows add up, columns do not; nothing taken")
            return {}, None
    if len(taken) < len(rows) and layout != shown:
        # the count fits the other layout than the labels show (161 cells and 14 pieces of wrapped numbers make
        # 175): only a whole table its identities confirm is that layout; rows at their places are not its rows
        log.debug("table 三 in reading order: the count fits %s, the labels show %s; not read whole", layout, shown)
        return {}, None
    if len(taken) < len(rows):
        taken = _columns_known(taken, rows, leaves)
        log.debug("table 三 in reading order: %d of %d rows confirmed (%d value cells)", len(taken), len(rows), len(vals))
    cells = _grid_cells(rows, taken)
    return cells, (name if cells else None)


def _columns_known(taken: dict[int, list[Token]], rows: Sequence[Row], leaves: tuple[str, ...]) -> dict[int, list[Token]]:
    """The rows of a table 三 not read whole whose columns are known. A row's sum (H3.3) holds in any order of
    its parts, and a viewer may print a row's cells out of order, each its own text block (Chromium: `5288` /
    `112` / `290` / `960` / `487` / `154` / `7291`, the fifth cell second; every cell at the same height). A
    row is kept when its parts are printed on one line (left to right), or all alike (every order reads the
    same), or when a column identity whose rows are all read holds in every column (H3.1: 一, 二, (七) and
    四; H3.2: (七) and the results); else it is not_found."""
    cols = range(len(t3.COLUMNS))
    n = {rows[k].key: [_num(t) for t in w] for k, w in taken.items()}
    results = ("total_processed", *leaves)
    checked: set[str] = set()
    if all(k in n for k in H31_ROWS) and all(_h31(n, c) for c in cols):
        checked.update(H31_ROWS)
    if all(k in n for k in results) and all(_h32(n, leaves, c) for c in cols):
        checked.update(results)

    def ordered(w: list[Token]) -> bool:
        parts = w[:-1]
        return len({t.block for t in parts}) == 1 or len({t.text for t in parts}) == 1

    return {k: w for k, w in taken.items() if ordered(w) or rows[k].key in checked}


def _one_row(doc: Document, block: int, index: dict[str, int]) -> int | None:
    """The row (its index) a line of the copy names, when it names exactly one of table 三's rows."""
    b = doc.blocks[block] if 0 <= block < len(doc.blocks) else None
    if not isinstance(b, Paragraph) or _is_cell_value(b.text):
        return None
    named = {index[k] for k in named_rows(b.text) if k in index}
    return named.pop() if len(named) == 1 else None


def _named_before(doc: Document, start: int, vals: list[Token], index: dict[str, int]) -> list[int]:
    """For each token, the lowest row (its index) named alone by a line printed between the section's
    heading (block `start`) and the token's line; -1 when none."""
    out: list[int] = []
    low, scanned = -1, start + 1
    for t in vals:
        while scanned < t.block:
            k = _one_row(doc, scanned, index)
            low = max(low, -1 if k is None else k)
            scanned += 1
        out.append(low)
    return out


def _anchored(
    doc: Document, start: int, vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...]
) -> list[list[Token]] | None:
    """The whole table 三 read with each row's first cell where its label puts it, the other cells in
    row order; None unless every identity confirms it.

    WeasyPrint puts a row's first cell into its label's text block, so pdftotext prints it among the
    label's lines (`（二）部分公开（区分处理的，只计这一情` / `0` / `形，不计其他情形）`) or at the end of
    one (`正、行政机关不再处理其政府信 0`), which may come before the row above has printed its other
    cells: two rows' first cells, then their other cells (`0` `0` / `0 2 0 0 0 2` / `0 0 0 0 0 0`). In a
    sparse table such readings are too many for `_deferred` to search (rows of zeros wait anywhere);
    here there is one. A number is its row's first cell when it is the first number after a line
    naming that row alone, or on such a line, and the row is the one being read or the next; every other
    number fills the next cell in row order. The reading is taken only when every row adds up (H3.3),
    every column satisfies H3.1 and H3.2, and the numbers come in the labels' order: no number of a row
    comes after the label of a row more than one below it (a copy printing the labels first, then the
    numbers in another order, is not this one)."""
    ncol = len(t3.COLUMNS)
    size = len(rows) * ncol
    if len(vals) != size or not _all_numbers(vals):
        return None
    index = {r.key: i for i, r in enumerate(rows)}
    at: list[int] = [-1] * size  # cell → token
    nxt = 0  # the next cell in row order not filled
    before = _named_before(doc, start, vals, index)
    own = -1  # the lowest row named by a label piece on a number's own line so far
    for j, t in enumerate(vals):
        first_on_line = j == 0 or vals[j - 1].block != t.block
        k = None
        if first_on_line:
            k = _one_row(doc, t.block, index) if t.label else _one_row(doc, t.block - 1, index)
        if t.label and first_on_line and k is not None:
            own = max(own, k)
        named_max = max(before[j], own)  # the lowest row a label printed so far names alone
        row = nxt // ncol
        if k is not None and k in (row, row + 1) and at[k * ncol] < 0 and nxt < size:
            cell = k * ncol
        else:
            while nxt < size and at[nxt] >= 0:
                nxt += 1
            if nxt >= size:
                return None
            cell = nxt
        if named_max > cell // ncol + 1:
            return None  # a number after the label of a row more than one below its own
        at[cell] = j
        while nxt < size and at[nxt] >= 0:
            nxt += 1
    return _confirmed(at, vals, rows, leaves)


def _confirmed(at: list[int], vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...]) -> list[list[Token]] | None:
    """The grid of a reading (cell → token), when every cell is filled, every row adds up (H3.3) and every
    column satisfies H3.1 and H3.2; else None."""
    ncol = len(t3.COLUMNS)
    if min(at) < 0:
        return None
    grid = [[vals[at[r * ncol + c]] for c in range(ncol)] for r in range(len(rows))]
    if not all(map(_adds_up, grid)):
        return None
    n = {rows[r].key: [_num(t) for t in w] for r, w in enumerate(grid)}
    return grid if _columns_hold(n, leaves) else None


def _group_piece(text: str) -> bool:
    """A line of a group's label only (`（五）`, `无法提`, `理`): no row's label, a piece of a group's."""
    words = [norm(w) for w in text.split()]
    return bool(words) and all(any(w in g for g in T3_GROUPS) for w in words) and not named_rows(text)


def _label_before(doc: Document, block: int, start: int, index: dict[str, int]) -> int | None:
    """The row named alone by the line before `block`, or by the nearest line before it past lines of a
    group's label only (a rowspan group's label wrapped beside its rows' labels)."""
    b = block - 1
    while b > start:
        k = _one_row(doc, b, index)
        if k is not None or not _group_piece(_text(doc.blocks[b])):
            return k
        b -= 1
    return None


def _anchored_late(
    doc: Document, start: int, vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...]
) -> list[list[Token]] | None:
    """`_anchored` where a row's first cell may also come after the row's other cells: WeasyPrint prints
    the label blocks of a rowspan group (（三） 4.保护第三方合法权 / 0 / 不予公 益 …) after the table, each with the
    first cell it holds, while the rows' other cells stay in place. Every number that is the first after a
    line naming one row alone (past lines of a group's label), or on such a line, is that row's first cell,
    wherever it comes; every other number fills the next cell in row order that no such number holds. Taken
    only when every identity confirms it and no number placed by the order comes after the label of a row
    more than one below its own. When that reading fails and exactly one number no label names is printed
    between two such late first cells (`3.补正后申请内容仍` / `0` / `不明确` / `0`: a cell of the group's block),
    it is tried in every cell: taken when the readings the identities confirm all read the same values."""
    ncol = len(t3.COLUMNS)
    size = len(rows) * ncol
    if len(vals) != size or not _all_numbers(vals):
        return None
    index = {r.key: i for i, r in enumerate(rows)}
    first_of: dict[int, int] = {}  # token → the row whose first cell it is
    for j, t in enumerate(vals):
        if j and vals[j - 1].block == t.block:
            continue
        k = _one_row(doc, t.block, index) if t.label else _label_before(doc, t.block, start, index)
        if k is not None and k not in first_of.values():
            first_of[j] = k
    named_max = _named_before(doc, start, vals, index)

    def read(stray: dict[int, int]) -> tuple[list[list[Token]] | None, list[int]]:
        """The reading with `stray` (token → cell) placed too, and the unanchored tokens printed between two
        first cells that came after their rows (a cell printed with a group's label blocks)."""
        reserved = {k * ncol for k in first_of.values()} | set(stray.values())
        at: list[int] = [-1] * size
        strays: list[int] = []
        nxt = 0
        for j in range(len(vals)):
            if j in first_of or j in stray:
                at[first_of[j] * ncol if j in first_of else stray[j]] = j
                continue
            while nxt < size and (at[nxt] >= 0 or nxt in reserved):
                nxt += 1
            if nxt >= size or named_max[j] > nxt // ncol + 1:
                return None, strays
            late = [first_of.get(i, size) < nxt // ncol for i in (j - 1, j + 1)]
            if all(late):
                strays.append(j)
            at[nxt] = j
        return _confirmed(at, vals, rows, leaves), strays

    grid, strays = read({})
    if grid is not None or len(strays) != 1:
        return grid
    # one number printed among the late first cells: the cell it is, wherever it is, left to the identities
    found = {}
    for cell in range(size):
        if cell % ncol or cell // ncol not in first_of.values():
            g, _ = read({strays[0]: cell})
            if g is not None:
                found[tuple(t.text for w in g for t in w)] = g
    return next(iter(found.values())) if len(found) == 1 else None


ROW_GROUPS_BUDGET = 20_000
"""Steps `_row_groups` may take before it refuses."""


def _row_groups(vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...]) -> list[list[Token]] | None:
    """The whole table 三 read as groups of rows in row order, each printed whole before the next: a text
    block of the viewer's holding whole rows left to right (rows on their labels' lines), or, for a group
    of h rows, seven text blocks of h numbers, its columns one after another (Chromium's narrow pages print
    the labels, then the rows in such groups: `0 0 0 0` / `0 0 0 0` / `0 3 0 0` / … for four rows). Every
    way to cut the copy's text blocks so is read; the table is taken when every reading that every row
    and column confirms (H3.3, H3.1, H3.2) reads the same values, else None."""
    ncol = len(t3.COLUMNS)
    nrow = len(rows)
    if len(vals) != nrow * ncol or any(t.run is None for t in vals) or not _all_numbers(vals):
        return None
    runs: list[list[Token]] = []
    for t in vals:
        if runs and runs[-1][-1].run == t.run:
            runs[-1].append(t)
        else:
            runs.append([t])
    grid: list[list[Token]] = []
    found: dict[tuple[str, ...], list[list[Token]]] = {}
    steps = 0

    def walk(ri: int) -> bool:  # False: stop (two readings, or over budget)
        nonlocal steps
        steps += 1
        if steps > ROW_GROUPS_BUDGET:
            return False
        r = len(grid)
        if ri == len(runs) or r == nrow:
            if ri == len(runs) and r == nrow:
                n = {rows[k].key: [_num(t) for t in w] for k, w in enumerate(grid)}
                if _columns_hold(n, leaves):
                    found.setdefault(tuple(t.text for w in grid for t in w), [w[:] for w in grid])
            return len(found) < 2
        run = runs[ri]
        options: list[tuple[int, list[list[Token]]]] = []
        if len(run) % ncol == 0 and r + len(run) // ncol <= nrow:  # whole rows, left to right
            options.append((ri + 1, [run[k * ncol : (k + 1) * ncol] for k in range(len(run) // ncol)]))
        h = len(run)
        block = runs[ri : ri + ncol]
        if r + h <= nrow and len(block) == ncol and all(len(b) == h for b in block):  # h rows, a column at a time
            options.append((ri + ncol, [[b[k] for b in block] for k in range(h)]))
        for nxt, group in options:
            if all(map(_adds_up, group)):
                grid.extend(group)
                go_on = walk(nxt)
                del grid[len(grid) - len(group) :]
                if not go_on:
                    return False
        return True

    if not walk(0) or len(found) != 1:
        if found or steps > ROW_GROUPS_BUDGET:
            why = "over budget" if steps > ROW_GROUPS_BUDGET else f"{len(found)} readings"
            log.debug("table 三 in reading order: groups of rows: %s", why)
        return None
    return next(iter(found.values()))


FULL_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")
"""The rows of table 三 that print their 总计 where the result rows print it blank (the Shanghai pattern)."""
MAX_T3_BLANKS = 2
"""Cells of such a table printed empty besides the result rows' totals, placed by the identities."""


def _totals_blank(
    vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...]
) -> dict[tuple[str, str], Printed] | None:
    """Table 三 whose result rows print their 总计 blank (spec §7 V6, the Shanghai pattern: only 一, 二,
    (七) and 四 print a total), read in reading order: six numbers a result row, seven the others.

    Up to MAX_T3_BLANKS more cells may be printed empty, which leaves nothing in the copy: every placement
    of them among the printed cells is tried. A placement is a reading when the four rows with a total add
    up (H3.3), every column satisfies 一+二 = (七)+四 (H3.1), and every column but 总计 has (七) = the sum of
    the results (H3.2; the results' totals are blank). The table is taken when exactly one grid of printed
    values is a reading; two, or none: None (not_found, never a pick)."""
    ncol = len(t3.COLUMNS)
    slots = [(r, c) for r, row in enumerate(rows) for c in range(ncol if row.key in FULL_ROWS else ncol - 1)]
    missing = len(slots) - len(vals)
    if not 0 <= missing <= MAX_T3_BLANKS or not _all_numbers(vals):
        return None
    index = {r.key: i for i, r in enumerate(rows)}
    if any(k not in index for k in FULL_ROWS):
        return None
    nums = [_num(t) for t in vals]
    found: dict[tuple[str, ...], tuple[int, ...]] = {}
    for spots in itertools.combinations(range(len(slots)), missing):
        grid: list[list[Number]] = [[0] * ncol for _ in rows]
        numbers = iter(nums)
        for k, (r, c) in enumerate(slots):
            grid[r][c] = 0 if k in spots else next(numbers)
        if any(grid[index[key]][-1] != sum(grid[index[key]][:-1]) for key in FULL_ROWS):
            continue
        if not _columns_hold({row.key: grid[r] for r, row in enumerate(rows)}, leaves, results_total=False):
            continue
        texts = iter(t.text for t in vals)
        found.setdefault(tuple("" if k in spots else next(texts) for k in range(len(slots))), spots)
        if len(found) > 1:
            log.debug("table 三 with the results' totals blank: two grids fit")
            return None
    if len(found) != 1:
        return None
    (spots,) = found.values()
    out: dict[tuple[str, str], Printed] = {}
    tokens_left = iter(vals)
    page = vals[0].page if vals else None
    for k, (r, c) in enumerate(slots):
        tok = None if k in spots else next(tokens_left)
        page = tok.page if tok is not None else page
        out[(rows[r].key, t3.COLUMNS[c].key)] = _printed(tok) if tok is not None else Printed("", page, None)
    for result in rows:
        if result.key not in FULL_ROWS:
            out[(result.key, t3.COLUMNS[-1].key)] = Printed("", out[(result.key, t3.COLUMNS[0].key)].page, None)
    return out


MAX_EMPTY = 3
"""Cells of a table 三 whose every row prints its total that may be printed empty, placed by `_printed_empty`."""
EMPTY_BUDGET = 50_000
"""Placements `_printed_empty` may try before it refuses."""


def _printed_empty(
    vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...], work: Work | None = None
) -> dict[tuple[str, str], Printed] | None:
    """Table 三 with up to MAX_EMPTY cells printed empty (nothing of them in the copy), every row printing
    its total, the other cells in row order: the rows are read top to bottom, each taking 7 − k numbers
    and k empty cells at any of its places, and each row must add up (H3.3, an empty cell, a dash or 无
    counting 0). A reading is kept when every column satisfies H3.1 and H3.2; the table is taken when
    exactly one grid of printed values is a reading (a row adding up with its empty cell in two places is
    told apart by the columns, or not taken). Two readings, none, or more than EMPTY_BUDGET placements
    tried: None (not_found, never a pick)."""
    ncol = len(t3.COLUMNS)
    missing = len(rows) * ncol - len(vals)
    if not 0 < missing <= MAX_EMPTY:
        return None
    nums = [_num(t) for t in vals]
    found: dict[tuple[str, ...], list[list[int | None]]] = {}
    grid: list[list[int | None]] = []
    tried = 0

    def value(i: int | None) -> Number:
        return 0 if i is None else nums[i]

    def columns_hold() -> bool:
        n = {row.key: [value(i) for i in cells] for row, cells in zip(rows, grid)}
        return _columns_hold(n, leaves)

    def walk(r: int, pos: int, left: int) -> bool:  # False: stop (two grids, or over budget)
        nonlocal tried
        if r == len(rows):
            if pos == len(vals) and not left and columns_hold():
                key = tuple("" if i is None else vals[i].text for cells in grid for i in cells)
                found.setdefault(key, [list(cells) for cells in grid])
            return len(found) < 2
        for k in range(min(left, ncol) + 1):
            for spots in itertools.combinations(range(ncol), k):
                tried += 1
                if tried > EMPTY_BUDGET:
                    return False
                if work is not None:
                    work.spend()
                cells: list[int | None] = []
                at = pos
                for c in range(ncol):
                    cells.append(None if c in spots else at)
                    at += c not in spots
                if at > len(vals):
                    continue
                row = [value(i) for i in cells]
                if row[-1] != sum(row[:-1]):
                    continue
                grid.append(cells)
                go_on = walk(r + 1, at, left - k)
                grid.pop()
                if not go_on:
                    return False
        return True

    try:
        ended = walk(0, 0, missing)
    except _OverBudget:  # the table's searches past TABLE_BUDGET together
        return None
    if not ended or len(found) != 1:
        log.debug("table 三 with cells printed empty: %s", "over budget" if tried > EMPTY_BUDGET else f"{len(found)} grids fit")
        return None
    (placed,) = found.values()
    out: dict[tuple[str, str], Printed] = {}
    page = vals[0].page
    for row, cells in zip(rows, placed):
        for col, i in zip(t3.COLUMNS, cells):
            page = vals[i].page if i is not None else page
            out[(row.key, col.key)] = _printed(vals[i]) if i is not None else Printed("", page, None)
    return out


STAIRCASE_ROWS = 25
"""The longest run of unplaced rows `_staircase` is asked to fill: a whole table (the search is bounded
by STAIRCASE_BUDGET; the hongze sample's copy leaves a run of 19 rows, mostly zeros, that one grid
fills once the other rows and the columns are known)."""
MAX_FLOWS = 3
"""Flows (regions pdftotext reads one after the other, each top to bottom) a table-三 copy may hold."""
STAIRCASE_BUDGET = 50_000
"""Placements the search of `_staircase` may try in one run of rows before it refuses."""
SLIP_STAIRCASE_BUDGET = 300_000
"""Placements its slip search (one row printed wrong in the source) may try: it runs once per table, after
every other reading failed, and each row may be the one, so it tries several times the placements of the
search without it (LibreOffice's copy of the report with a source error: about 200,000 on its first seven
rows, 1.4 s)."""


def _staircase(
    vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...], known: dict[str, list[Number]] | None = None,
    slip: bool = False, over_budget: bool = False, work: Work | None = None,
) -> list[list[Token]] | None:
    """`_staircase_search`, once per table for the same arguments (as `_deferred`)."""
    def search() -> list[list[Token]] | None:
        return _staircase_search(vals, rows, leaves, known, slip, over_budget, work)

    if work is None or over_budget:  # (a search that raises past its budget is not kept)
        return search()
    rest = tuple(sorted((k, tuple(v)) for k, v in (known or {}).items()))
    key = ("staircase", tuple(vals), tuple(r.key for r in rows), leaves, rest, slip)
    return work.once(key, search)


def _staircase_search(
    vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...], known: dict[str, list[Number]] | None,
    slip: bool, over_budget: bool, work: Work | None,
) -> list[list[Token]] | None:
    """The one grid of len(rows) × 7 cells the numbers of a table-三 copy fill in reading order, or None.

    pdftotext orders a table's cells by its text blocks: narrow cells whose lines lie close together
    merge into one block (a column of several rows, or a few rows of a few columns: the viewer's run,
    Token.run), a block's lines are read top to bottom, left to right, and blocks are read in flows,
    each flow top to bottom and left to right (a table may be split into side-by-side flows, the
    second starting above where the first ended). So the copy never prints a cell before the one
    above it or the one left of it: the cells printed so far always form a staircase (row k holds its
    first l_k cells, l_1 ≥ l_2 ≥ …). The orders searched: each run a rectangle read row by row, put at
    a corner of the staircase, at most MAX_FLOWS flows (a run whose corner is not below or right of
    the previous run's opens a flow). Among them the identities keep those where every row adds up
    (H3.3) and, when `rows` is the whole table, every column satisfies H3.1 and H3.2. The grid is
    taken when exactly one grid of printed values survives (orders that differ only by where equal
    numbers go are one grid). Two grids, none, or a search past STAIRCASE_BUDGET placements: None
    (not_found, never a pick).

    With `slip` (only where these rows and `known` are the whole table), one of these rows may not add
    up, as `_deferred`'s slip: exactly one of its cells must then explain every column (`_slip_cell`);
    grids with no such row are read too, and one grid must survive among both kinds. It runs only where
    the search without it ends within STAIRCASE_BUDGET (`over_budget`: that search raises _OverBudget
    rather than return None past it)."""
    ncol = len(t3.COLUMNS)
    nrow = len(rows)
    if len(vals) != nrow * ncol:
        return None
    known = known or {}
    local = {r.key: i for i, r in enumerate(rows)}
    # the columns' identities when these rows and the `known` ones (the table's other rows, taken) are the whole table
    whole = all(k in local or k in known for k in ("total_processed", "carried_forward", "new_received", "carried_over", *leaves))
    if slip and not whole:
        return None
    if slip:  # only where the search without the slip ends within its budget (finding none): else this one would not
        try:
            strict = _staircase(vals, rows, leaves, known, over_budget=True, work=work)
        except _OverBudget:
            return None
        if strict is not None:
            return strict
    budget = SLIP_STAIRCASE_BUDGET if slip else STAIRCASE_BUDGET
    nums = [_num(t) for t in vals]
    grid: list[list[Number | None]] = [[None] * ncol for _ in range(nrow)]
    where: list[list[int]] = [[-1] * ncol for _ in range(nrow)]
    shape = [0] * nrow
    seen: set[tuple] = set()
    found: dict[tuple, list[list[int]]] = {}
    tried = 0

    def filled(cells: list[Number | None]) -> list[Number]:
        return cast("list[Number]", cells)  # cells are placed in reading order: those asked about are filled

    def col(key: str, c: int) -> Number:
        return filled(grid[local[key]])[c] if key in local else known[key][c]

    def odd_rows() -> list[int]:
        return [r for r in range(nrow) if shape[r] == ncol and grid[r][-1] != sum(filled(grid[r][:-1]))]

    def column_holds(c: int) -> bool:
        total = col("total_processed", c)
        return total == sum(col(k, c) for k in leaves) and (
            col("new_received", c) + col("carried_over", c) == total + col("carried_forward", c)
        )

    def ok(r: int, c: int) -> bool:
        # a row that does not add up: with the slip, one of them
        if c == ncol - 1 and grid[r][c] != sum(filled(grid[r][:-1])) and (not slip or len(odd_rows()) != 1):
            return False
        if not whole or r != nrow - 1:  # column c of these rows is complete once their last row holds it
            return True
        if slip:  # the cell printed wrong breaks one column at most: the grid is checked once whole (`holds`)
            return sum(not column_holds(x) for x in range(c + 1)) <= 1
        return column_holds(c)

    at: dict[Number, list[int]] = {}
    for j, x in enumerate(nums):
        at.setdefault(x, []).append(j)

    def totals_ahead(i: int) -> bool:
        """The totals the rows holding their six parts need come later, in row order (a row's total
        comes after the total of the row above it)."""
        j = i
        spare = slip and not odd_rows()  # with the slip, one row's total may be another number
        for r in range(nrow):
            if shape[r] == ncol - 1:
                spots = at.get(sum(filled(grid[r][:-1])), [])
                k = bisect.bisect_left(spots, j)
                if k == len(spots):
                    if spare:
                        spare = False
                        continue
                    return False
                j = spots[k] + 1
        return True

    def holds() -> bool:
        """With the slip, the whole grid's columns: as printed, or explained by its one row that does not add up."""
        if not slip:
            return True
        n = {**known, **{rows[r].key: filled(grid[r]) for r in range(nrow)}}
        odd = odd_rows()
        return _columns_hold(n, leaves) if not odd else _slip_cell(n, rows[odd[0]].key, leaves) is not None

    texts: list[tuple[str, ...]] = [()] * nrow
    runs: list[tuple[int, int]] = []  # (first token, count): the viewer's text blocks
    for j, t in enumerate(vals):
        if runs and t.run is not None and vals[j - 1].run == t.run:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((j, 1))

    def place(r0: int, c0: int, w: int, start: int, n: int) -> list[tuple[int, int]] | None:
        """Fill the rectangle of n cells, w wide, at (r0, c0) row by row; the cells filled, or None
        (and nothing filled) when a row of it does not add up."""
        done: list[tuple[int, int]] = []
        for k in range(n):
            r, c = r0 + k // w, c0 + k % w
            grid[r][c], where[r][c] = nums[start + k], start + k
            shape[r] += 1
            texts[r] += (vals[start + k].text,)
            done.append((r, c))
            if not ok(r, c):
                unplace(done)
                return None
        return done

    def unplace(done: list[tuple[int, int]]) -> None:
        for r, c in reversed(done):
            grid[r][c], where[r][c] = None, -1
            shape[r] -= 1
            texts[r] = texts[r][:-1]

    def walk(ri: int, last: tuple[int, int], flows: int) -> bool:  # False: stop (two grids, or over budget)
        nonlocal tried
        if ri == len(runs):
            if not holds():
                return True
            grid_key = tuple(texts)
            found.setdefault(grid_key, [row[:] for row in where])
            return len(found) < 2
        key = (ri, tuple(texts), last, flows)
        if key in seen:  # the same cells hold the same numbers: the same grids follow
            return True
        seen.add(key)
        start, n = runs[ri]
        for r0 in range(nrow):
            c0 = shape[r0]
            for w in range(1, min(n, ncol - c0) + 1):
                h = n // w
                if n % w or r0 + h > nrow or (r0 > 0 and shape[r0 - 1] < c0 + w):
                    continue
                if any(shape[r0 + j] != c0 for j in range(h)):
                    continue
                more = flows + ((r0, c0) <= last)  # a block above or left of the last one opens a flow
                if more > MAX_FLOWS:
                    continue
                tried += 1
                if tried > budget:
                    return False
                if work is not None:
                    work.spend()
                done = place(r0, c0, w, start, n)
                if done is None:
                    continue
                if totals_ahead(start + n) and not walk(ri + 1, (r0, c0), more):
                    return False
                unplace(done)
        return True

    try:
        ended = walk(0, (-1, -1), 1)
    except _OverBudget:  # the table's searches past TABLE_BUDGET together
        if over_budget:
            raise
        return None
    if over_budget and tried > budget:
        raise _OverBudget
    if not ended or len(found) != 1:
        log.debug("table 三 in reading order: %s", "over budget" if tried > budget else f"{len(found)} grids fit")
        return None
    (cells,) = found.values()
    return [[vals[cells[r][c]] for c in range(ncol)] for r in range(nrow)]


MAX_DEFERRED = 3
"""Cells of a table-三 copy that may be waiting at once to be printed after their place (`_deferred`)."""
DEFER_ROWS = 15
"""Rows a cell printed late may come after its own row's end (its row's next DEFER_ROWS rows)."""
MAX_FIRST_DEFERRED = 12
"""Cells of the first column (the one beside the labels) that may be waiting at once in `_deferred`'s second
search: WeasyPrint puts a row's first cell into its label's text block, and the label blocks of a
rowspan group (（三） to （六）) are printed after the rows' other cells, ten of them at once."""
FIRST_DEFER_ROWS = 24
"""Rows a first-column cell printed late may come after its own row's end in that second search."""
NEAR_DEFER_ROWS = 0
"""Rows a cell of another column may come late in that second search: none (it comes right after its
row's last cell, before the next row's); else each first-column cell waiting could also be read as any
other cell of its row, and the search does not end (300,000 states on a WeasyPrint copy)."""
TAIL_ROWS = 2
"""Rows right above table 三's last row (四) whose cells may wait several at a time in `_deferred`: they are
read with 四 by the identities (`last_row`). Chromium's copies print the end of the table out of order: a
row's last two cells after (七), 四's cells in an order of their own, a row's first cell before its total."""
DEFERRED_BUDGET = 30_000
"""States the search of `_deferred` may visit before it refuses (about 1.5 s at a load of 6; the WeasyPrint
copy with cells aligned to the bottom needs 13,500, the others 30 to 1,300)."""


LATE_TOTALS_BUDGET = 8_000
"""States `_deferred`'s widest search (`late_totals`) may visit: it runs where every other reading failed,
also once per reading of a copy's wrapped numbers (WeasyPrint's copy of the global-distinct page needs
3,600)."""
SLIP_READINGS_BUDGET = 8_000
"""States each slip search (a grid with one cell the source printed wrong) may visit when it runs once per
reading of a copy's wrapped numbers, after no reading fitted without it (WeasyPrint's Letter copy of the
report with a source error needs under 5,000 in each; a copy that no reading fits spends this on each of
its 36 readings, about 0.1 s apiece)."""


H31_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")
"""The rows of H3.1 (一 + 二 = (七) + 四, per column)."""


def _h31(n: dict[str, list[Number]], c: int) -> bool:
    """H3.1 on column c (row key → its seven numbers)."""
    return n["new_received"][c] + n["carried_over"][c] == n["total_processed"][c] + n["carried_forward"][c]


def _h32(n: dict[str, list[Number]], leaves: tuple[str, ...], c: int) -> bool:
    """H3.2 on column c: (七) is the sum of the results."""
    return n["total_processed"][c] == sum(n[k][c] for k in leaves)


def _columns_hold(n: dict[str, list[Number]], leaves: tuple[str, ...], results_total: bool = True) -> bool:
    """H3.1 and H3.2 on every column of a whole table 三 (row key → its seven numbers); H3.2 not on 总计
    when the results print no total (`results_total` False)."""
    ncol = len(t3.COLUMNS)
    return all(_h31(n, c) and ((c == ncol - 1 and not results_total) or _h32(n, leaves, c)) for c in range(ncol))


def _deferred(
    vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...], first_column: bool = False, joins: int = 0,
    late_totals: bool = False, slip: bool = False, budget: int | None = None, end_rows: bool = False,
    work: Work | None = None,
) -> list[list[Token]] | None:
    """`_deferred_search`, once per table for the same arguments (`work`: the table's searches; a
    reading of its wrapped numbers read again for the slip searches the same again)."""
    def search() -> list[list[Token]] | None:
        return _deferred_search(vals, rows, leaves, first_column, joins, late_totals, slip, budget, end_rows, work)

    if work is None:
        return search()
    key = ("deferred", tuple(vals), tuple(r.key for r in rows), leaves, first_column, joins, late_totals, slip, budget, end_rows)
    return work.once(key, search)


def _deferred_search(
    vals: list[Token], rows: Sequence[Row], leaves: tuple[str, ...], first_column: bool, joins: int,
    late_totals: bool, slip: bool, budget: int | None, end_rows: bool, work: Work | None,
) -> list[list[Token]] | None:
    """The one whole table 三 the numbers fill row by row, left to right, when some cells are printed
    after their place, or None.

    WeasyPrint and Chromium PDFs put a cell that lies beside a taller block (a label wrapped over
    lines, a rowspan group label, a total of several lines) into that block's flow, so pdftotext prints
    it after the cells that follow it: a row's first number after its total ("43 8 48 40 17 188" then
    "32"), a total a few rows later, a column's cells of the last rows after the table. What is left is
    the order of the cells in rows, and the cells printed late keep their own order (they come top to
    bottom, left to right among themselves). The search reads the numbers in order: each is the next
    cell in row order, or the first of the cells passed over (at most MAX_DEFERRED waiting at once).
    Every row must add up (H3.3) once its seven cells are known, and the grid's columns must satisfy
    H3.1 and H3.2. It is taken when exactly one grid of printed values survives; two, none, or a
    search past DEFERRED_BUDGET steps: None (not_found, never a pick).

    With `first_column`, cells of the first column (the cell beside a row's label, which WeasyPrint puts
    into the label's text block) may also wait, up to MAX_FIRST_DEFERRED at once and FIRST_DEFER_ROWS rows
    late: a group's label blocks printed after the table's other cells ("… 4691" / "（三） 4.保护第三方合法权"
    / "139" / …). A cell of another column may then wait only until its row's last cell (NEAR_DEFER_ROWS:
    a cell printed right after its row's total), or each first cell waiting could be read as any cell of
    its row. And while no first cell waits, the next row's first cell may come early, among the row's
    own cells ("（三） 1.属于国家秘密" / "87" / "不予公 2.其他法律行政法规 51" / "开" / "禁止公开" / "58" …: the
    label blocks of two rows side by side). A row's first two cells may wait together, as a pair printed
    on one line of the label's block (`4.保护第三方合法权` / `4539 610`: wider numbers); they are then read
    from two numbers of one line.

    With `late_totals` too (the widest search, tried after every other reading; its own budget,
    LATE_TOTALS_BUDGET), a total may wait DEFER_ROWS rows while first cells wait, and the first cells
    and the other cells printed late each keep their own order, not one order together: WeasyPrint's
    unstyled page prints a row's first cell after its row on its label's line, then the totals of rows
    above it (`或重新出具已获取信 53` / … / `548` / `682` / `598`).

    With `joins` (the copy holds that many numbers more than the table's cells), a row's total may be
    printed wrapped, its end on the next line right after it (`… 881` / `1107` / `5` for 11075): the
    total is then read as the two joined, exactly `joins` times (the row's sum, and every other identity,
    must hold with it).

    With `slip`, the grid may hold one cell the source itself printed wrong (a report's arithmetic
    error, V22): one row that does not add up, its difference d, and exactly one cell of it whose
    correction by d makes every column satisfy H3.1 and H3.2 (the other columns hold as printed). Grids
    with no such cell are read as well, and one grid of printed values must survive among both kinds:
    the slip widens the readings, never chooses between them. The grid's other cells are confirmed (each
    in columns whose identities hold, the cell left over in its row by elimination); that cell is not:
    its printed number may be the source's error or a number the copy lost a piece of, so `_read_t3`
    leaves it not_found. A row printed wrong whose cell is printed late is not read (the search looks
    ahead for a late cell by its row's sum).

    The last row, 四, is what H3.1 leaves from 一, 二 and (七), and a cell still waiting when the search
    reaches it is what its row's or its column's identity leaves: so the numbers left then are read in any
    order (`last_row`), provided they are exactly those values (Chromium prints 四's cells in an order of
    their own, and the last cells of a result row after (七)). In the TAIL_ROWS rows above 四 several cells
    of a row may wait at once (not with `first_column` or `slip`). With `end_rows` (and `first_column`: its
    own pass, after the others), the cells of those rows but their first may be left for `last_row` to read,
    any number of them (WeasyPrint's narrow copies of the 2019 page print （六） and 四 interleaved column by
    column after （七）: `20.2` / `22.2` / `20.3` / `22.3` …)."""
    ncol = len(t3.COLUMNS)
    size = len(rows) * ncol
    odd = -1  # with `slip`: the row that does not add up (-1: none)
    pair_tag = size  # a queue entry `pair_tag + c`: the cells c and c + 1 waiting together

    def cell_of(q: int) -> int:
        return q - pair_tag if q >= pair_tag else q

    def first(q: int) -> bool:
        return first_column and cell_of(q) % ncol == 0

    def reach(q: int) -> int:
        if not first_column:
            return DEFER_ROWS
        if first(q):
            return FIRST_DEFER_ROWS
        return DEFER_ROWS if late_totals and cell_of(q) % ncol == ncol - 1 else NEAR_DEFER_ROWS

    def heads(queue: tuple[int, ...]) -> list[int]:
        """The waiting cells that may be printed next (their places in the queue): the first, or with
        `late_totals` the first of the first column's and the first of the others."""
        if not late_totals:
            return [0] if queue else []
        kinds = ([i for i, q in enumerate(queue) if first(q)], [i for i, q in enumerate(queue) if not first(q)])
        return [kind[0] for kind in kinds if kind]

    def waiting(queue: tuple[int, ...]) -> int:
        return sum(2 if q >= pair_tag else 1 for q in queue)

    if not size <= len(vals) <= size + joins or not _all_numbers(vals):
        return None
    # a total and the next number joined, read as one token after the copy's own (`joined[p]`: p and p + 1)
    joined: dict[int, int] = {}
    tokens_ = list(vals)
    if joins:
        for p in range(len(vals) - 1):
            head, end = vals[p], vals[p + 1]
            if head.text.isdigit() and end.text.isdigit() and head.text != "0" and head.block != end.block \
                    and len(end.text) <= len(head.text):
                joined[p] = len(tokens_)
                tokens_.append(Token(head.text + end.text, head.block, head.page, head.run, head.label))
    nums = [_num(t) for t in tokens_]
    at: list[int] = [-1] * size  # cell → token
    tail_start = size - (TAIL_ROWS + 1) * ncol  # the first cell of the TAIL_ROWS rows above 四
    parked: list[int] = []  # with `end_rows`: the last cells of the row above (七) left for `last_row`
    park_row = range(tail_start, tail_start + ncol)
    left = [ncol] * len(rows)  # cells of each row not yet filled
    steps = 0

    index = {r.key: i for i, r in enumerate(rows)}
    leaf_rows = {index[k] for k in leaves}
    sides = ([index["new_received"], index["carried_over"]], [index["total_processed"], index["carried_forward"]])
    groups = (leaf_rows, set(sides[0]), set(sides[1]))
    sums: list[list[Number]] = [[0] * ncol for _ in groups]  # per column: the leaves, 一+二 and 三+四 filled so far
    counts = [[0] * ncol for _ in groups]

    def tally(cell: int, sign: int) -> None:
        r, c = divmod(cell, ncol)
        for which, group in enumerate(groups):
            if r in group:
                sums[which][c] += sign * nums[at[cell]]
                counts[which][c] += sign

    def column_ok(c: int) -> bool:
        """H3.2 and H3.1 on column c as far as its cells are filled (with `slip`, at the end only: a
        column may hold the cell printed wrong before its row is known)."""
        if slip:
            return True
        tp = at[sides[1][0] * ncol + c]
        if tp >= 0 and counts[0][c] == len(leaf_rows) and sums[0][c] != nums[tp]:
            return False
        return not (counts[1][c] == 2 and counts[2][c] == 2 and sums[1][c] != sums[2][c])

    def fill(cell: int, tok: int) -> bool:
        """Put token `tok` in `cell`; False when that completes its row and the row does not add up,
        or a column's identity whose cells are all filled."""
        nonlocal odd
        at[cell] = tok
        tally(cell, 1)
        r = cell // ncol
        left[r] -= 1
        if not column_ok(cell % ncol):
            return False
        if left[r]:
            return True
        row = [nums[at[r * ncol + c]] for c in range(ncol)]
        if row[-1] == sum(row[:-1]):
            return True
        if slip and odd < 0:
            odd = r
            return True
        return False

    def unfill(cell: int) -> None:
        nonlocal odd
        if at[cell] < 0:
            return
        if odd == cell // ncol:
            odd = -1
        tally(cell, -1)
        at[cell] = -1
        left[cell // ncol] += 1

    positions: dict[Number, list[int]] = {}
    for j, x in enumerate(nums[: len(vals)]):
        positions.setdefault(x, []).append(j)
    for j, t in joined.items():
        bisect.insort(positions.setdefault(nums[t], []), j)

    pair_positions: dict[Number, list[int]] = {}  # the sum of two numbers on one line → where the first is
    for j in range(len(vals) - 1):
        if vals[j].block == vals[j + 1].block:
            pair_positions.setdefault(nums[j] + nums[j + 1], []).append(j)

    def passable(n: int, queue: tuple[int, ...], p: int) -> bool:
        """When n ends a row: every waiting cell of a row whose other cells are filled needs one number
        (the row's total less its parts, or their sum; a pair waiting, two on one line that add up to
        it), and the cells printed late come in their order, so those numbers must follow token p in
        that order, each within its reach of its own row."""
        if n % ncol or not queue:
            return True
        if late_totals:  # the first cells and the others come late each in their own order
            firsts = tuple(q for q in queue if first(q))
            return all(in_order(n, sub, p) for sub in (firsts, tuple(q for q in queue if not first(q))))
        return in_order(n, queue, p)

    def in_order(n: int, queue: tuple[int, ...], p: int) -> bool:
        j = p
        for q in queue:
            r = cell_of(q) // ncol
            if (r + 1) * ncol > n:
                break  # its row is still open: the cells waiting from here on need numbers not known yet
            if sum(at[r * ncol + c] < 0 for c in range(ncol)) > (2 if q >= pair_tag else 1):
                break  # another cell of its row waits too (the rows above the last): its number is not known yet
            row = [nums[at[r * ncol + c]] if at[r * ncol + c] >= 0 else 0 for c in range(ncol)]
            need = sum(row[:-1]) if cell_of(q) % ncol == ncol - 1 else row[-1] - sum(row[:-1])
            spots = (pair_positions if q >= pair_tag else positions).get(need, [])
            k = bisect.bisect_left(spots, j)
            if need < 0 or k == len(spots) or spots[k] >= (r + 2 + reach(q)) * ncol + joins:
                return False
            j = spots[k] + (2 if q >= pair_tag else 1)
        return True

    def state(n: int, queue: tuple[int, ...], ahead: int, used: int) -> tuple:
        open_rows = sorted({cell_of(q) // ncol for q in (*queue, *([ahead] if ahead >= 0 else []))}
                           | ({n // ncol} if n < size else set()))
        # the open rows' printed values (not which tokens: readings that differ only there are one)
        cells = tuple(tokens_[at[r * ncol + c]].text if at[r * ncol + c] >= 0 else None
                      for r in open_rows for c in range(ncol))
        total = tuple(nums[t] if (t := at[sides[1][0] * ncol + c]) >= 0 else None for c in range(ncol))
        slipped = (odd, nums[at[odd * ncol + ncol - 1]] - sum(nums[at[odd * ncol + c]] for c in range(ncol - 1))) if odd >= 0 else None
        # the row of the parked cells: `last_row` reads them by its sum too
        park = tuple(tokens_[at[c]].text if at[c] >= 0 else None for c in park_row) if parked else ()
        return n, queue, ahead, used, tuple(parked), park, cells, tuple(map(tuple, sums)), total, slipped  # (三's: the leaves' check)

    def flat(suffix: tuple | None) -> tuple[tuple[int, str], ...]:
        """A reading of the rest, (cell, token, the rest) linked: its cells' printed values."""
        out = []
        while suffix:
            cell, tok, suffix = suffix
            out.append((cell, tokens_[tok].text))
        return tuple(sorted(out))

    # table 三's identities (tasks.checks.identities), each as the (cell, sign) pairs whose signed values sum to 0
    col_at = {c.key: j for j, c in enumerate(t3.COLUMNS)}
    equations = [
        [*((index[r] * ncol + col_at[c], 1) for _, r, c in rule.lhs), *((index[r] * ncol + col_at[c], -1) for _, r, c in rule.rhs)]
        for rule in identities("2021" if tuple(leaves) == t3.RESULT_LEAVES_2021 else "2021_mixed")
        if rule.rule.startswith("T3")
    ]

    def last_row(n: int, queue: tuple[int, ...], p: int) -> tuple | None:
        """The rest of the numbers read as the last row (四, n at its first cell) and the cells still waiting,
        in any order: each of those cells is the one number the identities leave it (四 by H3.1 from 一, 二
        and (七); a waiting cell by its row's sum or its column's), and the numbers left must be exactly
        those values. A reading (linked as `walk`'s), or None when a cell is not determined, the numbers
        left are not those values, or two numbers of one value are printed differently."""
        unknown = {cell_of(q) for q in queue} | set(parked) | set(range(n, size))
        found: dict[int, Number] = {}

        def value(cell: int) -> Number:
            return found[cell] if cell in found else nums[at[cell]]

        progress = True
        while progress and len(found) < len(unknown):
            progress = False
            for eq in equations:
                free = [(cell, sign) for cell, sign in eq if cell in unknown and cell not in found]
                if len(free) == 1:
                    cell, sign = free[0]
                    found[cell] = -sign * sum(sign2 * value(c2) for c2, sign2 in eq if c2 != cell)
                    progress = True
        if len(found) < len(unknown) or any(v < 0 for v in found.values()):
            return None
        if any(sum(sign * value(cell) for cell, sign in eq) != 0 for eq in equations):
            return None
        left: dict[Number, list[int]] = {}
        for j in range(p, len(vals)):
            left.setdefault(nums[j], []).append(j)
        if any(len({tokens_[j].text for j in js}) > 1 for js in left.values()):
            return None  # one value printed two ways: which cell holds which is not known
        if sorted(found.values()) != sorted(nums[p : len(vals)]):
            return None
        suffix: tuple | None = None
        for cell in sorted(unknown, reverse=True):
            suffix = (cell, left[found[cell]].pop(), suffix)
        return suffix

    def with_its_row(n: int, queue: tuple[int, ...]) -> bool:
        """Cell n may wait while another cell of its row waits. One cell of a row waits at a time, but in the
        TAIL_ROWS rows right above the last several may (`last_row` reads them): not with first cells waiting
        too, where each of them could then be read as any cell of its row, but for a row's total beside its
        own first cell with `late_totals` (the two kinds keep their own orders); nor with the slip, whose
        search it would take past its budget."""
        if slip or n < tail_start:
            return False
        if not first_column:
            return True
        row = n // ncol
        return late_totals and n % ncol == ncol - 1 and all(first(q) for q in queue if cell_of(q) // ncol == row)

    memo: dict[tuple, list[tuple | None]] = {}

    def walk(n: int, queue: tuple[int, ...], ahead: int = -1, used: int = 0) -> list[tuple | None]:
        """The ways to read the rest of the numbers from this state (cells filled from here on), at most
        two that differ in a printed value; `ahead`: the next row's first cell, printed early (-1: none);
        `used`: the wrapped totals joined so far. Raises _OverBudget."""
        nonlocal steps
        if ahead >= 0 and n == cell_of(ahead):  # the cell (or pair) printed early: the row goes on after it
            return walk(n + (2 if ahead >= pair_tag else 1), queue, -1, used)
        if parked and n in park_row:  # the rest of the row after a cell left for `last_row`
            parked.append(n)
            rest = walk(n + 1, queue, ahead, used)
            parked.pop()
            return rest
        p = n - waiting(queue) - len(parked) + (waiting((ahead,)) if ahead >= 0 else 0) + used  # tokens read so far
        if p == len(vals):
            if n < size or queue or parked:
                return []
            grid = {rows[r].key: [nums[at[r * ncol + c]] for c in range(ncol)] for r in range(len(rows))}
            if odd < 0:
                return [None] if _columns_hold(grid, leaves) else []
            return [None] if _slip_cell(grid, rows[odd].key, leaves) is not None else []
        key = state(n, queue, ahead, used)
        if key in memo:  # the same open cells, the same column sums: the same readings follow
            return memo[key]
        steps += 1
        if steps > (budget or (LATE_TOTALS_BUDGET if late_totals else DEFERRED_BUDGET)):
            raise _OverBudget
        if work is not None:
            work.spend()
        out: list[tuple | None] = []
        # the last row and the cells still waiting, in any order: each is the value the identities leave it
        at_last = n == size - ncol and not slip and not joins and ahead < 0 and not any(q >= pair_tag for q in queue)
        if at_last and (tail := last_row(n, queue, p)) is not None:
            out.append(tail)

        def follow(cell: int, tok: int, rest: list[tuple | None], then: tuple[int, int] | None = None) -> None:
            for suffix in rest:
                mine = (cell, tok, suffix if then is None else (then[0], then[1], suffix))
                if not any(flat(mine) == flat(x) for x in out):
                    out.append(mine)

        def also(rest: list[tuple | None]) -> None:
            out.extend(rest)
            out[:] = [x for i, x in enumerate(out) if all(flat(x) != flat(y) for y in out[:i])]

        if n < size and all(n < (cell_of(q) // ncol + 1 + reach(q)) * ncol for q in queue):
            if fill(n, p) and passable(n + 1, (*queue,), p + 1):
                follow(n, p, walk(n + 1, queue, ahead, used))
            unfill(n)
            if used < joins and p in joined and n % ncol == ncol - 1:  # a wrapped total and its end
                if fill(n, joined[p]) and passable(n + 1, (*queue,), p + 2):
                    follow(n, joined[p], walk(n + 1, queue, ahead, used + 1))
                unfill(n)
            one_per_row = not queue or cell_of(queue[-1]) // ncol != n // ncol or with_its_row(n, queue)
            room = (sum(1 for q in queue if first(q)) < MAX_FIRST_DEFERRED if first(n)
                    else sum(1 for q in queue if not first(q)) < MAX_DEFERRED)
            if len(out) < 2 and room and one_per_row and passable(n + 1, (*queue, n), p):
                also(walk(n + 1, (*queue, n), ahead, used))  # cell n waits: nothing filled by this step
            if len(out) < 2 and first(n) and room and one_per_row and ahead < 0 and passable(n + 2, (*queue, pair_tag + n), p):
                also(walk(n + 2, (*queue, pair_tag + n), ahead, used))  # cells n and n + 1 wait, a pair
            if len(out) < 2 and end_rows and first_column and not parked and n in park_row and not first(n):
                parked.append(n)  # cell n and the rest of its row are left for `last_row`
                also(walk(n + 1, queue, ahead, used))
                parked.pop()
        for h in heads(queue):
            q0, others = cell_of(queue[h]), queue[:h] + queue[h + 1 :]
            if len(out) >= 2 or n < (q0 // ncol + 1) * ncol:  # late only after the rest of its row
                continue
            if queue[h] >= pair_tag:  # a pair: two numbers of one line
                if p + 1 < len(vals) and vals[p].block == vals[p + 1].block:
                    if fill(q0, p) and fill(q0 + 1, p + 1):
                        follow(q0, p, walk(n, others, ahead, used), (q0 + 1, p + 1))
                    unfill(q0 + 1)
                    unfill(q0)
            else:
                if fill(q0, p):
                    follow(q0, p, walk(n, others, ahead, used))
                unfill(q0)
        early = (n // ncol + 1) * ncol  # the next row's first cell, printed beside this row's label lines
        if len(out) < 2 and first_column and ahead < 0 and n % ncol and early < size and not any(map(first, queue)):
            if fill(early, p):
                follow(early, p, walk(n, queue, early, used))
            unfill(early)
            if len(out) < 2 and p + 1 < len(vals) and vals[p].block == vals[p + 1].block:  # a pair printed early
                if fill(early, p) and fill(early + 1, p + 1):
                    follow(early, p, walk(n, queue, pair_tag + early, used), (early + 1, p + 1))
                unfill(early + 1)
                unfill(early)
        memo[key] = out[:2]
        return memo[key]

    try:
        readings = walk(0, ())
    except _OverBudget:
        log.debug("table 三 in reading order: cells printed late: over budget")
        return None
    if len(readings) != 1:
        log.debug("table 三 in reading order: cells printed late: %d grids fit", len(readings))
        return None
    cells = dict(_unlink(readings[0]))
    return [[tokens_[cells[r * ncol + c]] for c in range(ncol)] for r in range(len(rows))]


def _slip_cell(grid: dict[str, list[Number]], key: str, leaves: tuple[str, ...]) -> int | None:
    """The one column whose cell in row `key` (a row of a whole table 三 that does not add up), corrected
    by the row's difference, makes every column satisfy H3.1 and H3.2; None when no column or several do."""
    row = grid[key]
    d = row[-1] - sum(row[:-1])
    fits = []
    for c in range(len(row)):
        fixed = list(row)
        fixed[c] += d if c < len(row) - 1 else -d
        if _columns_hold({**grid, key: fixed}, leaves):
            fits.append(c)
    return fits[0] if len(fits) == 1 else None


TABLE_BUDGET = 3_000_000
"""Steps all the searches of one table 三 may take together (`_deferred`'s states, `_staircase`'s and
`_printed_empty`'s placements), across every reading of its wrapped numbers (`_one_whole`): each search
has its own budget, but a copy with many readings (up to 64 split readings, each read twice) searched each
to its own and took minutes (a WeasyPrint copy on US Letter: 150 s, past the extraction worker's 120 s of
CPU, 4.7 million steps with each search run once per table). The most a table read whole took in the
matrix and three scratch draws: 2.4 million (about 30 s here). Past it, the searches left end as over
their budget: the table is not_found."""


class Work:
    """The steps the searches of one table 三 have taken, against TABLE_BUDGET."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit, self.spent = TABLE_BUDGET if limit is None else limit, 0
        self.done: dict[tuple, Any] = {}  # a search's result by its arguments: a reading searched again reads the same

    def once(self, key: tuple, search: Callable[[], Any]) -> Any:
        """The result of `search`, searched once per `key` for the table."""
        if key not in self.done:
            self.done[key] = search()
        return self.done[key]

    def spend(self) -> None:
        """One step more; raises _OverBudget past the limit."""
        self.spent += 1
        if self.spent > self.limit:
            raise _OverBudget


class _OverBudget(Exception):
    """The search of `_deferred` ran past DEFERRED_BUDGET states (or `_staircase`'s past its budget)."""


def _unlink(suffix: tuple | None) -> list[tuple[int, int]]:
    out = []
    while suffix:
        cell, tok, suffix = suffix
        out.append((cell, tok))
    return out


T4_HEADER_WORDS = ("复议", "维持", "纠正", "审结")
"""Words of table 四's header (whole or split over lines) that must come before its numbers."""


def _printed_word(word: str, head: str, reach: int | None = None) -> bool:
    """The word is printed in the header: whole, or its characters in order over the header's lines
    (narrow cells read side by side line by line: "结果维 结果纠 …" then "持 正 …"), within `reach`
    characters from its first one when given."""
    if word in head:
        return True
    start = head.find(word[0])
    while start >= 0:
        at = start
        for ch in word[1:]:
            at = head.find(ch, at + 1)
            if at < 0:
                return False
        if reach is None or at - start < reach:
            return True
        start = head.find(word[0], start + 1)
    return False


SPLIT_REACH = 4
"""A column header split over side-by-side lines spans at most this many times its length."""


MAX_T4_BLANKS = 3
"""Cells of table 四 printed empty that are placed by the identities (each placement is tried)."""


def read_t4_stream(doc: Document, start: int, end: int | None = None) -> dict[tuple[str, str], Printed]:
    """Table 四 from the first fifteen value cells after its header (in the section that starts at
    block `start`; numbers before the header, such as a page's number, are not the table's; the
    numbers of a copied table may run on past the next heading): three blocks of five, each
    confirmed by H4.1 (总计 = 维持 + 纠正 + 其他 + 尚未审结). Fifteen numbers on one line of the copy
    (between the heading and section 五's) are the table's printed row, left to right, taken as printed
    even where a block does not add up (the source's own error: the checks flag it, as for any medium).
    When exactly fifteen numbers lie between the heading and section 五's over several lines, each block
    stands at its place: a block that adds up is taken, one that does not (the source's own error, or
    a number lost and another in its place) is not_found.

    A cell printed empty leaves nothing in the copy: when fewer than fifteen numbers lie between the
    heading and section 五's (block `end`) and the fifteen after the heading do not add up, every
    placement of the missing cells among them is tried (an empty cell counts 0), and a block is
    taken when every placement whose three blocks add up reads it the same (its empty cells blank);
    a block that reads differently in two of them (an empty cell beside numbers that add up either
    way) is not_found."""
    ncol = len(t4.COLUMNS)
    need = len(t4.ROWS) * ncol
    head = ""
    for first in range(start, len(doc.blocks) if end is None else end):  # the numbers after the header
        b = doc.blocks[first]
        head += norm(b.text) if isinstance(b, Paragraph) else ""
        if all(_printed_word(w, head) for w in T4_HEADER_WORDS):
            break
    else:  # no table-四 header: numbers of the section are not this table's
        return {}
    start = first + 1
    vals = tokens(doc, start)[:need]
    if not vals:
        return {}
    inside = tokens(doc, start, end) if end is not None else vals
    # the fifteen numbers on one line of the copy (then `vals` is `inside`): the table's row as printed, left to
    # right (a block that does not add up is the source's own error, published as printed and flagged by the checks)
    one_line = len(inside) == need and len({t.block for t in inside}) == 1
    if len(vals) == need:
        taken = [i for i in range(len(t4.ROWS)) if one_line or _adds_up(vals[i * ncol : (i + 1) * ncol])]
        # every block adds up, or exactly the table's count stands each block at its place: taken where it adds up
        if len(taken) == len(t4.ROWS) or inside == vals:
            return {(t4.ROWS[i].key, col.key): _printed(vals[i * ncol + j]) for i in taken for j, col in enumerate(t4.COLUMNS)}
    missing = need - len(inside)
    if not 0 < missing <= MAX_T4_BLANKS:
        log.debug("table 四 in reading order: %d numbers, the blocks do not add up", len(inside))
        return {}
    readings: list[list[Token | None]] = []
    for spots in itertools.combinations(range(need), missing):
        it = iter(inside)
        grid = [None if k in spots else next(it) for k in range(need)]
        if all(_adds_up(grid[i * ncol : (i + 1) * ncol]) for i in range(len(t4.ROWS))):
            readings.append(grid)
    out: dict[tuple[str, str], Printed] = {}
    for i, row in enumerate(t4.ROWS):
        cut = {tuple(t.text if t else None for t in g[i * ncol : (i + 1) * ncol]) for g in readings}
        if len(cut) != 1:
            continue  # no placement adds up, or two read the block differently
        block = readings[0][i * ncol : (i + 1) * ncol]
        page = next((t.page for t in block if t is not None), None)
        out.update({(row.key, col.key): _printed(t) if t else Printed("", page, None)
                    for col, t in zip(t4.COLUMNS, block)})
    return out


def _adds_up(block: Sequence[Token | None]) -> bool:
    """The last number is the sum of the others: H3.3 on a table-三 row, H4.1 on a table-四 block (an empty
    cell, None, counts 0)."""
    n = [_num(t) if t is not None else 0 for t in block]
    return n[-1] == sum(n[:-1])


T2_ROW_LABELS = frozenset(norm(x) for blk in t2.BLOCKS for r in blk.rows for x in r.labels)
"""Every table-二 row label, both formats, normalised."""

_T2_ONLY: dict[FormatVersion, tuple[str, ...]] = {
    "2019": ("本年新制作数量", "对外公开总数量", "上一年项目数量", "采购项目数量"),
    "2021": ("本年制发件数", "现行有效件数", "本年收费金额"),
}


def read_t2_stream(doc: Document, start: int, end: int) -> tuple[dict[tuple[str, str], Printed], str | None]:
    """Table 二 from the section between its heading (block `start`) and section 三's (block `end`):
    each block (第二十条第（X）项) holds its rows × its columns of the format the header words show.
    There is no identity to confirm a reading, so the count and the labels must. Every column header
    of a block must be printed between its caption and the next (else its numbers may be elsewhere
    too). Then a block is taken
    when exactly its count of values lies between its caption and the next, and it has one row or
    one column, or its values are one text block of the viewer (read row by row, as a viewer reads a
    block: top to bottom, left to right), or they all print the same (`0` six times: every order
    reads the same cells); otherwise (or when such a block's count does not fit: a cell printed empty
    leaves nothing) a row only when its label is printed and exactly its columns' count of values
    follows it on number lines up to the next label or the block's end (values printed one block
    each could have been read row by row or column by column). A block where a row's label is followed
    by another row's label is not read so: its labels are printed as a column and its values after
    them, and an empty cell there reads the same as an empty cell in another row."""
    paras = [(i, norm(b.text)) for i, b in enumerate(doc.blocks[start:end], start=start) if isinstance(b, Paragraph)]
    text = "".join(t for _, t in paras)
    votes = {f: sum(_printed_word(norm(w), text, SPLIT_REACH * len(w)) for w in words) for f, words in _T2_ONLY.items()}
    if votes["2019"] == votes["2021"]:
        return {}, None
    fmt = max(votes, key=lambda f: votes[f])
    captions = []
    for blk in t2.BLOCKS:
        if fmt not in blk.columns:
            continue
        at = next((i for i, t in paras if t.startswith(norm(blk.caption))), None)
        if at is not None:
            captions.append((at, blk))
    if [a for a, _ in captions] != sorted(a for a, _ in captions):
        return {}, None
    out: dict[tuple[str, str], Printed] = {}
    for k, (at, blk) in enumerate(captions):
        stop = captions[k + 1][0] if k + 1 < len(captions) else end
        cols = blk.columns[fmt]
        rows = [r for r in blk.rows if fmt in r.formats]
        vals = tokens(doc, at + 1, stop)
        region = "".join(t for i, t in paras if at <= i < stop)
        if not _prints_headers(cols, region, SPLIT_REACH):
            continue  # a column's header is printed elsewhere: so may its numbers be
        if _digit_lines(doc, at + 1, stop):
            continue  # a number wrapped one digit per line: its digits are tokens of their own, and lines apart
        one_run = bool(vals) and vals[0].run is not None and all(t.run == vals[0].run for t in vals)
        # every value printed alike ("0" six times): every order of them reads the same cells
        alike = len(vals) == len(rows) * len(cols) and len({t.text for t in vals}) == 1
        if len(rows) == 1 or len(cols) == 1 or one_run or alike:  # left to right, top to bottom: the order of a copy
            if len(rows) == 1 and len(cols) > 1 and _around_label(doc, rows[0], vals, at + 1, stop):
                continue  # numbers before and after the row's label: lines of cells of several heights
            if len(vals) == len(rows) * len(cols) and all(
                _row_order_known(vals[i * len(cols) : (i + 1) * len(cols)]) for i in range(len(rows))
            ):
                out.update({(r.key, c.key): _printed(vals[i * len(cols) + j])
                            for i, r in enumerate(rows) for j, c in enumerate(cols)})
                continue
            if len(rows) == 1:
                continue
            # a cell printed empty leaves nothing: the rows, each by the values after its own label
        lines = [i for i, _ in paras if at < i < stop]
        marks = [next((i for i in lines if _t2_label_line(_text(doc.blocks[i]), r)), None) for r in rows]
        if any(pos is not None and (nxt := next((i for i in lines if i > pos), None)) in marks for pos in marks):
            continue  # a row's label followed by another's: the labels printed as a column, their values after them
        first = min((pos for pos in marks if pos is not None), default=stop)
        above = [i for i in lines if i < first]
        if (above and _number_line(doc.blocks[above[-1]])) or sum(t.block >= first for t in vals) > len(rows) * len(cols):
            # numbers right before the first row's label, or more numbers than cells from it on: a number printed
            # away from its row (a wrapped number's first piece above its label, `8131` / `行政处罚` / `893 -10 7`
            # for 81317): whose it is, and so what any row's values are, is not known
            continue
        for r, pos, nxt in zip(rows, marks, [*marks[1:], stop]):
            if pos is None or nxt is None or nxt < pos:
                continue
            # the numbers on the label's line and the lines of numbers right after it, up to the next label
            # (or the block's end): a line of text between them and it leaves the row unread
            if next((i for i in lines if i > pos and not _number_line(doc.blocks[i])), stop) != nxt:
                continue
            vals = tokens(doc, pos, nxt)
            if len(vals) == len(cols) and _row_order_known(vals):
                out.update({(r.key, c.key): _printed(t) for c, t in zip(cols, vals)})
    for blk in t2.BLOCKS:  # a block whose caption is printed away from its rows: its rows' own labels
        if fmt not in blk.columns:
            continue
        rows = [r for r in blk.rows if fmt in r.formats]
        if all((r.key, c.key) in out for r in rows for c in blk.columns[fmt]):
            continue
        found = _rows_by_labels(doc, rows, blk.columns[fmt], start, end)
        if all(out[k] == v for k, v in found.items() if k in out):  # the rows read already read the same
            out.update(found)
    return out, (fmt if out else None)


def _rows_by_labels(doc: Document, rows: list[Row], cols: Sequence, start: int, end: int) -> dict[tuple[str, str], Printed]:
    """A table-二 block read by its rows' labels wherever its caption is printed (a viewer reads the
    caption column after the cells): each row's label printed once in the section as a line of its own
    (or with its first numbers), the rows in order, each label followed by exactly its columns' count of
    values and then by the next row's label or a line of text, and the lines since the last value before
    the first label printing the block's column headers and no other row's label (the block printed row
    by row after its header; a copy printing each row's numbers before its label, or the labels as a
    column and the numbers after them, is not this one). Nothing else: {}."""
    lines = [i for i in range(start + 1, end) if isinstance(doc.blocks[i], Paragraph)]
    marks = []
    for r in rows:
        at = [i for i in lines if _t2_label_line(_text(doc.blocks[i]), r)]
        if len(at) != 1:
            return {}
        marks.append(at[0])
    if any(a >= b for a, b in itertools.pairwise(marks)):  # the rows' labels in order, each on its own line
        return {}
    # the lines since the last value before the first label: the block's column headers, no other row's label
    since = max((i for i in lines if i < marks[0] and _is_cell_value(_text(doc.blocks[i]))), default=start)
    head = [norm(_text(doc.blocks[i])) for i in lines if since < i < marks[0]]
    # (the header's cells side by side, line by line: a word's characters in order, however far apart)
    if not head or not _prints_headers(cols, "".join(head), None):
        return {}
    if any(t in T2_ROW_LABELS for t in head):
        return {}
    out: dict[tuple[str, str], Printed] = {}
    for r, pos, nxt in zip(rows, marks, [*marks[1:], end]):
        stop = next((i for i in lines if pos < i <= nxt and not _is_cell_value(_text(doc.blocks[i]))), end)
        if stop != nxt and nxt != end:
            return {}  # a line of text between a row's numbers and the next row's label
        vals = tokens(doc, pos, stop)
        if len(vals) != len(cols) or not _row_order_known(vals):
            return {}
        out.update({(r.key, c.key): _printed(t) for c, t in zip(cols, vals)})
    return out


def _row_order_known(vals: Sequence[Token]) -> bool:
    """A table-二 row's values are in their columns' order as the copy gives them: one value, all on one
    line of the copy (a line's words are in x order) or in one text block of the viewer (its lines top to
    bottom, left to right), or all alike. Cells printed each its own text block come in the viewer's flow
    order, not by x (WeasyPrint's unstyled 2019 page: `753` / `84887` / `20`, the 处理决定数量 second, all
    at one height), and table 二 has no identity to tell."""
    one_run = vals[0].run is not None and all(t.run == vals[0].run for t in vals) if vals else True
    return len(vals) < 2 or len({t.block for t in vals}) == 1 or one_run or len({t.text for t in vals}) == 1


def _number_line(b: Block) -> bool:
    """A line of the copy printing numbers only (one or several)."""
    return isinstance(b, Paragraph) and bool(b.text.split()) and all(_is_cell_value(w) for w in b.text.split())


def _prints_headers(cols: Sequence, text: str, reach: int | None) -> bool:
    """Every column's header is printed in `text`: one of its labels whole, or its characters in order
    within `reach` times its length (None: however far apart)."""
    return all(any(_printed_word(norm(x), text, None if reach is None else reach * len(x)) for x in c.labels) for c in cols)


def _t2_label_line(text: str, row: Row) -> bool:
    """A line printing a table-二 row's label alone (or with a note in brackets), or followed by its first
    numbers on its line ("行政规范性文件 20")."""
    t = norm(text)
    return any(t == x or t.startswith(x + "(") or _label_then_values(text, x) for x in map(norm, row.labels))


def _label_then_values(text: str, label: str) -> bool:
    """A line printing a row's whole label (normalised `label`), then numbers (or dashes) only."""
    words = text.split()
    return len(words) > 1 and norm(words[0]) == label and all(_is_cell_value(w) for w in words[1:])


DIGIT_LINES = 3
"""Lines in a row each holding one digit alone: a number wrapped one digit per line in a narrow cell."""


def _digit_lines(doc: Document, start: int, end: int) -> bool:
    """DIGIT_LINES lines in a row of one text block of the viewer (no blank line between: cells of
    their own are apart, "0" / "" / "0") each holding one digit alone."""
    n, last = 0, None
    for b in doc.blocks[start:end]:
        digit = isinstance(b, Paragraph) and len(b.text.strip()) == 1 and b.text.strip().isdigit()
        run = b.run if isinstance(b, Paragraph) else None
        n = (n + 1 if n and run is not None and run == last else 1) if digit else 0
        last = run
        if n >= DIGIT_LINES:
            return True
    return False


def _around_label(doc: Document, row: Row, vals: list[Token], start: int, end: int) -> bool:
    """Some of the numbers are printed before the row's label line and some after it (a viewer reads a
    row's cells line by line: a cell wrapped taller prints its first line before the label's)."""
    labels = [norm(x) for x in row.labels]
    at = next(
        (i for i, b in enumerate(doc.blocks[start:end], start=start) if isinstance(b, Paragraph)
         and any(norm(b.text).startswith(x) for x in labels)),
        None,
    )  # fmt: skip
    if at is None:
        return False
    return any(t.block < at for t in vals) and any(t.block >= at for t in vals)


WRAP_REACH = 2
"""Lines without a digit (a wrapped label's next lines, "量") that may stand between a row's line and
the line of its numbers' wrapped ends."""


def join_wrapped_cells(blocks: list[Paragraph]) -> list[Paragraph]:
    """A viewer's copy of a table-三 row whose numbers wrapped in their narrow cells: the row's line
    ends in its seven numbers' first lines, and the next line holding a digit (a wrapped label's
    lines without one, "量", may stand between, up to WRAP_REACH) holds only the numbers' ends, left
    to right ("一、本年新收…申请数 1180 1014 1295 1134 1102 1145 1749" / "量" / "61 4 7 9 3 3 87" for
    118061 10144 12957 11349 11023 11453 174987; "… 8157 846 173 263 954 268 1066" / "量" / "1" for a
    total 10661), or lines of one text block from there, an end or a few each ("… 472" / "请数量" /
    "3" / "0"). Where the row's seven numbers do not add up (H3.3) and exactly one way of joining
    ends to some of them, in order (the first line's, or the first lines'), does, the joined numbers
    are written on the row's line and the ends' lines dropped; any other reading leaves both lines as printed (and the readers confirm
    or refuse them by the identities, as before). Lines on one page only."""
    out = list(blocks)
    ncol = len(t3.COLUMNS)
    i = 0
    while i < len(out):
        parts = out[i].text.split()
        nums = [p for p in parts[-ncol:] if p.isdigit()]
        if len(nums) != ncol or (len(parts) > ncol and parts[-ncol - 1].isdigit()):
            i += 1
            continue
        heads = [int(x) for x in nums]
        if heads[-1] == sum(heads[:-1]):
            i += 1
            continue
        j = i + 1
        while j < len(out) and j - i <= WRAP_REACH and out[j].page == out[i].page and not any(
            ch.isdigit() for ch in out[j].text
        ):
            j += 1
        # the ends: the line at j, or lines of one text block from j (one end each, "3" / "0"), only numbers
        ends_lines: list[list[str]] = []
        while j + len(ends_lines) < len(out):
            b = out[j + len(ends_lines)]
            words = b.text.split()
            if b.page != out[i].page or not words or not all(w.isdigit() for w in words):
                break
            if (ends_lines and b.run != out[j].run) or sum(map(len, ends_lines)) + len(words) > ncol:
                break
            ends_lines.append(words)
        found = []
        for n_lines in range(1, len(ends_lines) + 1):
            ends = [e for line in ends_lines[:n_lines] for e in line]
            for cols in itertools.combinations(range(ncol), len(ends)):
                if any(nums[c] == "0" for c in cols):
                    continue  # a printed 0 is one digit: nothing of it wraps
                joined = list(nums)
                for c, e in zip(cols, ends):
                    joined[c] = nums[c] + e
                n = [int(x) for x in joined]
                if n[-1] == sum(n[:-1]):
                    found.append((n_lines, joined))
        if len(found) == 1:
            n_lines, row = found[0]
            label = " ".join(parts[:-ncol])
            out[i] = Paragraph(f"{label} {' '.join(row)}".strip(), out[i].page, out[i].run)
            del out[j : j + n_lines]
        i += 1
    return out
