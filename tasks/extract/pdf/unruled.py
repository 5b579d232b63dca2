"""Unruled tables: characters outside ruled grids → visual lines → rows (pdfplumber's "text"
strategy, on its own). Runs of lines that look like a table (several lines carrying numbers in
x-separated fragments) become positioned `Table` blocks; label-only lines wrapped above or below
their numbers attach to the nearest value row (V9); every other line becomes a `Paragraph`.
Pure: no pdfminer."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasks.extract.model import Block, Cell, Paragraph, Table, TableRow
from tasks.extract.pdf.geometry import Char, cell_text, chars_to_lines, gap_is_space, line_text, split_fragments
from tasks.extract.pdf.tolerances import SETTINGS, TableSettings
from tasks.spec.sections import SECTIONS

_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*、")
_SECTION_WORDS = tuple(words for sec in SECTIONS for words in sec.keywords)


def _is_section_heading(text: str) -> bool:
    """"三、收到和处理…" is a heading; "一、本年新收…申请数" (a table-3 label wrapped off its numbers) is not.
    A section heading never belongs to an unruled table: it bounds one."""
    return bool(_HEADING.match(text)) and any(all(w in text for w in words) for words in _SECTION_WORDS)


_NUMERIC = re.compile(r"^[+\-]?\d[\d,]*(?:\.\d+)?%?$")

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
    if (words := _header_words(frag)) is not None:
        return [_frag_cells(w, page)[0] for w in words]
    return [Cell(text=text, x0=x0, x1=x1, page=page, bbox=(x0, y0, x1, y1))]


def _header_words(frag: list[Char]) -> list[list[Char]] | None:
    """A line of short header words ("结果 结果 其他 尚未 总", or run together where the cells' padding
    is narrower than a space: "结果结果 其他 尚未"): narrow header cells side by side, each word its
    own cell at its own position (the words of one header stack over the lines); None for any other
    fragment."""
    if any(c.text.isdigit() for c in frag):
        return None
    words = [w for w in _split_words(frag) if any(c.text.strip() for c in w)]
    if len(words) < HEADER_WORDS or max(len(line_text(w).strip()) for w in words) > HEADER_WORD_CHARS:
        return None
    return words


def _short_words(frag: list[Char], s: TableSettings = SETTINGS) -> list[list[Char]] | None:
    """A fragment without digits made of short words run together at cells' gaps ("商业科研" over
    "企业机构": two narrow header cells whose padding is narrower than a space), each word at most
    `HEADER_WORD_CHARS` characters: one piece per word; None for any other fragment."""
    if any(c.text.isdigit() for c in frag):
        return None
    visible = [c for c in frag if c.text.strip()]
    cuts = _cell_gaps(visible, s)
    if not cuts:
        return None
    words = [visible[a:b] for a, b in itertools.pairwise([0, *cuts, len(visible)])]
    if max(len(line_text(w).replace(" ", "")) for w in words) > HEADER_WORD_CHARS:
        return None
    return words


HEADER_WORDS = 4
HEADER_WORD_CHARS = 4
"""A fragment of at least HEADER_WORDS space-separated words, none longer than HEADER_WORD_CHARS
characters and no digit, is a line of narrow header cells: one cell per word."""


def _split_on_space(frag: list[Char]) -> list[list[Char]]:
    parts: list[list[Char]] = []
    cur: list[Char] = []
    prev: Char | None = None
    for c in frag:
        if prev is not None and gap_is_space(prev, c) and cur:
            parts.append(cur)
            cur = []
        cur.append(c)
        prev = c
    if cur:
        parts.append(cur)
    return parts


def _is_cjk_char(c: Char) -> bool:
    return bool(c.text) and ord(c.text[0]) >= 0x2E80


def _cell_gaps(visible: Sequence[Char], s: TableSettings) -> list[int]:
    """Indexes i where a gap between visible[i - 1] and visible[i] parts two cells run together
    without a space: next to a CJK character (whose glyphs touch within a word) a gap of at least
    `column_cut_gap_em`, while both characters touch their other neighbours (justified text spaces
    every character, a cell's padding only its edge)."""

    def gap(i: int) -> float:
        return visible[i].x0 - visible[i - 1].x1

    def wide(i: int) -> bool:
        a, b = visible[i - 1], visible[i]
        return gap(i) >= s.column_cut_gap_em * max(a.size, b.size, 1.0)

    out = []
    for i in range(1, len(visible)):
        if not wide(i) or not (_is_cjk_char(visible[i - 1]) or _is_cjk_char(visible[i])):
            continue
        if (i >= 2 and wide(i - 1)) or (i + 1 < len(visible) and wide(i + 1)):
            continue
        out.append(i)
    return out


def _split_words(frag: list[Char], s: TableSettings = SETTINGS) -> list[list[Char]]:
    """A fragment's words: split at spaces and at the gaps of cells run together (`_cell_gaps`)."""
    out: list[list[Char]] = []
    for part in _split_on_space(frag):
        visible = [c for c in part if c.text.strip()]
        cuts = _cell_gaps(visible, s)
        if not cuts:
            out.append(part)
            continue
        out.extend(visible[a:b] for a, b in itertools.pairwise([0, *cuts, len(visible)]))
    return out


_VALUE_MARK = re.compile(r"^(?:[-—–―/／]+|[+\-]?\d[\d,]*(?:\.\d+)?(?:%|元|万元|件|项)?)$")


def _numeric_count(frags: list[list[Char]]) -> int:
    """Numbers in the run of value fragments that ends the line: a table row's values come last,
    while prose interleaves its numbers with words ("2023 年 1 月 1 日起")."""
    n = 0
    for f in reversed(frags):
        tokens = line_text(f).split()
        if not tokens or not all(_VALUE_MARK.match(t) for t in tokens):
            break
        n += sum(1 for t in tokens if _NUMERIC.match(t) or t[:1].isdigit() or (t[:1] in "+-" and t[1:2].isdigit()))
    return n


def make_text_lines(chars: Iterable[Char], s: TableSettings = SETTINGS) -> list[TextLine]:
    out: list[TextLine] = []
    for line in chars_to_lines(chars, s):
        visible = [c for c in line if c.text.strip()]
        if not visible:
            continue
        frags = split_fragments(line, s)
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


def _frag_start(frag: Sequence[Char]) -> float:
    return min(c.x0 for c in frag if c.text.strip())


def _column_cuts(frag: list[Char], starts: Sequence[float], s: TableSettings) -> list[list[Char]]:
    """A fragment holding the numbers of neighbouring columns run together ("1702704" for 1702 and
    704), a label run into its first number ("…执法案卷94"), or neighbouring label cells run together
    ("三、（一）予以公开", "社会公益法律服" for 社会公益 and 法律服), where no ruling parts them and the gap
    between the cells is narrower than `fragment_gap_em`: cut before a character that starts where a
    fragment of another line of the table starts (a column's left edge, ±`snap_tol`) and that either
    is a digit standing at least `column_cut_gap_em` after the character before it (a number's own
    digits touch) and opens a piece that is one value, or stands after a cell's gap next to CJK text
    (`_cell_gaps`) and opens a piece that is one value or holds CJK text. Anything else stays one
    fragment (read as printed, or refused by the table readers as a number across two columns)."""
    visible = [c for c in frag if c.text.strip()]
    gaps = set(_cell_gaps(visible, s))
    cuts: list[int] = []
    for i in range(1, len(visible)):
        c, prev = visible[i], visible[i - 1]
        if not any(abs(c.x0 - x) <= s.snap_tol for x in starts):
            continue
        if i in gaps or (c.text[:1].isdigit() and c.x0 - prev.x1 >= s.column_cut_gap_em * max(c.size, prev.size, 1.0)):
            cuts.append(i)
    if not cuts:
        return [frag]
    pieces = [visible[a:b] for a, b in itertools.pairwise([0, *cuts, len(visible)])]
    for cut, piece in zip(cuts, pieces[1:]):
        if all(_VALUE_MARK.match(t) for t in line_text(piece).split()):
            continue
        if cut in gaps and any(_is_cjk_char(c) for c in piece):
            continue
        return [frag]
    return pieces


def _cut_columns(group: Sequence[TextLine], s: TableSettings) -> list[TextLine]:
    """The group's lines with fragments cut at the columns' left edges (`_column_cuts`); a column's
    edge is where a fragment, or a word of one, of another line starts."""
    starts = [[_frag_start(w) for f in ln.frags for w in _split_on_space(f) if any(c.text.strip() for c in w)]
              for ln in group]
    out: list[TextLine] = []
    for k, ln in enumerate(group):
        others = [x for j, xs in enumerate(starts) if j != k for x in xs]
        frags = [p for f in ln.frags for p in (_header_words(f) or _short_words(f, s) or _column_cuts(f, others, s))]
        if len(frags) == len(ln.frags):
            out.append(ln)
            continue
        out.append(TextLine(ln.chars, frags, ln.top, ln.bottom, _numeric_count(frags)))
    return out


def _is_value_row(line: TextLine) -> bool:
    return line.numeric >= 1 and len(line.frags) >= 2


def _group_lines(lines: Sequence[TextLine], s: TableSettings) -> list[list[TextLine]]:
    """Split lines (top to bottom) where the vertical gap exceeds `unruled_max_line_gap` line heights;
    a section heading is a group of its own."""
    groups: list[list[TextLine]] = []
    after_heading = False
    for ln in lines:
        heading = ln.numeric == 0 and len(ln.frags) == 1 and _is_section_heading(line_text(ln.chars))
        if groups and not heading and not after_heading:
            prev = groups[-1][-1]
            h = max(min(prev.height, ln.height), 1.0)
            if prev.bottom - ln.top <= s.unruled_max_line_gap * h:
                groups[-1].append(ln)
                continue
        groups.append([ln])
        after_heading = heading
    return groups


def _looks_like_table(group: Sequence[TextLine], s: TableSettings) -> bool:
    multi = sum(1 for ln in group if ln.numeric >= 2 and len(ln.frags) >= 2)
    rows = sum(1 for ln in group if _is_value_row(ln))
    wide = any(ln.numeric >= s.unruled_wide_row for ln in group)
    return multi >= s.unruled_min_rows or (rows >= s.unruled_min_rows and multi >= 1) or wide


_ROW_OPENER = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]{1,2}[)）]|[一二三四五六七八九十]{1,2}[、.．]|\d{1,2}[.、．])")


@dataclass(slots=True)
class LabelBlock:
    """A row label printed without numbers beside it: a line opening a row ("2.其他法律行政法") and
    the lines wrapped under it in its column. `empty`: nothing of the table is printed right of it
    within a line height of it, so its row prints every value cell empty."""

    lines: list[TextLine]
    empty: bool


def _is_number_line(ln: TextLine) -> bool:
    """A line of nothing but values ("5" alone: a row's numbers centred between its label's lines)."""
    return ln.numeric >= 1 and all(_numeric_count([f]) for f in ln.frags)


def _attach_labels(
    group: Sequence[TextLine], s: TableSettings
) -> tuple[list[TextLine], dict[int, list[TextLine]], list[TextLine], list[LabelBlock]]:
    """Value rows; label-only pieces attached to a value row (keyed by its id); the other lines;
    label blocks (rows printing a label and no number).

    Each fragment of a label-only line (a group label and a leaf label side by side are two
    fragments) attaches to the nearest value row when it lies entirely left of the numeric
    columns and within `label_reach` line heights of that row (V9: a two-line label around its numbers).
    A line of numbers alone is such a row too, unless it is within `label_reach` of a value row
    (then it may be a wrapped part of that row's numbers). A fragment that opens a row label
    ("1.本机关…", "（四）…") prefers a value row with no text of its own in that column over a
    neighbour at the same distance that has some, never attaches to one that opens its own label in
    that column, and of two opening one row's label in one column the nearer attaches. A line opening
    a row label that attaches nowhere, with the lines wrapped under it (`_label_blocks`), is a label
    block."""
    value_rows = [ln for ln in group if _is_value_row(ln)]
    for ln in group:
        if _is_number_line(ln) and not _is_value_row(ln):
            h = ln.height
            if not any(abs(vr.cy - ln.cy) <= s.label_reach * max(h, vr.height) for vr in value_rows):
                value_rows.append(ln)
    homes_ok = {id(ln) for ln in value_rows}
    first_value_x0 = {
        id(ln): min((min(c.x0 for c in f) for f in ln.frags if _numeric_count([f])), default=float("inf"))
        for ln in value_rows
    }
    found: list[tuple[TextLine, TextLine, TextLine]] = []  # (line, piece, home)
    standalone: list[TextLine] = []
    for ln in group:
        if id(ln) in homes_ok:
            continue
        if ln.numeric:
            standalone.append(ln)
            continue
        pieces = [_piece(f) for f in ln.frags] if len(ln.frags) > 1 else [ln]
        homes = [_label_home(piece, value_rows, first_value_x0, s) for piece in pieces]
        if any(h is None for h in homes):
            if len(pieces) > 1 and homes[-1] is None and _ROW_OPENER.match(line_text(pieces[-1].chars)):
                # a group label's line beside a row label printed alone ("开" beside "2.其他法律…"):
                # the group label goes with its own row, the other opens a row of its own
                found.extend((piece, piece, home) for piece, home in zip(pieces[:-1], homes) if home is not None)
                standalone.extend(piece for piece, home in zip(pieces[:-1], homes) if home is None)
                standalone.append(pieces[-1])
            else:
                standalone.append(ln)
            continue
        found.extend((ln, piece, home) for piece, home in zip(pieces, homes) if home is not None)
    # of two pieces opening one row's label in one column, the farther opens another row
    farther: set[int] = set()
    openers = [(ln, p, h) for ln, p, h in found if _ROW_OPENER.match(line_text(p.chars))]
    for (l1, p1, h1), (l2, p2, h2) in itertools.combinations(openers, 2):
        if h1 is h2 and _overlaps(p1, p2):
            farther.add(id(l1) if abs(h1.cy - p1.cy) > abs(h2.cy - p2.cy) else id(l2))
    attached: dict[int, list[TextLine]] = defaultdict(list)
    for ln, piece, home in found:
        if id(ln) in farther:
            if not any(x is ln for x in standalone):
                standalone.append(ln)
            continue
        attached[id(home)].append(piece)
    standalone.sort(key=lambda ln: -ln.cy)
    blocks, rest = _label_blocks(standalone, group, s)
    return value_rows, attached, rest, blocks


def _overlaps(a: TextLine, b: TextLine) -> bool:
    return min(c.x0 for c in a.chars) < max(c.x1 for c in b.chars) and min(c.x0 for c in b.chars) < max(c.x1 for c in a.chars)


def _label_blocks(
    standalone: Sequence[TextLine], group: Sequence[TextLine], s: TableSettings
) -> tuple[list[LabelBlock], list[TextLine]]:
    """Label blocks among the lines attached to no row (top to bottom): a one-fragment line without
    numbers that opens a row label, and the one-fragment lines without numbers under it starting at
    its x (±`snap_tol`), each at most `label_wrap_gap` line heights below the one before and not
    opening a row itself. A block is `empty` when it opens the row with a row number ("2.", "（六）")
    and no character of another line of the group right of the block has its centre within a line
    height above or below the block. The lines in no block are returned as they are."""
    blocks: list[LabelBlock] = []
    rest: list[TextLine] = []
    current: list[TextLine] | None = None

    def single(ln: TextLine) -> bool:
        return ln.numeric == 0 and len(ln.frags) == 1

    for ln in standalone:
        if current is not None and single(ln) and not _ROW_OPENER.match(line_text(ln.chars)):
            last = current[-1]
            x0 = min(c.x0 for c in current[0].chars if c.text.strip())
            same_column = abs(min(c.x0 for c in ln.chars if c.text.strip()) - x0) <= s.snap_tol
            if same_column and last.bottom - ln.top <= s.label_wrap_gap * max(last.height, 1.0):
                current.append(ln)
                continue
        current = None
        if single(ln) and _ROW_OPENER.match(line_text(ln.chars)):
            current = [ln]
            blocks.append(LabelBlock(current, False))
            continue
        rest.append(ln)
    for blk in blocks:
        mine = {id(ln) for ln in blk.lines}
        right = max(c.x1 for ln in blk.lines for c in ln.chars)
        h = max(ln.height for ln in blk.lines)
        top, bottom = blk.lines[0].top + h, blk.lines[-1].bottom - h
        blk.empty = not any(
            c.text.strip() and c.x0 >= right and bottom <= (c.y0 + c.y1) / 2 <= top
            for ln in group if id(ln) not in mine for c in ln.chars
        )
    return blocks, rest


def _piece(frag: list[Char]) -> TextLine:
    visible = [c for c in frag if c.text.strip()] or frag
    return TextLine(frag, [frag], max(c.y1 for c in visible), min(c.y0 for c in visible), 0)


def _label_home(
    piece: TextLine, value_rows: Sequence[TextLine], first_value_x0: dict[int, float], s: TableSettings
) -> TextLine | None:
    x0 = min(c.x0 for c in piece.chars)
    right = max(c.x1 for c in piece.chars)
    opens_row = bool(_ROW_OPENER.match(line_text(piece.chars)))
    best: TextLine | None = None
    dist = float("inf")
    for vr in value_rows:
        h = max(vr.height, piece.height)
        d = abs(vr.cy - piece.cy)
        if d > h * (s.opener_reach if opens_row else s.label_reach) or right > first_value_x0[id(vr)] + s.snap_tol:
            continue
        if opens_row:  # a row's label starts above (or beside) its numbers, never below them
            if vr.cy > piece.cy:
                d += h
            own = [f for f in vr.frags if any(c.text.strip() and c.x1 > x0 and c.x0 < right for c in f)]
            if any(_ROW_OPENER.match(line_text(f)) for f in own):
                continue  # that row opens its own label in this column: this one opens another row
            if own:
                d += 2 * h  # that row already has its own label in this column
        if d < dist:
            best, dist = vr, d
    return best


def unruled_table(group: Sequence[TextLine], page: int, s: TableSettings = SETTINGS) -> Table:
    """Rows from lines: value rows keep their fragments as cells, attached label lines are merged
    into the row's overlapping cell, other lines become rows of their own."""
    value_rows, attached, standalone, blocks = _attach_labels(group, s)
    rows: list[tuple[float, TableRow]] = []
    for blk in blocks:
        chars = [c for ln in blk.lines for c in ln.chars if c.text.strip()]
        x0, x1 = min(c.x0 for c in chars), max(c.x1 for c in chars)
        bbox = (x0, min(c.y0 for c in chars), x1, max(c.y1 for c in chars))
        label = Cell(text="\n".join(line_text(ln.chars) for ln in blk.lines), x0=x0, x1=x1, page=page, bbox=bbox)
        rows.append((blk.lines[0].cy, TableRow([label], page=page, empty=blk.empty)))
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


def _page_head_row(ln: TextLine) -> bool:
    """A line that is a table row on its own: a label, then two or more fragments each a number
    ("四、结转下年度继续办理   72   72": cells printed empty between them leave wide gaps)."""
    return len(ln.frags) >= 3 and ln.numeric == len(ln.frags) - 1 and not _numeric_count(ln.frags[:1])


def text_blocks(lines: Sequence[TextLine], page: int, s: TableSettings = SETTINGS) -> list[tuple[float, Block]]:
    """Paragraphs and unruled tables from the lines outside ruled tables, keyed by their top."""
    out: list[tuple[float, Block]] = []
    rows_above = False  # a line of the page above this group is a row of values
    for group in _group_lines(lines, s):
        head, rows_above = not rows_above, rows_above or any(_is_value_row(ln) for ln in group)
        if head and len(group) == 1 and _page_head_row(group[0]):
            # a table's row cut off by the page break, alone at the head of the next page: one row whose
            # cells keep their places, so the columns of the table on the page before place them
            out.append((group[0].top, unruled_table(group, page, s)))
            continue
        if not _looks_like_table(group, s):
            out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group)
            continue
        group = _cut_columns(group, s)
        # single-fragment lines at either end (a heading, a note) stay paragraphs, unless they are
        # label lines of a value row
        _, attached, _, blocks = _attach_labels(group, s)
        kept = {id(ln) for labels in attached.values() for ln in labels}
        kept |= {id(ln) for blk in blocks if blk.empty for ln in blk.lines}  # a row printing a label alone

        def loose(ln: TextLine, kept: set[int] = kept) -> bool:
            return len(ln.frags) < 2 and id(ln) not in kept

        lo, hi = 0, len(group)
        while lo < hi and loose(group[lo]):
            lo += 1
        while hi > lo and loose(group[hi - 1]):
            hi -= 1
        if lo == hi:  # every line is one fragment (numbers typed with plain spaces): text, not a table
            out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group)
            continue
        out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group[:lo])
        out.append((group[lo].top, unruled_table(group[lo:hi], page, s)))
        out.extend((ln.top, Paragraph(line_text(ln.chars), page=page)) for ln in group[hi:])
    return out
