"""Pure image geometry for the OCR reader (OpenCV on numpy arrays; no OCR engine here).

- `clean`: a colour scan to grayscale with red and orange ink (a seal stamped over the table) dropped;
- `skew_angle` / `rotate`: the page's rotation, measured from its long horizontal strokes (table
  rulings, text lines), and the page turned back;
- `ruling_segments`: the table's ruling lines, found by morphological opening of the inked pixels
  with long thin kernels (what a ruler draws survives, text does not);
- `ink_share`: how much of a cell's interior is inked (a cell the engine read nothing in, but that
  holds ink, is not a printed blank).

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
    (`text_height_px`, the median height of the engine's boxes) long."""
    import cv2

    bw = line_mask(gray, int(text_height_px / 2))
    out: list[tuple[float, float, float, float]] = []
    for horizontal in (True, False):
        length = max(15, int(text_height_px * LINE_TEXT_HEIGHTS))
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
        mask = cv2.morphologyEx(bw, cv2.MORPH_OPEN, kernel)
        # bridge the small gaps noise and JPEG leave in a printed line
        close = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1) if horizontal else (1, 9))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, n):
            x, y, bw_, bh, _ = stats[i]
            if horizontal and bw_ >= length and bh <= max(12, bw_ // 20):
                yc = y + bh / 2
                out.append((float(x), yc, float(x + bw_), yc))
            elif not horizontal and bh >= length and bw_ <= max(12, bh // 20):
                xc = x + bw_ / 2
                out.append((xc, float(y), xc, float(y + bh)))
    return out


def ink_share(bw: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.18) -> float:
    """Share of inked pixels in the interior of `box` (pixels, y down), its border trimmed by
    `margin` of its size on each side so the cell's own rulings do not count."""
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    a, b = int(max(0, y0 + my)), int(min(bw.shape[0], y1 - my))
    c, d = int(max(0, x0 + mx)), int(min(bw.shape[1], x1 - mx))
    if b <= a or d <= c:
        return 0.0
    return float(np.count_nonzero(bw[a:b, c:d])) / ((b - a) * (d - c))
