"""Arithmetic as the referee of OCR: a number read from a picture is published only when confirmed.

A cell read by OCR is confirmed when
1. an identity of spec §3.4/§4.4 it takes part in holds (T3-H1/H2/H3, T4-H1: `tasks.checks.identities`)
   with every member read, blanks and dashes as nothing; a misread digit would have to be cancelled
   exactly by another misreading for a sum to hold by chance; or
2. a second, independent reading of the cell's crop agrees with the first: the other engine
   (`OcrOptions.confirm_engine`), or the same engine at another resolution. A second reading
   confirms the digits, not the row they were placed in: in table 三 or 四 with a printed row OCR
   could not place (a `not_found` cell), only an identity confirms.

A cell read empty whose interior holds no ink (`geo.ink_share`) is a printed blank: the engine and
the pixels, two independent readings, agree (a report may print its total column empty, where no
identity holds: Shanghai 2019). A cell that is neither is `not_found` with status `ocr_unconfirmed`: value and raw null, its candidate
reading named in an `OCR-01` issue — never a guessed number. An OCR cell read empty is a printed blank
only if its interior holds no ink (a dropped `0` leaves ink the engine did not read).

Every OCR cell gets `source_kind = "ocr"` and a `confidence` (the engine's, lowest over the cell's
boxes; 1 for an empty cell with no ink); text cells `source_kind = "text"`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from tasks.checks.identities import identities
from tasks.extract import ocr_geometry as geo
from tasks.extract.ocr import OcrRun
from tasks.extract.ocr_reader import OcrPage, number_text
from tasks.extract.result import CellRecord, Issue
from tasks.extract.values import parse_value, unit_suffix

log = logging.getLogger(__name__)

INK_BLANK_MAX = 0.004
"""An empty OCR cell with more of its interior inked than this is not a printed blank."""
SECOND_READ_SCALE = 1.6
"""The same engine's second reading enlarges the crop by this factor (another resolution)."""
STATUS = "ocr_unconfirmed"
RULE = "OCR-01"

Key = tuple[str, str, str]


def _page_of(run: OcrRun, c: CellRecord) -> OcrPage | None:
    return next((p for p in run.pages if p.contains(c.page, c.bbox)), None)


def _confidence(page: OcrPage, c: CellRecord) -> float | None:
    assert c.bbox is not None
    x0, y0, x1, y1 = c.bbox
    confs = [
        b.confidence
        for b in page.boxes
        if x0 <= (b.bbox[0] + b.bbox[2]) / 2 <= x1 and y0 <= (b.bbox[1] + b.bbox[3]) / 2 <= y1
    ]
    return min(confs) if confs else None


def _crop(page: OcrPage, c: CellRecord, pad: float = 0.12) -> np.ndarray | None:
    assert c.bbox is not None
    px0, py0, px1, py1 = page.to_px(c.bbox)
    # inside the cell's rulings: trim a little, so the lines are not read as 1 or |
    w, h = px1 - px0, py1 - py0
    a, b = int(max(0, py0 + h * pad)), int(min(page.gray.shape[0], py1 - h * pad))
    left, right = int(max(0, px0 + min(w * pad, h * pad))), int(min(page.gray.shape[1], px1 - min(w * pad, h * pad)))
    if b - a < 4 or right - left < 4:
        return None
    return page.gray[a:b, left:right]


INK_HEIGHT_PX = 40
"""A cell's ink is read again at this height (pixels): Tesseract reads a lone digit of 20 pixels as
nothing or as `。`, the same digit at 40 pixels right."""


def _ink_crop(page: OcrPage, c: CellRecord, height_px: int | None = None) -> np.ndarray | None:
    """The cell's interior cut to its ink, with a margin of white, its ink scaled to `height_px`
    (None: as scanned): a digit small in a wide cell (table 二's one number across half the page) is
    read far better alone than inside a strip of paper noise."""
    import cv2

    crop = _crop(page, c)
    if crop is None:
        return None
    bw = geo.binarize(crop)
    n, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    keep = [stats[i] for i in range(1, n) if stats[i][4] >= 6]  # speckles of noise are not ink
    if keep:
        x0 = min(s[0] for s in keep)
        y0 = min(s[1] for s in keep)
        x1 = max(s[0] + s[2] for s in keep)
        y1 = max(s[1] + s[3] for s in keep)
        m = max(4, (y1 - y0) // 3)
        crop = crop[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m]
        if height_px:
            k = min(4.0, max(1.0, height_px / max(1, y1 - y0)))
            crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(crop, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def _second_reading(run: OcrRun, page: OcrPage, c: CellRecord) -> str | None:
    """The cell read again, independently: by the other engine on the cell's ink at a height it reads
    well (then, if that is no number at all, on the ink enlarged again: another resolution), or by
    the same engine on the ink enlarged. A reading that is another number is an answer (a
    disagreement), never retried."""
    from tasks.extract.ocr_engines import get_engine

    other = run.options.confirm_engine
    unit = bool(unit_suffix(c.raw or ""))
    try:
        if other and other != page.engine:
            engine = get_engine(other, run.options.threads)
            crop = _ink_crop(page, c, INK_HEIGHT_PX)
            if crop is None:
                return None
            text, _ = engine.read_number(crop, unit=unit)
            if parse_value(number_text(text))[1] not in ("reported", "dash"):
                bigger = _ink_crop(page, c, int(INK_HEIGHT_PX * SECOND_READ_SCALE))
                text, _ = engine.read_number(bigger, unit=unit)  # type: ignore[arg-type]
        else:
            engine = get_engine(page.engine, run.options.threads)
            crop = _ink_crop(page, c, int(INK_HEIGHT_PX * SECOND_READ_SCALE))
            if crop is None:
                return None
            text, _ = engine.read_number(crop, unit=unit)
    except RuntimeError as exc:  # the confirming engine is not installed: no second reading
        log.warning("second OCR reading unavailable: %s", exc)
        return None
    return number_text(text)


def _read_alone(run: OcrRun, page: OcrPage, c: CellRecord) -> tuple[bool, str]:
    """Read a cell's crop alone, with the page's own engine (recognition only): what the page pass
    missed (a lone digit the detector did not box, a digit next to a seal's remains, a `0` too faint
    beside a ruling) or read as no number (`()` for a `0`). The ink is read as scanned, then, if that
    is not a confident number or dash, enlarged to `INK_HEIGHT_PX` (another resolution: a lone `7`
    of 20 pixels read at 0.49, at 40 pixels 0.83). A reading becomes the cell's candidate only when
    it is a number or a dash with confidence `ALONE_CONFIDENCE`; it is then confirmed or refused like
    any other. Returns whether one was taken, and every text read."""
    from tasks.extract.ocr_engines import get_engine

    texts: list[str] = []
    shapes: set[tuple[int, ...]] = set()
    for height in (None, INK_HEIGHT_PX):
        crop = _ink_crop(page, c, height)
        if crop is None or crop.shape in shapes:  # the ink is that tall already: the same crop
            continue
        shapes.add(crop.shape)
        try:
            text, score = get_engine(page.engine, run.options.threads).read_line(crop)
        except RuntimeError as exc:
            log.warning("OCR reading of a cell crop unavailable: %s", exc)
            break
        text = number_text(text)
        texts.append(text)
        value, status = parse_value(text)
        if status in ("reported", "dash") and score >= ALONE_CONFIDENCE:
            c.value, c.status, c.raw, c.confidence = value, status, text.strip(), score
            return True, " ".join(texts)
    return False, " ".join(texts)


ALONE_CONFIDENCE = 0.5
"""A cell read alone gives a candidate only this sure (below it, noise and a seal's remains)."""


def _seal_ghost_only(page: OcrPage, c: CellRecord, levels: dict[int, tuple[float, list]]) -> bool:
    """Whether the ink of a cell read empty is only what a seal leaves after `clean`: the cell lies
    in a seal's area (`geo.seal_areas`) and its interior holds no ink darker than the page's print
    level (`geo.print_level`) beyond `INK_BLANK_MAX`. Print under a seal is as dark as elsewhere (a
    seal multiplies the page); the seal's words and ring leave a light grey ghost, which `binarize`
    counts as ink: a printed blank under 专用章 was refused as "ink the engine could not read"."""
    if page.tint is None or c.bbox is None:
        return False
    if id(page) not in levels:
        heights = sorted((b.bbox[3] - b.bbox[1]) / page.scale for b in page.boxes)
        text_h = heights[len(heights) // 2] if heights else 30.0
        levels[id(page)] = (geo.print_level(page.gray, page.bw), geo.seal_areas(page.tint, text_h))
    level, seals = levels[id(page)]
    x0, y0, x1, y1 = box = page.to_px(c.bbox)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if not any(a <= cx <= b and p <= cy <= q for a, p, b, q in seals):
        return False
    return geo.dark_ink_share(page.gray, page.bw, box, level) <= INK_BLANK_MAX


def _number(c: CellRecord) -> Decimal | None:
    if c.status == "reported" and c.value is not None:
        return Decimal(c.value)
    if c.status in ("blank", "dash"):
        return Decimal(0)
    return None


def _confirmed_by_identities(cells: dict[Key, CellRecord], format_version: str) -> set[Key]:
    out: set[Key] = set()
    for ident in identities(format_version):
        members = [cells.get(k) for k in ident.cells]
        if any(m is None for m in members):
            continue
        lhs = [_number(cells[k]) for k in ident.lhs]
        rhs = [_number(cells[k]) for k in ident.rhs]
        if any(v is None for v in lhs + rhs):
            continue
        if all(cells[k].status in ("blank", "dash") for k in ident.cells):
            continue  # nothing printed anywhere: 0 = 0 confirms no reading
        if sum(lhs) == sum(rhs):  # type: ignore[arg-type]
            out.update(ident.cells)
    return out


def referee(cells: list[CellRecord], issues: list[Issue], format_version: str, run: OcrRun) -> None:
    """Mark OCR cells, confirm or refuse them (in place); add the OCR-01 issue for the refused."""
    by_key: dict[Key, CellRecord] = {(c.table, c.row, c.col): c for c in cells}
    ocr: dict[Key, OcrPage] = {}
    inked: set[Key] = set()
    # read empty by the engine, and no ink in the cell's interior: two readings (the engine's and the
    # pixels') that agree on a printed blank
    clean_blank: set[Key] = set()
    whole = {p.page for p in run.pages if p.page is not None and p.whole_page}
    levels: dict[int, tuple[float, list]] = {}  # per page: its print level and its seals' areas
    for key, c in by_key.items():
        page = _page_of(run, c) if c.bbox is not None else None
        if page is None and c.bbox is None and c.page in whole and c.status not in ("not_found", "image_only"):
            # read on a scanned page but with no box to look into (cannot happen for a cell the engine
            # read): an empty reading that cannot be checked for ink is never published
            c.source_kind, c.confidence = "ocr", None
            inked.add(key)
            ocr[key] = next(p for p in run.pages if p.page == c.page)
            continue
        if page is None:
            c.source_kind = "text" if c.status not in ("not_found", "image_only") else None
            continue
        c.source_kind = "ocr"
        ocr[key] = page
        c.confidence = _confidence(page, c)
        if c.status == "blank":
            share = geo.ink_share(page.bw, page.to_px(c.bbox))  # type: ignore[arg-type]
            if share <= INK_BLANK_MAX:
                c.confidence = 1.0
                clean_blank.add(key)
                continue
            taken, read = _read_alone(run, page, c)
            if taken:
                continue
            if not any(ch.isdigit() for ch in read) and _seal_ghost_only(page, c, levels):
                # the engine read nothing but the seal's words, the crop no digit, and the pixels
                # hold no print: three readings of a printed blank under a seal
                c.confidence = 1.0
                clean_blank.add(key)
            else:
                inked.add(key)
        elif c.status == "text":
            _read_alone(run, page, c)
    confirmed = _confirmed_by_identities({k: v for k, v in by_key.items() if k not in inked}, format_version)
    unplaced = _tables_with_unplaced_rows(by_key, format_version)
    refused: list[tuple[CellRecord, str]] = []
    for key, page in ocr.items():
        c = by_key[key]
        if (key in confirmed and key not in inked) or key in clean_blank:
            continue
        reading = c.raw or ""
        if key not in inked and key[0] not in unplaced:
            second = _second_reading(run, page, c)
            if (
                second is not None
                and _same(parse_value(second), (c.value, c.status))
                and unit_suffix(second) == unit_suffix(c.raw or "")
            ):
                continue  # the same number, and the same unit after it (both stripped before comparing)
        refused.append((c, "ink the engine could not read" if key in inked else reading))
    for c, _ in refused:
        c.value, c.status, c.raw = None, STATUS, None
    for key, page in ocr.items():
        if page.page is None:  # a picture in a DOCX/HTML: no page geometry to report (as for its text)
            by_key[key].bbox = None
    if refused:
        issues.append(
            Issue(
                RULE,
                "warn",
                f"{len(refused)} cell(s) read by OCR could not be confirmed (no identity of their row or column "
                "holds and a second reading does not agree, or their table has a row OCR could not place, where only "
                "an identity confirms): not published; their candidate readings are listed",
                [{"table": c.table, "row": c.row, "col": c.col, "reading": r} for c, r in refused],
            )
        )
    if run.refused:
        issues.append(Issue(RULE, "warn", "; ".join(run.refused)))


def _tables_with_unplaced_rows(cells: dict[Key, CellRecord], format_version: str) -> set[str]:
    """Tables 三 and 四 with a printed row OCR could not place (a cell `not_found`): there a second
    reading confirms the digits read, not the row they were put in (a label lost under a seal or a
    missing ruling can shift a number into the next row's slot), so only an identity confirms."""
    from tasks.spec import t3

    printed = {r.key for r in t3.rows_for(format_version)} if format_version in ("2021", "2019", "2021_mixed") else set()
    out: set[str] = set()
    for (table, row, _), c in cells.items():
        if c.status != "not_found":
            continue
        if table == "t4" or (table == "t3" and row in printed):
            out.add(table)
    return out


def _same(a: tuple[object, str], b: tuple[object, str]) -> bool:
    return a[1] == b[1] and a[0] == b[0] and a[1] in ("reported", "blank", "dash")


def ocr_counts(cells: Iterable[dict]) -> tuple[int, int]:
    """(cells read by OCR and published, cells refused) of an extraction dict's cells."""
    read = refused = 0
    for c in cells:
        if c.get("status") == STATUS:
            refused += 1
        elif c.get("source_kind") == "ocr":
            read += 1
    return read, refused
