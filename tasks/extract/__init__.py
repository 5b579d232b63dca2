"""Extraction: bytes in, the cells of the three statistical tables out (spec §10).

Pure: no Prefect, boto3 or Great Expectations here. `extract_bytes` is the one entry point
the CLI, the flows and the tests share; it returns an `Extraction` or raises one of the
typed errors of `tasks.errors`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from tasks.errors import CorruptDocument, DocumentTooLarge, ResourceLimitExceeded, XxgkError
from tasks.extract.clean import RULE as CTRL_RULE
from tasks.extract.clean import clean_document
from tasks.extract.model import Document
from tasks.extract.report import understand
from tasks.extract.result import Extraction, Issue
from tasks.extract.sniff import sniff
from tasks.redact import redact_location

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 2**20


def read_document(data: bytes) -> Document:
    """Sniff the medium from the bytes and run its reader."""
    media = sniff(data)
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


def extract_bytes(data: bytes, source: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Extraction:
    """Extract one report from its bytes; `source` (a path or object key) is recorded, never trusted."""
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes")
    try:
        doc = read_document(data)
        cleaning = clean_document(doc)
        found = understand(doc)
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


def extract_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Extraction:
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise DocumentTooLarge(f"{p.name} is {size:,} bytes, over the limit of {max_bytes:,} bytes")
    return extract_bytes(p.read_bytes(), source=str(path), max_bytes=max_bytes)


__all__ = ["extract_bytes", "extract_path", "read_document", "Extraction"]
