"""The OCR reader's pure geometry (no engine): deskew, ruling lines, seal removal, ink in a cell."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import cv2
import numpy as np
import pytest
import scans
from PIL import Image, ImageDraw, ImageFont

from tasks.extract import ocr_geometry as geo

ROWS = [60, 120, 180, 240, 300]
COLS = [40, 200, 320, 440, 560, 680, 800, 920]


def ruled_page(words: bool = True) -> np.ndarray:
    """A white page with a 4 × 7 ruled grid, CJK words in the first column and digits elsewhere."""
    img = Image.new("L", (1000, 400), 255)
    d = ImageDraw.Draw(img)
    for y in ROWS:
        d.line((COLS[0], y, COLS[-1], y), fill=0, width=2)
    for x in COLS:
        d.line((x, ROWS[0], x, ROWS[-1]), fill=0, width=2)
    if words:
        font = ImageFont.truetype(scans.SEAL_FONT, 28)
        for i, y in enumerate(ROWS[:-1]):
            d.text((COLS[0] + 8, y + 14), "一二三四"[i] + "、工作年度", fill=0, font=font)
            for x in COLS[1:-1]:
                d.text((x + 30, y + 14), str(17 * (i + 1) + x // 40), fill=0, font=font)
    return np.asarray(img)


@pytest.mark.parametrize("angle", [0.7, -1.3, 2.5])
def test_skew_is_measured_and_undone(angle: float) -> None:
    page = ruled_page()
    turned = geo.rotate(page, -angle)  # a scan turned clockwise by `angle` degrees
    measured = geo.skew_angle(turned)
    assert abs(abs(measured) - abs(angle)) < 0.15, measured
    straight = geo.rotate(turned, measured)
    assert abs(geo.skew_angle(straight)) < 0.1


def test_an_upright_page_is_not_turned() -> None:
    assert geo.skew_angle(ruled_page()) == 0.0


def test_rulings_are_found_and_text_strokes_are_not() -> None:
    segs = geo.ruling_segments(ruled_page(), text_height_px=30)
    hs = sorted(round(s[1]) for s in segs if s[1] == s[3])
    vs = sorted(round(s[0]) for s in segs if s[0] == s[2])
    assert [round(y) for y in hs] == pytest.approx(ROWS, abs=2)
    assert vs == pytest.approx(COLS, abs=2)
    # "一二三" and digits have horizontal strokes, none as long as a ruling: no extra segment
    assert len(segs) == len(ROWS) + len(COLS)


def test_rulings_of_a_rotated_scan_are_found_after_deskew() -> None:
    turned = geo.rotate(ruled_page(), -1.2)
    straight = geo.rotate(turned, geo.skew_angle(turned))
    segs = geo.ruling_segments(straight, 30)
    hs = sorted(s[1] for s in segs if s[1] == s[3])
    assert len(hs) == len(ROWS)
    assert np.diff(hs) == pytest.approx(np.diff(ROWS), abs=2)  # row bands as printed
    assert len([s for s in segs if s[0] == s[2]]) == len(COLS)


def test_a_red_seal_is_dropped_and_the_print_under_it_kept() -> None:
    page = Image.fromarray(ruled_page()).convert("RGB")
    sealed = scans.stamp_seal(page, (500, 200), 150, random.Random(3))
    arr = np.asarray(sealed)[:, :, ::-1].copy()  # BGR
    gray = geo.clean(arr)
    plain = ruled_page()
    inside = np.zeros(plain.shape, bool)
    cv2.circle(inside.view(np.uint8), (500, 200), 150, 1, -1)
    ink = (plain < 100) & inside
    paper = (plain > 250) & inside
    seal_ink = paper & (np.asarray(sealed)[:, :, 1] < 150)  # where the seal coloured the paper
    assert seal_ink.sum() > 2000
    assert np.mean(gray[seal_ink] > 200) > 0.97  # the seal is gone
    assert np.mean(gray[ink] < 128) > 0.95  # the digits and rulings under it are still black


def test_ink_share_tells_an_empty_cell_from_a_written_one() -> None:
    bw = geo.binarize(ruled_page())
    empty = geo.binarize(ruled_page(words=False))
    cell = (COLS[1], ROWS[0], COLS[2], ROWS[1])
    assert geo.ink_share(empty, cell) == 0.0  # the rulings around it do not count
    assert geo.ink_share(bw, cell) > 0.02


def test_rulings_of_a_table_with_shaded_header_rows_are_found() -> None:
    """Excel's header fill (grey 214, as dark as a grey ruling) over two row bands: the bands are no
    ruling, and the rulings bordering and crossing them are all still found (counted as ink, a band
    merged with every ruling touching it into one blob, and the table lost its grid)."""
    img = Image.fromarray(ruled_page())
    d = ImageDraw.Draw(img)
    for top, bottom in ((ROWS[0], ROWS[1]), (ROWS[2], ROWS[3])):
        for left, right in itertools.pairwise(COLS):
            d.rectangle((left + 2, top + 2, right - 2, bottom - 2), fill=214)
        d.text((COLS[1] + 30, top + 14), "第二十条", fill=0, font=ImageFont.truetype(scans.SEAL_FONT, 28))
    segs = geo.ruling_segments(np.asarray(img), text_height_px=30)
    hs = sorted(round(s[1]) for s in segs if s[1] == s[3])
    vs = sorted(round(s[0]) for s in segs if s[0] == s[2])
    assert hs == pytest.approx(ROWS, abs=2)
    assert vs == pytest.approx(COLS, abs=2)
    assert all(s[3] - s[1] > ROWS[-1] - ROWS[0] - 6 for s in segs if s[0] == s[2])  # each column ruling whole


def test_thin_grey_rulings_under_a_seal_survive_its_removal_in_a_jpeg_scan() -> None:
    """A seal over thin grey rulings (2 pixels, grey 120: a hairline scanned at 200 dpi),
    JPEG-compressed (its colour blurred over the lines): the seal goes, the rulings under it stay
    (whitening every reddish pixel cut them where the seal lay)."""
    import io

    img = Image.new("L", (1000, 400), 255)
    d = ImageDraw.Draw(img)
    for y in ROWS:
        d.line((COLS[0], y, COLS[-1], y), fill=120, width=2)
    for x in COLS:
        d.line((x, ROWS[0], x, ROWS[-1]), fill=120, width=2)
    sealed = scans.stamp_seal(img.convert("RGB"), (500, 200), 150, random.Random(5))
    buf = io.BytesIO()
    sealed.save(buf, "JPEG", quality=60)
    arr = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))[:, :, ::-1].copy()
    segs = geo.ruling_segments(geo.clean(arr), text_height_px=30)
    hs = sorted(round(s[1]) for s in segs if s[1] == s[3] and s[2] - s[0] > COLS[-1] - COLS[0] - 10)
    vs = sorted(round(s[0]) for s in segs if s[0] == s[2] and s[3] - s[1] > ROWS[-1] - ROWS[0] - 10)
    assert hs == pytest.approx(ROWS, abs=2)  # whole: not cut where the seal lies
    assert vs == pytest.approx(COLS, abs=2)


@pytest.mark.parametrize(
    ("read", "number"),
    [("O", "0"), ("1O", "10"), ("D", "0"), ("2O5", "205"), ("1,O00", "1,000"), ("O.5", "0.5"), ("〇", "0")],
)
def test_a_round_letter_in_a_run_of_digits_is_the_zero(read: str, number: str) -> None:
    from tasks.extract.ocr_reader import number_text

    assert number_text(read) == number


@pytest.mark.parametrize("text", ["规章", "OO", "Q1", "DO", "abc", "12", "—", "O型", "2O24年"])
def test_text_that_is_no_number_is_left_as_read(text: str) -> None:
    from tasks.extract.ocr_reader import number_text

    assert number_text(text) == text


def test_the_seals_own_words_are_told_from_print_under_the_seal() -> None:
    """A seal stamped over black print, scanned with noise σ 8 and JPEG q60: its words 专用章 leave a
    light grey ghost after `clean` (what the engine read into a value cell of Shanghai 2019's page 3).
    Their box's ink is seal-coloured and they are dropped; black words and a number printed under
    the seal are kept, and so is any box that holds a digit."""
    from tasks.extract.ocr_engines import Box
    from tasks.extract.ocr_reader import drop_seal_words

    r, cx, cy = 150.0, 500.0, 250.0
    img = Image.new("RGB", (1000, 500), (255, 255, 255))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(scans.SEAL_FONT, 32)
    d.text((cx + r, cy), "44", fill=(0, 0, 0), font=font, anchor="mm")  # under the seal's ring
    d.text((cx - 0.6 * r, cy), "合计", fill=(0, 0, 0), font=font, anchor="mm")  # black words under the seal
    img = scans.stamp_seal(img, (cx, cy), r, random.Random(3))
    img = scans.degrade(img, scans.Variant("t", dpi=200, noise=8.0, jpeg=60, seal=True, gray=False), random.Random(3))
    _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 60])
    page = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    gray, tint = geo.clean(page), geo.seal_tint(page)
    assert tint is not None
    h = int(r / 4.2) / 2 + 4  # the box an engine draws round the seal's three words
    seal_words = Box(cx - 3 * h, cy + 0.5 * r - h, cx + 3 * h, cy + 0.5 * r + h, "专用章", 0.99)
    ghost = gray[int(seal_words.y0) : int(seal_words.y1), int(seal_words.x0) : int(seal_words.x1)]
    assert int(ghost.min()) < geo.WORD_INK  # the ghost is still there for an engine to read
    number = Box(cx + r - 24, cy - 20, cx + r + 24, cy + 20, "44", 0.99)
    words = Box(cx - 0.6 * r - 36, cy - 20, cx - 0.6 * r + 36, cy + 20, "合计", 0.99)
    seal_digit = replace(seal_words, text="专用章1")  # a box holding a digit is never dropped here
    shares = [geo.seal_ink_share(gray, tint, (b.x0, b.y0, b.x1, b.y1)) for b in (seal_words, number, words)]
    assert drop_seal_words(gray, tint, [seal_words, number, words, seal_digit]) == [number, words, seal_digit], shares
