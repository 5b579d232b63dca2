"""Pure image geometry for the OCR reader (OpenCV on numpy arrays; no OCR engine here).

- `clean`: a colour scan to grayscale with red and orange ink (a seal stamped over the table) dropped;
  `keep_red_print`: red ink outside a seal's area given back once the text height is known;
- `skew_angle` / `rotate`: the page's rotation, measured from its long horizontal strokes (table
  rulings, text lines), and the page turned back;
- `ruling_segments`: the table's ruling lines, found by morphological opening of the inked pixels
  with long thin kernels (what a ruler draws survives, text does not);
- `ink_share`: how much of a cell's interior is inked (a cell the engine read nothing in, but that
  holds ink, is not a printed blank); `seal_areas`, `print_level`, `dark_ink_share`: whether that
  ink is print or only what a seal leaves after `clean`.

Pixel coordinates, y down, throughout.
"""

from __future__ import annotations

import math

import numpy as np

MAX_SKEW_DEG = 5.0
"""Rotations beyond this are not a slightly skewed scan: the page is left as it is."""
LINE_TEXT_HEIGHTS = 1.4
"""A ruling line is at least this many text heights long (a character's strokes are shorter)."""
RED_MARGIN = 40
"""A pixel whose red channel exceeds green and blue by this much is seal ink, not print."""


def to_gray(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def clean(image: np.ndarray) -> np.ndarray:
    """Grayscale, with seal ink (red/orange: red well above green and blue) turned white."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    gray = to_gray(image)
    if image.ndim == 3:
        b, g, r = (image[:, :, i].astype(np.int16) for i in range(3))
        excess = r - np.maximum(g, b)
        red = excess > RED_MARGIN
        if red.any():
            gray = gray.copy()
            # A seal multiplies the print under it, channel by channel: in the red channel the red
            # ink is nearly paper, and print under it is as dark as it was, scaled by the seal's own
            # red (`seal_r`, from its most saturated pixels). So where the page is red, the red
            # channel divided by the seal's red is the page without the seal: seal ink over paper
            # turns white, black print stays black, and a thin grey ruling under the seal (whose
            # pixels a JPEG's colour blur tints red) keeps its grey instead of being whitened away
            # with the seal (which cut every ruling and stroke under it).
            strong = excess > 100
            seal_r = float(np.median(r[strong])) if strong.any() else 230.0
            gray[red] = np.clip(r[red] * (255.0 / max(seal_r, 1.0)), 0, 255).astype(np.uint8)
    return gray


def seal_tint(image: np.ndarray) -> np.ndarray | None:
    """Where the scan is seal-coloured (red/orange: red above green and blue by `RED_MARGIN`), as a
    0/255 mask the size of the page; None for a page with no colour or no such pixel."""
    if image.ndim != 3:
        return None
    b, g, r = (image[:, :, i].astype(np.int16) for i in range(3))
    red = (r - np.maximum(g, b)) > RED_MARGIN
    if not red.any():
        return None
    return red.astype(np.uint8) * 255


SEAL_WORD_SHARE = 0.6
"""A box of words whose ink lies this much on seal-coloured pixels is the seal's words, not print
(measured: 专用章 0.69–0.90 of its ink, black print under the seal's ring 0.23, black words under it 0)."""
WORD_INK = 215
"""Darker than this (0..255) is a box's ink when its colour is judged (the ghost a seal's words leave
after `clean` is light grey)."""


def seal_ink_share(gray: np.ndarray, tint: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Share of the ink inside `box` (pixels) that lies on seal-coloured pixels of the scan. The box
    is trimmed by a fifth of its height on every side: the detector's box reaches over the cell's
    rulings, whose grey is ink but no seal's."""
    m = (box[3] - box[1]) * 0.2
    x0, y0, x1, y1 = (round(v) for v in (box[0] + m, box[1] + m, box[2] - m, box[3] - m))
    x0, y0 = max(0, x0), max(0, y0)
    ink = gray[y0:y1, x0:x1] < WORD_INK
    n = int(np.count_nonzero(ink))
    if n == 0:
        return 0.0
    return float(np.count_nonzero(tint[y0:y1, x0:x1][ink])) / n


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink = 255, paper = 0 (Otsu on a lightly blurred page: robust to scanner noise)."""
    import cv2

    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    _, bw = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return bw


LINE_CONTRAST = 40
"""A ruling is at least this much darker (0..255) than what lies just beside it."""


def line_mask(gray: np.ndarray, width_px: int = 15) -> np.ndarray:
    """Ink for finding rulings: pixels clearly darker than what lies around them (a black-hat: a
    closing `width_px` square fills every dark stroke thinner than that, and the difference is the
    stroke). A thin ruling scanned grey (anti-aliased, 1–2 pixels) counts on white paper as on a
    shaded band, while the shaded band itself (an Excel header fill, as dark as a grey ruling) does
    not: counted as ink, a band merged with every ruling touching it into one blob that is no line,
    and the table lost its grid. The kernel is square, not across one direction only: where two
    rulings cross, the pixel is dark along both directions and only a square window still sees
    paper (a one-direction kernel cut every ruling at every crossing, and a row shorter than the
    opening kernel lost its stretch of the ruling). The long kernels of `ruling_segments` then drop
    text strokes and noise."""
    import cv2

    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    k = max(5, int(width_px)) | 1
    hat = cv2.morphologyEx(blur, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    _, bw = cv2.threshold(hat, LINE_CONTRAST, 255, cv2.THRESH_BINARY)
    return bw


def skew_angle(gray: np.ndarray) -> float:
    """The page's rotation in degrees (counter-clockwise positive, as cv2.getRotationMatrix2D
    takes it to undo), from the long near-horizontal segments Hough finds in the inked pixels; 0
    when there are none."""
    import cv2

    bw = binarize(gray)
    w = bw.shape[1]
    lines = cv2.HoughLinesP(bw, 1, math.pi / 1800, threshold=max(100, w // 8), minLineLength=w // 6, maxLineGap=8)
    if lines is None:
        return 0.0
    angles: list[float] = []
    weights: list[float] = []
    for x0, y0, x1, y1 in np.asarray(lines).reshape(-1, 4):
        dx, dy = float(x1 - x0), float(y1 - y0)
        if dx == 0:
            continue
        a = math.degrees(math.atan2(dy, dx))
        if abs(a) <= MAX_SKEW_DEG:
            angles.append(a)
            weights.append(math.hypot(dx, dy))
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    median = float(np.asarray(angles)[order][int(np.searchsorted(cum, cum[-1] / 2))])
    return median


def rotate(image: np.ndarray, angle_deg: float) -> np.ndarray:
    """Turn the page by `angle_deg` about its centre (white fill), same size."""
    import cv2

    if abs(angle_deg) < 0.05:
        return image
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    border = 255 if image.ndim == 2 else (255, 255, 255)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def ruling_segments(gray: np.ndarray, text_height_px: float) -> list[tuple[float, float, float, float]]:
    """Horizontal and vertical ruling lines as segments (x0, y0, x1, y1) through their middles.

    A ruling is longer than any stroke of a character: at least `LINE_TEXT_HEIGHTS` lines of text
    (`text_height_px`, the median height of the engine's boxes) long. Faint rulings the black-hat
    mask breaks into dashes are then recovered where the grid shows they belong
    (`_faint_rulings`)."""
    import cv2

    bw = line_mask(gray, int(text_height_px / 2))
    length = max(15, int(text_height_px * LINE_TEXT_HEIGHTS))
    strong: dict[bool, list[Seg]] = {}
    for horizontal in (True, False):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
        mask = cv2.morphologyEx(bw, cv2.MORPH_OPEN, kernel)
        # bridge the small gaps noise and JPEG leave in a printed line
        close = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1) if horizontal else (1, 9))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close)
        strong[horizontal] = _runs(mask, length, horizontal, 12)
    extra = _faint_rulings(gray, bw, text_height_px, strong)
    return strong[True] + strong[False] + extra


Seg = tuple[float, float, float, float]

FAINT_TEXT_HEIGHTS = 2.5
"""A faint ruling (recovered by `_faint_rulings`) is at least this many text heights long."""
FAINT_ALONG_PX = 9
"""The faint-line filter averages the black-hat this many pixels along the line's direction."""
FAINT_CLEAR_SHARE = 0.25
"""A faint ruling joining two rulings has paper beside it: at most this share of its length has ink
just above and below (a character's horizontal stroke has its other strokes there)."""


def _runs(mask: np.ndarray, length: int, horizontal: bool, max_thick: int) -> list[Seg]:
    """The long thin connected components of a line mask, as segments through their middles."""
    import cv2

    out: list[Seg] = []
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for i in range(1, n):
        x, y, bw_, bh, _ = stats[i]
        if horizontal and bw_ >= length and bh <= max(max_thick, bw_ // 20):
            yc = y + bh / 2
            out.append((float(x), yc, float(x + bw_), yc))
        elif not horizontal and bh >= length and bw_ <= max(max_thick, bh // 20):
            xc = x + bw_ / 2
            out.append((xc, float(y), xc, float(y + bh)))
    return out


def _faint_rulings(gray: np.ndarray, bw: np.ndarray, text_height_px: float, strong: dict[bool, list[Seg]]) -> list[Seg]:
    """Rulings printed thin and grey (a browser's one-pixel cell border, about 60 grey levels below
    the paper) that noise and JPEG break into dashes in the black-hat mask, so the opening drops
    them: a grid then loses one ruling and its neighbours merge into one cell holding the text of
    many rows (Shanghai 2019 printed by Chromium and scanned, 200 dpi, noise σ 8, JPEG q60: the
    bottom of table 三's left column and a stub of its cut row were lost, and one cell took every row
    label from 3.补正后 to （七）总计, so nine rows were not placed).

    The line is found by its whole profile: the black-hat summed across three pixels (a thin line
    rotated and resampled spreads over two or three rows) and averaged along `FAINT_ALONG_PX`
    (noise averages out, a line does not), at least `FAINT_TEXT_HEIGHTS` text heights long. That
    filter also joins the strokes of a line of text, so a faint run is kept only where the grid says
    it is a ruling: it continues a long ruling found by the strict mask (same position, overlapping
    it), or it runs from one perpendicular ruling to another with paper beside it along its length."""
    import cv2

    k = max(5, int(text_height_px / 2)) | 1
    hat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    hat = hat.astype(np.float32)
    length = max(20, int(text_height_px * FAINT_TEXT_HEIGHTS))
    tol = max(6.0, text_height_px / 4)
    faint: dict[bool, list[Seg]] = {}
    for horizontal in (True, False):
        size = (FAINT_ALONG_PX, 3) if horizontal else (3, FAINT_ALONG_PX)
        resp = cv2.boxFilter(hat, -1, size, normalize=True) * 3
        mask = np.where(resp > LINE_CONTRAST, 255, 0).astype(np.uint8)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
        runs = _runs(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), length, horizontal, 8)
        cut = FAINT_ALONG_PX // 2 - 1  # the averaging window carries a line's ends this far beyond it
        faint[horizontal] = [
            (x0 + cut, y0, x1 - cut, y1) if horizontal else (x0, y0 + cut, x1, y1 - cut) for x0, y0, x1, y1 in runs
        ]

    def span(s: Seg, horizontal: bool) -> tuple[float, float, float]:  # position, low end, high end
        return (s[1], s[0], s[2]) if horizontal else (s[0], s[1], s[3])

    kept: dict[bool, list[Seg]] = {True: [], False: []}
    for horizontal in (True, False):  # continuations of long strict rulings
        for f in faint[horizontal]:
            p, lo, hi = span(f, horizontal)
            for s in strong[horizontal]:
                q, slo, shi = span(s, horizontal)
                if shi - slo >= length and abs(p - q) <= 3 and min(hi, shi) - max(lo, slo) >= 0.5 * (shi - slo):
                    if lo < slo - tol or hi > shi + tol:
                        kept[horizontal].append(f)
                    break

    def on_ruling(pos: float, at: float, horizontal: bool) -> bool:
        """A ruling across direction `horizontal` passes through (pos along, at across)."""
        for s in strong[not horizontal] + kept[not horizontal]:
            q, lo, hi = span(s, not horizontal)
            if abs(q - pos) <= tol and lo - tol <= at <= hi + tol:
                return True
        return False

    for horizontal in (True, False):  # faint rulings joining two rulings
        for f in faint[horizontal]:
            p, lo, hi = span(f, horizontal)
            if f in kept[horizontal] or any(  # the strict mask has it already
                abs(q - p) <= 3 and slo <= lo + tol and shi >= hi - tol
                for q, slo, shi in (span(s, horizontal) for s in strong[horizontal])
            ):
                continue
            if on_ruling(lo, p, horizontal) and on_ruling(hi, p, horizontal) and _clear_beside(bw, f, horizontal, tol):
                kept[horizontal].append(f)
    return kept[True] + kept[False]


def _clear_beside(bw: np.ndarray, seg: Seg, horizontal: bool, tol: float) -> bool:
    """Whether the strict ink mask `bw` is paper just beside the segment (3 to 6 pixels off it) along
    all but `FAINT_CLEAR_SHARE` of its length (its ends, within `tol` of the rulings it joins, aside)."""
    img = bw if horizontal else bw.T
    x0, y, x1, _ = seg if horizontal else (seg[1], seg[0], seg[3], seg[2])
    a, b = int(x0 + tol), int(x1 - tol)
    yc = round(y)
    if b <= a:
        return False
    h = img.shape[0]
    above = img[max(0, yc - 6) : max(0, yc - 2), a:b]
    below = img[min(h, yc + 3) : min(h, yc + 7), a:b]
    if above.size == 0 or below.size == 0:
        return False
    inked = (above.max(axis=0) > 0) | (below.max(axis=0) > 0)
    return float(inked.mean()) <= FAINT_CLEAR_SHARE


def ink_share(bw: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.18) -> float:
    """Share of inked pixels in the interior of `box` (pixels, y down), its border trimmed by
    `margin` of its size on each side so the cell's own rulings do not count."""
    a, b, c, d = _interior(bw.shape, box, margin)
    if b <= a or d <= c:
        return 0.0
    return float(np.count_nonzero(bw[a:b, c:d])) / ((b - a) * (d - c))


SEAL_ACROSS = 3.0
"""A blob of seal colour at least this many text heights across, both ways, is a seal stamped on the
page (a ring with its star and words); a word or a number printed in red is smaller (and a red
heading is one line high)."""


def seal_areas(tint: np.ndarray, text_height_px: float) -> list[tuple[int, int, int, int]]:
    """The boxes (pixels) of the seals stamped on the page: the seal-coloured pixels closed over a
    text height (the ring, its star and its words, broken by JPEG and noise, become one blob), each
    blob at least `SEAL_ACROSS` text heights wide and tall."""
    import cv2

    k = max(3, int(text_height_px)) | 1
    closed = cv2.morphologyEx((tint > 127).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    least = SEAL_ACROSS * text_height_px
    return [
        (int(s[0]), int(s[1]), int(s[0] + s[2]), int(s[1] + s[3]))
        for s in stats[1:n]
        if s[2] >= least and s[3] >= least
    ]


def keep_red_print(gray: np.ndarray, plain: np.ndarray, tint: np.ndarray, text_height_px: float) -> np.ndarray:
    """The cleaned page with red ink that is no seal given back: `clean` whitens every seal-coloured
    pixel, so a number printed in red left no ink in its cell (a red `0` was read as a printed
    blank, a wrong cell). Only the seal-coloured pixels inside a seal's area (`seal_areas`: a blob
    at least `SEAL_ACROSS` text heights across both ways) stay whitened; elsewhere each takes its
    plain grey (`plain`: `to_gray` of the scan, turned with the page), which `binarize` counts as ink."""
    red = tint > 127
    for x0, y0, x1, y1 in seal_areas(tint, text_height_px):
        red[y0:y1, x0:x1] = False
    if not red.any():
        return gray
    out = gray.copy()
    out[red] = np.minimum(gray[red], plain[red])
    return out


def print_level(gray: np.ndarray, bw: np.ndarray) -> float:
    """The grey level below which ink is the page's print: halfway between its print (the darkest
    tenth of its inked pixels) and the level `binarize` parts ink from paper at. What a seal leaves
    after `clean` (the edges of its strokes, where a JPEG blurred their colour) is ink to `binarize`
    but lighter than this (measured on scans with a seal, noise σ 8, JPEG q60: the ghost's darkest
    twentieth at 120–178, print's at 3–64, the level 122–134)."""
    import cv2

    ink = gray[bw > 0]
    if ink.size == 0:
        return 0.0
    otsu, _ = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return (float(np.percentile(ink, 10)) + float(otsu)) / 2


def _interior(
    shape: tuple[int, ...], box: tuple[float, float, float, float], margin: float
) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    return int(max(0, y0 + my)), int(min(shape[0], y1 - my)), int(max(0, x0 + mx)), int(min(shape[1], x1 - mx))


def dark_ink_share(
    gray: np.ndarray, bw: np.ndarray, box: tuple[float, float, float, float], level: float, margin: float = 0.18
) -> float:
    """Like `ink_share`, counting only ink darker than `level` (`print_level`): the cell's print."""
    a, b, c, d = _interior(bw.shape, box, margin)
    if b <= a or d <= c:
        return 0.0
    dark = (bw[a:b, c:d] > 0) & (gray[a:b, c:d] < level)
    return float(np.count_nonzero(dark)) / ((b - a) * (d - c))
