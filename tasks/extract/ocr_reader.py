"""The OCR reader: page images into the same blocks the PDF reader makes (one intermediate).

A page image is cleaned (seal ink dropped), deskewed from its long strokes, its ruling lines found
by morphology (`ocr_geometry`), and its text read by an engine (`ocr_engines`). The engine's boxes
become characters (a box's text spread evenly over its width) and the rulings become edges, in PDF
points with y up, and the PDF reader's own geometry (`pdf.page_blocks`: cells from rulings, else
unruled rows from baselines) turns them into tables and paragraphs. Table location and row mapping
(`tables.py`) are therefore the same code for every medium.

What the engine read is kept (`OcrPage`) so the referee (`ocr_referee`) can give each OCR cell its
confidence, look for ink in a cell read as empty, and read a cell a second time.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from tasks.extract import ocr_geometry as geo
from tasks.extract.model import BBox, Block
from tasks.extract.ocr_engines import Box, Engine

if TYPE_CHECKING:
    from tasks.extract.pdf.geometry import Char

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.3
"""Boxes the engine is less sure of than this are dropped (speckles read as punctuation)."""


@dataclass(frozen=True)
class OcrBox:
    bbox: BBox  # PDF points, y up
    text: str
    confidence: float


@dataclass
class OcrPage:
    """One OCR'd image: where it sits (`region`, points), how pixels map to points, what was read."""

    page: int | None
    region: BBox
    scale: float  # points per pixel
    gray: np.ndarray  # deskewed, seal removed
    bw: np.ndarray  # its ink mask
    boxes: list[OcrBox] = field(default_factory=list)
    engine: str = ""
    whole_page: bool = False
    """The image is a whole page (a scan), not a picture on a page with text."""
    tint: np.ndarray | None = None
    """Where the scan is seal-coloured (`geo.seal_tint`, deskewed with the page); None: no seal colour."""

    def to_px(self, bbox: BBox) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = bbox
        rx0, _, _, ry1 = self.region
        return ((x0 - rx0) / self.scale, (ry1 - y1) / self.scale, (x1 - rx0) / self.scale, (ry1 - y0) / self.scale)

    def contains(self, page: int | None, bbox: BBox | None) -> bool:
        if bbox is None or page != self.page:
            return False
        cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
        x0, y0, x1, y1 = self.region
        return x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1


def _chars_of(box: Box, to_pt: Callable[[float, float], tuple[float, float]]) -> list[Char]:
    from tasks.extract.pdf.geometry import Char

    text = box.text
    if not text.strip():
        return []
    x0, y1 = to_pt(box.x0, box.y0)
    x1, y0 = to_pt(box.x1, box.y1)
    step = (x1 - x0) / len(text)
    out = []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        out.append(Char(ch, x0 + i * step, y0, x0 + (i + 1) * step, y1, y1 - y0))
    return out


def ocr_image(
    image: np.ndarray,
    engine: Engine,
    page: int | None,
    scale: float | None = None,
    origin: tuple[float, float] = (0.0, 0.0),
) -> tuple[list[Block], OcrPage]:
    """OCR one image into blocks. `scale` is points per pixel (known for a rendered PDF page; for an
    upload it is chosen so the text is the size of print); `origin` is the image's top-left corner
    in points (x, y-up) on its page."""
    from tasks.extract.pdf import PageContent, page_blocks
    from tasks.extract.pdf.geometry import segments_to_edges

    gray = geo.clean(image)
    tint = geo.seal_tint(image)
    plain = geo.to_gray(image) if tint is not None else None
    angle = geo.skew_angle(gray)
    if angle:
        gray = geo.rotate(gray, angle)
        if tint is not None:
            tint = 255 - geo.rotate(255 - tint, angle)  # white fill = no seal
            plain = geo.rotate(plain, angle)  # type: ignore[arg-type]
    boxes = [digits_read(b) for b in engine.read(gray) if b.confidence >= MIN_CONFIDENCE and b.text.strip()]
    if tint is not None:
        boxes = drop_seal_words(gray, tint, boxes)
        # red print that is no seal (smaller than a seal's area) is given back to the page the rulings,
        # the ink tests and the cells' own readings see: the page pass read it whitened and missed it,
        # so its cell is read alone and refereed, never taken for a printed blank
        gray = geo.keep_red_print(gray, plain, tint, _median_height(boxes))  # type: ignore[arg-type]
    if scale is None:
        scale = _print_scale(boxes)
    h_px, w_px = gray.shape
    ox, oy_top = origin
    if oy_top == 0.0:
        oy_top = h_px * scale

    def to_pt(x: float, y: float) -> tuple[float, float]:
        return ox + x * scale, oy_top - y * scale

    rulings = geo.ruling_segments(gray, _median_height(boxes))
    boxes = split_at_rulings(gray, boxes, rulings, engine, _median_height(boxes))
    chars = [c for b in boxes for c in _chars_of(b, to_pt)]
    segments = []
    for x0, y0, x1, y1 in rulings:
        a, b = to_pt(x0, y0)
        c, d = to_pt(x1, y1)
        segments.append((a, b, c, d))
    h_edges, v_edges = segments_to_edges(segments)
    content = PageContent(chars, h_edges, v_edges, False, [])
    blocks = page_blocks(content, page if page is not None else 1)
    if page is None:
        for blk in blocks:
            _clear_page(blk)
    region = (ox, oy_top - h_px * scale, ox + w_px * scale, oy_top)
    ocr_boxes = []
    for box in boxes:
        x0, y1 = to_pt(box.x0, box.y0)
        x1, y0 = to_pt(box.x1, box.y1)
        ocr_boxes.append(OcrBox((x0, y0, x1, y1), box.text, box.confidence))
    log.debug("ocr page %s: skew %.2f°, %d boxes, %d+%d edges", page, angle, len(boxes), len(h_edges), len(v_edges))
    return blocks, OcrPage(page, region, scale, gray, geo.binarize(gray), ocr_boxes, engine.name, tint=tint)


def drop_seal_words(gray: np.ndarray, tint: np.ndarray, boxes: list[Box]) -> list[Box]:
    """The boxes without the seal's own words. `clean` turns seal ink white, but the edges of its
    strokes (where a JPEG blurred its colour) stay a light grey the engine still reads: 专用章 read
    into the value cell under it, a row whose other cells are numbers then holds a word and is no
    data row. A box is the seal's when its ink lies on seal-coloured pixels of the scan (print under
    a seal is black: its strokes' cores are not seal-coloured) and it holds no digit: a number is
    never dropped here. A number printed in red outside a seal's area is given back to the page after
    the page pass (`geo.keep_red_print`) and read alone and refereed like any other cell."""
    out = []
    for b in boxes:
        if not any(ch.isdigit() for ch in b.text) and geo.seal_ink_share(
            gray, tint, (b.x0, b.y0, b.x1, b.y1)
        ) >= geo.SEAL_WORD_SHARE:
            log.debug("seal words dropped: %r at %.0f,%.0f", b.text, b.x0, b.y0)
            continue
        out.append(b)
    return out


TALL_BOX = 1.6
"""A box this many text heights tall holds more than one line: only such a box is cut at a horizontal ruling."""
RULING_GAP_PX = 3
"""A piece of a box cut at a ruling leaves this many pixels of the ruling's side out of its crop."""


def split_at_rulings(
    gray: np.ndarray,
    boxes: list[Box],
    rulings: list[tuple[float, float, float, float]],
    engine: Engine,
    text_height: float,
) -> list[Box]:
    """Boxes the engine's detector drew across a ruling of the table, made to respect it.

    The detector sees text, not the grid. Its box may reach over a vertical ruling with nothing but
    its padding (the box of `1.本机关不掌握…` began 20 pixels left of its cell's ruling, in the cell of
    （四）无法提供): the box's text is spread evenly over its width, so its first character, `1`,
    landed in the cell to the left and the row lost its label. Or it may hold text of two cells
    (labels on one baseline in adjacent cells), or of rows one above the other (a box taller than
    `TALL_BOX` text heights). A ruling crosses a box when it runs through the box's whole height
    (width). Where the box's part beyond the ruling holds no ink, the box is clipped at the ruling
    (its text is kept); where both sides hold ink, the box is cut at the ruling and each piece read
    again (recognition only, on the piece's pixels): every piece must read as text with
    `MIN_CONFIDENCE`, otherwise the box stays as the engine read it."""
    ink = geo.binarize(gray)
    out: list[Box] = []
    for b in boxes:
        others = [o for o in boxes if o is not b and o.x1 > b.x0 and o.x0 < b.x1 and o.y1 > b.y0 and o.y0 < b.y1]
        pieces = _pieces(b, rulings, text_height, ink, others)
        if len(pieces) == 1:
            x0, y0, x1, y1 = pieces[0]
            out.append(b if (x0, y0, x1, y1) == (b.x0, b.y0, b.x1, b.y1) else replace(b, x0=x0, y0=y0, x1=x1, y1=y1))
            continue
        read: list[Box] = []
        for x0, y0, x1, y1 in pieces:
            crop = gray[max(0, int(y0)) : int(y1) + 1, max(0, int(x0)) : int(x1) + 1]
            if crop.size == 0:
                break
            text, conf = engine.read_line(crop)
            if not text.strip() or conf < MIN_CONFIDENCE:
                break
            read.append(digits_read(Box(x0, y0, x1, y1, text.strip(), conf)))
        out.extend(read if len(read) == len(pieces) else [b])
    return out


def _inked(ink: np.ndarray, x0: float, x1: float, y0: float, y1: float, others: list[Box]) -> bool:
    """Whether the pixel box holds ink (a few pixels at least: not scanner noise) outside the boxes
    of `others` (text the engine read in boxes of its own, such as the end of the label next door)."""
    a, b = max(0, int(y0)), min(ink.shape[0], int(y1) + 1)
    c, d = max(0, int(x0)), min(ink.shape[1], int(x1) + 1)
    if b <= a or d <= c:
        return False
    part = ink[a:b, c:d].copy()
    for o in others:
        oa, ob = max(a, int(o.y0)), min(b, int(o.y1) + 1)
        oc, od = max(c, int(o.x0)), min(d, int(o.x1) + 1)
        if ob > oa and od > oc:
            part[oa - a : ob - a, oc - c : od - c] = 0
    return int(np.count_nonzero(part)) >= max(4, (b - a) * (d - c) // 100)


def _pieces(
    b: Box, rulings: list[tuple[float, float, float, float]], text_height: float, ink: np.ndarray, others: list[Box]
) -> list[tuple[float, float, float, float]]:
    """`b` clipped or cut at the vertical rulings that cross it; else cut at the horizontal ones
    if it is tall."""
    h, w = b.y1 - b.y0, b.x1 - b.x0
    if h <= 0 or w <= 0:
        return [(b.x0, b.y0, b.x1, b.y1)]
    g = RULING_GAP_PX
    ry0, ry1 = b.y0 + h / 6, b.y1 - h / 6  # the rows of its text, away from rulings above and below
    x0, x1 = b.x0, b.x1
    cuts: list[float] = []
    for c in sorted(
        sx0
        for sx0, sy0, sx1, sy1 in rulings
        if sx0 == sx1 and b.x0 < sx0 < b.x1 and sy0 <= b.y0 + h / 4 and sy1 >= b.y1 - h / 4
    ):
        if not _inked(ink, x0, c - g, ry0, ry1, others):
            x0 = c + g  # only the box's padding lies left of the ruling
        elif not _inked(ink, c + g, x1, ry0, ry1, others):
            x1 = c - g  # only its padding lies right of it
            break
        else:
            cuts.append(c)
    if x1 - x0 < text_height / 2:
        return [(b.x0, b.y0, b.x1, b.y1)]
    if cuts:
        edges = [x0, *cuts, x1]
        return [
            (edges[i] + (g if i else 0), b.y0, edges[i + 1] - (g if i + 1 < len(edges) - 1 else 0), b.y1)
            for i in range(len(edges) - 1)
        ]
    if (x0, x1) != (b.x0, b.x1):
        return [(x0, b.y0, x1, b.y1)]
    ys = sorted(
        sy0
        for sx0, sy0, sx1, sy1 in rulings
        if sy0 == sy1 and b.y0 + h / 4 < sy0 < b.y1 - h / 4 and sx0 <= b.x0 + w / 4 and sx1 >= b.x1 - w / 4
    )
    edges = [b.y0, *ys, b.y1]
    if not ys or h < TALL_BOX * text_height or min(q - p for p, q in itertools.pairwise(edges)) < text_height / 2:
        return [(b.x0, b.y0, b.x1, b.y1)]
    return [
        (b.x0, edges[i] + (g if i else 0), b.x1, edges[i + 1] - (g if i + 1 < len(edges) - 1 else 0))
        for i in range(len(edges) - 1)
    ]


_ROUND_AS_ZERO = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "〇": "0"})
_NUMBER_LIKE = re.compile(r"^[0-9OoDQ〇.,，]+$")
_A_NUMBER = re.compile(r"^(0|[1-9][0-9]*(?:[,，][0-9]{3})*)(\.[0-9]+)?$")


def digits_read(box: Box) -> Box:
    """A run of digits in which the engine read a round glyph as a letter (`O`, `D`, `Q`: its Latin
    letters compete with `0` when a scan blurs it) is a number: the letters are the zero they stand
    for. Only a run made of nothing but digits and those letters (no CJK, no other letter), so a label
    never changes; the number read is then confirmed or refused by the referee like any other."""
    t = number_text(box.text)
    return box if t == box.text else replace(box, text=t)


def number_text(text: str) -> str:
    """`text` with round letters read for zeros as the zeros, when it is then a number; else as it is."""
    t = text.strip()
    if not _NUMBER_LIKE.match(t) or t.isdigit():
        return text
    n = t.translate(_ROUND_AS_ZERO)
    return n if _A_NUMBER.match(n) else text


PRINT_TEXT_PT = 11.0
"""An upload's pixels are scaled so its median line of text is this tall (about 小四号)."""


def _median_height(boxes: list[Box]) -> float:
    heights = sorted(b.y1 - b.y0 for b in boxes if b.y1 > b.y0)
    return heights[len(heights) // 2] if heights else 30.0


def _print_scale(boxes: list[Box]) -> float:
    return PRINT_TEXT_PT / _median_height(boxes) if boxes else 72 / 150


def _clear_page(block: Block) -> None:
    from tasks.extract.model import Paragraph, Table

    if isinstance(block, Paragraph):
        block.page = None
    elif isinstance(block, Table):
        block.page = None
        for r in block.rows:
            r.page = None
            for c in r.cells:
                c.page = None
