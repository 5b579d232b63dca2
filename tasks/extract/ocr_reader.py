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
    angle = geo.skew_angle(gray)
    if angle:
        gray = geo.rotate(gray, angle)
    boxes = [digits_read(b) for b in engine.read(gray) if b.confidence >= MIN_CONFIDENCE and b.text.strip()]
    if scale is None:
        scale = _print_scale(boxes)
    h_px, w_px = gray.shape
    ox, oy_top = origin
    if oy_top == 0.0:
        oy_top = h_px * scale

    def to_pt(x: float, y: float) -> tuple[float, float]:
        return ox + x * scale, oy_top - y * scale

    chars = [c for b in boxes for c in _chars_of(b, to_pt)]
    segments = []
    for x0, y0, x1, y1 in geo.ruling_segments(gray, _median_height(boxes)):
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
    return blocks, OcrPage(page, region, scale, gray, geo.binarize(gray), ocr_boxes, engine.name)


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
