"""Page images for the OCR reader, within limits: decoding PNG/JPEG uploads and embedded pictures,
and rendering PDF pages (pypdfium2, the PDFium library in a wheel).

Every size is checked before anything is decoded: an image's dimensions come from its header, so a
decompression bomb (a small PNG declaring 100,000 × 100,000 pixels) is refused without allocating
it, and a scan with more pages than the OCR limit is refused before the first page is rendered.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tasks.errors import CorruptDocument, DocumentTooLarge, NotAReport, UnsupportedFormat

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 60_000_000
    """Largest image (width × height) decoded or rendered: an A4 page at 600 dpi is 35 Mpx."""
    max_pages: int = 60
    """Most pages one report may send to OCR."""
    dpi: int = 200
    """Resolution PDF pages are rendered at for OCR (measured in docs/ocr.md)."""


def image_kind(data: bytes) -> str | None:
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    return None


MIN_SIDE_PX = 64
"""A picture smaller than this on a side holds no table (icons, spacers, tracking pixels)."""


def check_image(data: bytes, limits: Limits, what: str = "the image") -> tuple[int, int]:
    """Width and height from the header alone; typed errors for bombs, damage, tiny pictures."""
    img = _open(data, what)
    w, h = img.size
    if w * h > limits.max_pixels:
        raise DocumentTooLarge(
            f"{what} declares {w:,} × {h:,} pixels, over the OCR limit of {limits.max_pixels:,} pixels "
            "(a decompression bomb or a scan at an unusable resolution)"
        )
    if w < MIN_SIDE_PX or h < MIN_SIDE_PX:
        raise NotAReport(f"{what} is only {w} × {h} pixels: too small to hold a report or a table")
    return w, h


def _open(data: bytes, what: str):  # type: ignore[no-untyped-def]
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError as exc:
        raise UnsupportedFormat(f"{what} is not a PNG or JPEG image") from exc
    except Image.DecompressionBombError as exc:
        raise DocumentTooLarge(f"{what} is a decompression bomb: {exc}") from exc
    except Exception as exc:  # a damaged header
        raise CorruptDocument(f"{what} is damaged: {type(exc).__name__}: {exc}") from exc
    if img.format not in ("PNG", "JPEG", "MPO"):
        raise UnsupportedFormat(f"{what} is a {img.format} image; only PNG and JPEG pictures are read")
    return img


def decode_image(data: bytes, limits: Limits, what: str = "the image") -> np.ndarray:
    """PNG or JPEG bytes → a BGR array; typed errors for bombs, damage and other formats."""
    check_image(data, limits, what)
    img = _open(data, what)

    try:
        with _no_bomb_check():
            img.load()
    except Exception as exc:  # truncated or damaged pixel data
        raise CorruptDocument(f"{what} is damaged or truncated: {type(exc).__name__}: {exc}") from exc
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    arr = np.asarray(img)
    if arr.ndim == 3:
        arr = arr[:, :, ::-1].copy()  # RGB → BGR, what OpenCV expects
    return arr


class _no_bomb_check:
    """Our own pixel limit was checked; PIL's warning threshold (89 Mpx) is not needed on top."""

    def __enter__(self) -> None:
        from PIL import Image

        self._old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None

    def __exit__(self, *exc: object) -> None:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = self._old


@dataclass
class Rendered:
    page: int
    image: np.ndarray
    scale: float  # PDF points per pixel
    height_pt: float
    width_pt: float


def pdf_page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:
        raise CorruptDocument(f"the PDF cannot be rendered for OCR: {exc}") from exc
    try:
        return len(pdf)
    finally:
        pdf.close()


MAX_NATIVE_DPI = 300
"""A scanned page is rendered at its picture's own resolution when that is finer than `Limits.dpi`
(resampling a 300-dpi scan down thins its rulings away), up to this."""


def _native_dpi(page) -> float | None:  # type: ignore[no-untyped-def]
    """The resolution of the largest picture on the page (pixels per inch as placed), if any."""
    import pypdfium2 as pdfium

    best = None
    try:
        for obj in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
            w_px, _ = obj.get_px_size()
            left, _, right, _ = obj.get_bounds()
            if right - left > 72 and w_px > 0:
                dpi = w_px / ((right - left) / 72)
                best = dpi if best is None else max(best, dpi)
    except Exception:  # noqa: BLE001 - a picture PDFium cannot describe: the default resolution
        return None
    return best


def render_pages(data: bytes, pages: list[int], limits: Limits, dpi: int | None = None) -> Iterator[Rendered]:
    """Render the given 1-based pages at `dpi` (default `limits.dpi`, or the page picture's own
    resolution up to MAX_NATIVE_DPI when finer), grayscale kept as BGR."""
    import pypdfium2 as pdfium

    fixed = dpi
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:
        raise CorruptDocument(f"the PDF cannot be rendered for OCR: {exc}") from exc
    try:
        if len(pages) > limits.max_pages:
            raise DocumentTooLarge(
                f"{len(pages):,} pages need OCR, over the limit of {limits.max_pages} pages per report"
            )
        for n in pages:
            page = pdf[n - 1]
            w_pt, h_pt = page.get_size()
            dpi = fixed or limits.dpi
            if fixed is None and (native := _native_dpi(page)) is not None and native > dpi * 1.1:
                dpi = min(MAX_NATIVE_DPI, round(native))
            scale = dpi / 72
            if w_pt * h_pt * scale * scale > limits.max_pixels:
                scale = (limits.max_pixels / max(w_pt * h_pt, 1.0)) ** 0.5
                if scale * 72 < 100:
                    raise DocumentTooLarge(
                        f"page {n} is {w_pt:.0f} × {h_pt:.0f} points: too large to render at a resolution "
                        f"that reads digits within {limits.max_pixels:,} pixels"
                    )
            bitmap = page.render(scale=scale)
            arr = bitmap.to_numpy()
            img = arr[:, :, :3].copy() if arr.ndim == 3 else arr.copy()
            if bitmap.format in (pdfium.raw.FPDFBitmap_BGRA, pdfium.raw.FPDFBitmap_BGRx, pdfium.raw.FPDFBitmap_BGR):
                pass  # already BGR
            elif img.ndim == 3:
                img = img[:, :, ::-1].copy()
            page.close()
            yield Rendered(n, img, 1 / scale, h_pt, w_pt)
    finally:
        pdf.close()
