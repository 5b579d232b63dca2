"""OCR where it is needed, and only there: scanned PDF pages, pictures standing where a statistical
table should be (PDF, DOCX, HTML data: URIs), and PNG/JPEG uploads.

`complete(doc, data, options)` returns the document with those pictures replaced, in place, by the
blocks the OCR reader made of them, and the `OcrPage`s the referee needs (`ocr_referee.referee`).
Nothing here runs when a document has no such picture: a text report costs no OCR.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field

from tasks.errors import CorruptDocument, DocumentTooLarge, NotAReport, UnsupportedFormat
from tasks.extract.model import Block, Document, Figure, Paragraph, Table
from tasks.extract.ocr_images import Limits, decode_image, render_pages
from tasks.extract.ocr_reader import OcrPage, ocr_image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OcrOptions:
    """How OCR runs (from `tasks.settings.OcrSettings`; pure code never reads the environment)."""

    enabled: bool = True
    engine: str = "rapidocr"
    confirm_engine: str | None = "tesseract"
    """Second reading of a cell no identity confirms: another engine on the cell's crop (None: the
    same engine on the crop at another resolution)."""
    threads: int = 0
    limits: Limits = field(default_factory=Limits)


@dataclass
class OcrRun:
    pages: list[OcrPage] = field(default_factory=list)
    options: OcrOptions = field(default_factory=OcrOptions)
    refused: list[str] = field(default_factory=list)
    """Pictures that could not be read (an HTML image behind a URL), for the issues."""


def _engine(options: OcrOptions):  # type: ignore[no-untyped-def]
    from tasks.extract.ocr_engines import get_engine

    return get_engine(options.engine, options.threads)


def read_image_upload(data: bytes, options: OcrOptions) -> tuple[Document, OcrRun]:
    """A PNG/JPEG upload: one picture of a page (or of a table)."""
    img = decode_image(data, options.limits, "the uploaded image")
    blocks, page = ocr_image(img, _engine(options), 1)
    page.whole_page = True
    return Document(media="image", blocks=blocks, pages=1), OcrRun([page], options)


def _section_span(doc: Document) -> tuple[int, int]:
    """Block indices from the section-二 heading to the section-五 heading: where the tables are."""
    from tasks.extract.report import find_headings

    heads = find_headings(doc)
    start = next((h.block for h in heads if h.section == 2), 0)
    end = next((h.block for h in heads if h.section >= 5), len(doc.blocks))
    return start, end


def complete(doc: Document, data: bytes, options: OcrOptions) -> tuple[Document, OcrRun | None]:
    if not options.enabled:
        return doc, None
    run = OcrRun(options=options)
    if doc.media == "pdf" and doc.image_pages:
        _ocr_pdf_pages(doc, data, sorted(doc.image_pages), run)
    start, end = _section_span(doc)
    figures = [i for i, b in enumerate(doc.blocks) if isinstance(b, Figure) and start <= i < end]
    if doc.media == "pdf":
        figures = [i for i in figures if doc.blocks[i].page not in doc.image_pages]
    if figures:
        _ocr_figures(doc, data, figures, run)
    return doc, (run if run.pages or run.refused else None)


def _ocr_pdf_pages(doc: Document, data: bytes, pages: list[int], run: OcrRun) -> None:
    if len(pages) > run.options.limits.max_pages:
        raise DocumentTooLarge(
            f"{len(pages):,} scanned pages need OCR, over the limit of {run.options.limits.max_pages} pages "
            "per report (XXGK_OCR_MAX_PAGES)"
        )
    engine = _engine(run.options)
    by_page: dict[int, list[Block]] = {}
    for r in render_pages(data, pages, run.options.limits):
        blocks, page = ocr_image(r.image, engine, r.page, r.scale)
        page.whole_page = True
        by_page[r.page] = blocks
        run.pages.append(page)
    out: list[Block] = []
    done: set[int] = set()
    for b in doc.blocks:
        p = getattr(b, "page", None)
        if p in by_page:
            if p not in done:
                out.extend(by_page[p])
                done.add(p)
            continue
        out.append(b)
    for p in pages:  # an image page with no block at all (no text, a picture under the size of a Figure)
        if p not in done:
            out.extend(by_page[p])
    if done != set(pages):
        out.sort(key=lambda b: getattr(b, "page", 0) or 0)
    doc.blocks = out


def _ocr_figures(doc: Document, data: bytes, indices: list[int], run: OcrRun) -> None:
    engine = _engine(run.options)
    replaced: dict[int, list[Block]] = {}
    for k, i in enumerate(indices):
        fig = doc.blocks[i]
        assert isinstance(fig, Figure)
        if doc.media == "pdf" and fig.bbox is not None and fig.page is not None:
            x0, y0, x1, y1 = fig.bbox
            r = next(render_pages(data, [fig.page], run.options.limits))
            s = 1 / r.scale  # pixels per point
            top = r.height_pt - y1
            crop = r.image[max(0, int(top * s)) : int((r.height_pt - y0) * s), max(0, int(x0 * s)) : int(x1 * s)]
            if crop.size == 0:
                continue
            blocks, page = ocr_image(crop, engine, fig.page, r.scale, origin=(x0, y1))
        else:
            img_bytes = _figure_bytes(doc, data, fig, run)
            if img_bytes is None:
                continue
            try:
                img = decode_image(img_bytes, run.options.limits, "a picture in the document")
            except (NotAReport, UnsupportedFormat, CorruptDocument) as exc:
                run.refused.append(str(exc))
                continue
            # each picture of a DOCX/HTML gets its own band of coordinates so its cells stay apart
            blocks, page = ocr_image(img, engine, None, origin=(0.0, -100_000.0 * k - 1.0))
        replaced[i] = [*blocks, fig]  # the Figure stays: a table OCR cannot read is still image_only
        run.pages.append(page)
    if replaced:
        out: list[Block] = []
        for i, b in enumerate(doc.blocks):
            out.extend(replaced.get(i, [b]))
        doc.blocks = out


_DATA_URI = re.compile(r"^data:image/(?:png|jpe?g);base64,", re.IGNORECASE)


def _figure_bytes(doc: Document, data: bytes, fig: Figure, run: OcrRun) -> bytes | None:
    ref = fig.ref
    if not ref:
        return None
    if doc.media == "html":
        m = _DATA_URI.match(ref.strip())
        if not m:
            run.refused.append(f"picture {ref[:80]!r} is not embedded in the page (only data: URIs are read offline)")
            return None
        b64 = ref.strip()[m.end() :]
        if len(b64) > run.options.limits.max_pixels:  # far more bytes than any sane picture
            raise DocumentTooLarge("an embedded picture is larger than the OCR limit")
        try:
            return base64.b64decode(b64, validate=False)
        except (binascii.Error, ValueError):
            run.refused.append("an embedded picture's data: URI does not decode")
            return None
    if doc.media == "docx":
        from tasks.extract.docx import picture_bytes

        return picture_bytes(data, ref, max_bytes=run.options.limits.max_pixels)
    return None


def text_of(blocks: list[Block]) -> str:
    return "\n".join(b.text if isinstance(b, Paragraph) else "<table>" for b in blocks if isinstance(b, Paragraph | Table))
