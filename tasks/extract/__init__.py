"""Extraction: bytes in, the cells of the three statistical tables out (spec §10).

Pure: no Prefect, boto3 or Great Expectations here. `extract_bytes` is the one entry point
the CLI, the flows and the tests share; it returns an `Extraction` or raises one of the
typed errors of `tasks.errors`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from tasks.errors import (
    CorruptDocument,
    DocumentTooLarge,
    NotAReport,
    ResourceLimitExceeded,
    ScannedDocument,
    TableNotFound,
    XxgkError,
)
from tasks.extract.clean import RULE as CTRL_RULE, clean_document
from tasks.extract.model import Document
from tasks.extract.ocr import OcrOptions, OcrRun
from tasks.extract.report import Understood, understand
from tasks.extract.result import Extraction, Issue
from tasks.extract.sniff import sniff
from tasks.redact import redact_location

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 2**20


def read_document(data: bytes) -> Document:
    """Sniff the medium from the bytes and run its reader (an image upload is read by `extract_bytes`)."""
    media = sniff(data)
    if media == "image":
        from tasks.extract.ocr_images import Limits, check_image

        w, h = check_image(data, Limits(), "the uploaded image")
        raise ScannedDocument(f"the upload is a {w} × {h} picture (PNG/JPEG): it needs OCR")
    if media == "pdf":
        from tasks.extract.pdf import read_pdf

        return read_pdf(data)
    if media == "docx":
        from tasks.extract.docx import read_docx

        return read_docx(data)
    if media == "html":
        from tasks.extract.html import read_html

        return read_html(data)
    from tasks.extract.text import read_text

    return read_text(data)


def extract_bytes(
    data: bytes, source: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES, ocr: OcrOptions | None = None
) -> Extraction:
    """Extract one report from its bytes; `source` (a path or object key) is recorded, never trusted.

    `ocr` (`tasks.settings.OcrSettings.options()` in the CLI and the pipeline) reads scanned pages,
    pictures of tables and image uploads (`tasks.extract.ocr`); without it (None, the pure default)
    they stay ScannedDocument / image_only."""
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes")
    ocr = ocr if ocr is not None else OcrOptions(enabled=False)
    try:
        doc, run = _read_with_ocr(data, ocr)
        cleaning = clean_document(doc)
        found = _understand_ocr(doc, run)
    except XxgkError:
        raise
    except RecursionError as exc:
        raise CorruptDocument("the document's structure nests or loops too deeply to parse") from exc
    except MemoryError as exc:  # a decompression bomb, or a memory limit set by the caller (tasks.sandbox)
        raise ResourceLimitExceeded("parsing the file ran out of memory (a decompression bomb or a huge page)") from exc
    issues = found.issues
    if cleaning.total:
        issues = [*issues, Issue(CTRL_RULE, "info", cleaning.summary())]
    return Extraction(
        agency=found.agency,
        year=found.year,
        format_version=found.format_version,
        media=doc.media,
        cells=found.cells,
        issues=issues,
        sections=found.sections,
        pages=doc.pages,
        sha256=hashlib.sha256(data).hexdigest(),
        source=redact_location(source) if source else source,
    )


def _read_with_ocr(data: bytes, ocr: OcrOptions) -> tuple[Document, OcrRun | None]:
    if ocr.enabled and sniff(data) == "image":
        from tasks.extract.ocr import read_image_upload

        return read_image_upload(data, ocr)
    doc = read_document(data)
    if not ocr.enabled:
        return doc, None
    from tasks.extract.ocr import complete

    return complete(doc, data, ocr)


def _understand_ocr(doc: Document, run: OcrRun | None) -> Understood:
    if run is None:
        found = understand(doc)
        for c in found.cells:
            c.source_kind = None if c.status in ("not_found", "image_only") else "text"
        return found
    from tasks.extract.ocr_referee import referee

    try:
        found = understand(doc)
    except (TableNotFound, NotAReport) as exc:
        if doc.media == "image" or (doc.media == "pdf" and doc.image_pages):
            raise ScannedDocument(f"OCR read the scanned page(s) but found no statistical table in them: {exc}") from exc
        raise
    referee(found.cells, found.issues, found.format_version, run)
    return found


def extract_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, ocr: OcrOptions | None = None) -> Extraction:
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise DocumentTooLarge(f"{p.name} is {size:,} bytes, over the limit of {max_bytes:,} bytes")
    return extract_bytes(p.read_bytes(), source=str(path), max_bytes=max_bytes, ocr=ocr)


__all__ = ["Extraction", "OcrOptions", "extract_bytes", "extract_path", "read_document"]
