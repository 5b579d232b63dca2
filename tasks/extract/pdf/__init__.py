"""PDF reader: pdfminer.six characters and ruling lines into a `Document` (paragraphs and tables).

Split the way pdfplumber splits its table pipeline:

- `miner` is the only module that talks to pdfminer: bytes → one `PageContent` (characters,
  ruling edges, pictures as plain numbers) per page; pdfminer's failures on the bytes are
  `CorruptDocument` / `EncryptedDocument` there and nowhere else;
- `geometry` is pure: ruling segments → edges (snapped, joined) → cells (the smallest rectangle
  whose four corners are connected intersections) → grids (cells sharing corners) → rows (the
  bands between a grid's horizontal boundaries; a cell sits in the first band it covers, with its
  `rowspan`); characters go to the cell holding their centre and read as lines joined by "\\n";
- `unruled` reads characters outside ruled grids: visual lines, runs of lines that look like a
  table become positioned `Table` blocks, labels wrapped around their numbers attach to them;
- `tolerances` holds every tolerance and bound in one frozen `TableSettings`.

This module strings them together page by page, after cheap checks that keep noise away from the
table work: a blank page (nothing visible) is counted and skipped, a page carrying more than
`max_page_chars` characters is noise and skipped, characters smaller than `min_char_size` are
dropped, and pages after `max_pages` are not read. A bug in the geometry is an ordinary exception
(the caller's internal error), never a "damaged file".
"""

from __future__ import annotations

import logging
from itertools import islice

from tasks.errors import CorruptDocument
from tasks.extract.model import Block, Document, Figure
from tasks.extract.pdf.geometry import Char, PageContent, find_grids, grid_to_table, place_chars
from tasks.extract.pdf.miner import iter_pages
from tasks.extract.pdf.tolerances import SETTINGS, TableSettings
from tasks.extract.pdf.unruled import make_text_lines, text_blocks

log = logging.getLogger(__name__)

__all__ = ["SETTINGS", "Char", "PageContent", "TableSettings", "page_blocks", "read_pdf"]


def page_blocks(content: PageContent, page: int, s: TableSettings = SETTINGS) -> list[Block]:
    """All blocks of one page in reading order (top to bottom)."""
    grids = find_grids(content.h_edges, content.v_edges, s, content.chars)
    free = place_chars(grids, content.chars) if grids else content.chars
    keyed: list[tuple[float, Block]] = [(g.ys[-1], grid_to_table(g, page, s)) for g in grids]
    keyed.extend(text_blocks(make_text_lines(free, s), page, s))
    keyed.extend((f[3], Figure(page=page, bbox=f)) for f in content.figures)
    keyed.sort(key=lambda kb: -kb[0])
    return [b for _, b in keyed]


def _noise(content: PageContent, page: int, s: TableSettings) -> str | None:
    """Why a page is skipped before any table work, or None to read it. Drops unreadably small
    characters from `content` in place."""
    if content.noise is not None:
        log.warning("page %d is noise (%s): skipped", page, content.noise)
        return "noise"
    if any(c.size < s.min_char_size for c in content.chars):
        content.chars = [c for c in content.chars if c.size >= s.min_char_size]
    visible = sum(1 for c in content.chars if c.text.strip())
    if visible > s.max_page_chars:
        log.warning("page %d carries %d characters (over %d): noise, skipped", page, visible, s.max_page_chars)
        return "noise"
    if not visible and not content.figures and not content.has_big_image:
        return "blank"
    return None


def read_pdf(data: bytes, s: TableSettings = SETTINGS) -> Document:
    """Read a PDF into paragraphs and tables in reading order (see the module docstring).

    Raises EncryptedDocument for a PDF that needs a password, CorruptDocument for bytes pdfminer
    cannot parse; anything else raised here is a bug of the reader.
    """
    if b"%PDF" not in data[:1024]:
        raise CorruptDocument("the file has no PDF header")
    doc = Document(media="pdf", blocks=[], pages=0)
    n = 0
    for n, content in enumerate(islice(iter_pages(data, s), s.max_pages + 1), start=1):
        if n > s.max_pages:
            n -= 1
            doc.pages_unread = True
            log.warning("the PDF has more than %d pages: pages after %d are not read", s.max_pages, s.max_pages)
            break
        if _noise(content, n, s) is not None:
            doc.skipped_pages += 1
            continue
        doc.blocks.extend(page_blocks(content, n, s))
        visible = sum(1 for c in content.chars if c.text.strip())
        if content.has_big_image and visible <= s.image_page_max_chars:
            doc.image_pages.add(n)
    if n == 0:
        raise CorruptDocument("the PDF has no pages")
    doc.pages = n
    log.debug("read_pdf: %d pages (%d skipped), %d blocks", n, doc.skipped_pages, len(doc.blocks))
    return doc
