"""The only module that talks to pdfminer.six: bytes → one `PageContent` per page.

Each page is interpreted once without layout analysis (pdfminer's text-flow order runs down table
columns: spec §7 V1, §8); its characters, ruling segments and pictures are copied out as plain
numbers. Every failure of pdfminer on the bytes (PDF syntax, damaged streams, reference loops,
odd objects it hands back) is a `CorruptDocument` or `EncryptedDocument` here; nothing after
this module can raise one for a page it could not read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tasks.errors import CorruptDocument, EncryptedDocument, XxgkError
from tasks.extract.pdf.geometry import Char, PageContent, Segment, rect_segments, segments_to_edges
from tasks.extract.pdf.tolerances import SETTINGS, TableSettings

if TYPE_CHECKING:
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser


def page_content(layout: object, s: TableSettings = SETTINGS) -> PageContent:
    """Characters, ruling edges and pictures of one pdfminer LTPage."""
    from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage, LTLine, LTRect

    chars: list[Char] = []
    segments: list[Segment] = []
    big_image = False
    figures: list[tuple[float, float, float, float]] = []
    px0, py0, px1, py1 = layout.bbox  # type: ignore[attr-defined]
    page_area = max((px1 - px0) * (py1 - py0), 1.0)

    stack: list[object] = list(layout)  # type: ignore[call-overload]
    while stack:
        o = stack.pop()
        if isinstance(o, LTChar):
            t = o.get_text()
            if t:
                chars.append(Char(t, o.x0, o.y0, o.x1, o.y1, o.size or (o.y1 - o.y0)))
        elif isinstance(o, LTRect):
            segments.extend(rect_segments(o.x0, o.y0, o.x1, o.y1, bool(o.stroke), s))
        elif isinstance(o, LTLine):
            (ax, ay), (bx, by) = o.pts[0], o.pts[-1]
            segments.append((ax, ay, bx, by))
        elif isinstance(o, LTCurve):
            pts = o.pts
            segments.extend((pts[i][0], pts[i][1], pts[i + 1][0], pts[i + 1][1]) for i in range(len(pts) - 1))
        elif isinstance(o, LTImage):
            area = (o.x1 - o.x0) * (o.y1 - o.y0)
            if area >= s.figure_min_area_ratio * page_area:
                figures.append((o.x0, o.y0, o.x1, o.y1))
            if area >= s.image_min_area_ratio * page_area:
                big_image = True
        elif isinstance(o, LTContainer):
            stack.extend(o)
    h, v = segments_to_edges(segments, s)
    return PageContent(chars, h, v, big_image, figures)


class _Crowded(Exception):  # a signal out of pdfminer's interpreter, not an error
    """A page drew more characters than the reader reads on one page."""


def _safe_document(parser: PDFParser) -> PDFDocument:
    """A pdfminer PDFDocument whose object lookups refuse reference loops (`4 0 obj 4 0 R endobj`,
    or 4 → 5 → 4): pdfminer's `resolve1` would follow such a chain forever."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdftypes import PDFObjRef

    class SafeDocument(PDFDocument):
        def getobj(self, objid: int) -> object:
            obj = super().getobj(objid)
            seen = {objid}
            while isinstance(obj, PDFObjRef):
                if obj.objid in seen:
                    raise CorruptDocument(
                        f"the PDF is damaged: object {objid} refers to itself through a loop of references"
                    )
                seen.add(obj.objid)
                obj = super().getobj(obj.objid)
            return obj

    return SafeDocument(parser)


def _damage(data: bytes, exc: Exception) -> str:
    """Why pdfminer failed, in an operator's words (a truncated upload is the common case)."""
    if isinstance(exc, RecursionError):
        what = "its objects or cross-reference tables loop or nest too deeply"
    else:
        what = f"{type(exc).__name__}: {exc}"
    if b"%%EOF" not in data[-2048:]:
        return f"the PDF is truncated or damaged (no %%EOF marker at its end; upload the complete file again): {what}"
    return f"the PDF is damaged and cannot be parsed ({what})"


def iter_pages(data: bytes, s: TableSettings = SETTINGS) -> Iterator[PageContent]:
    """One `PageContent` per page, in order; pdfminer's errors mapped to ours.

    MemoryError is not a property of the file's format: it propagates (the caller reports the
    resource limit). The consumer's own errors never pass through here: the generator is
    suspended while the consumer works on a page, and copying a finished page out of pdfminer's
    objects (`page_content`) is outside the guarded calls."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    try:
        parser = PDFParser(io.BytesIO(data))
        doc = _safe_document(parser)
    except PDFPasswordIncorrect as exc:
        raise EncryptedDocument("the PDF is password protected: it cannot be opened without its password") from exc
    except PDFEncryptionError as exc:
        raise EncryptedDocument(f"the PDF is password protected with an unsupported encryption: {exc}") from exc
    except (XxgkError, MemoryError):
        raise
    except Exception as exc:  # any parser failure on bad bytes is a corrupt document
        raise CorruptDocument(_damage(data, exc)) from exc

    class CountingAggregator(PDFPageAggregator):
        """Stops interpreting a page once it has drawn more than `max_page_chars` characters: such a
        page is noise, and pdfminer would spend tens of seconds on it (200,000 glyphs)."""

        drawn = 0

        def begin_page(self, page: object, ctm: object) -> None:
            self.drawn = 0
            self._stack = []  # a page abandoned inside a figure leaves its stack behind
            super().begin_page(page, ctm)  # type: ignore[arg-type]

        def render_char(self, *args: object, **kwargs: object) -> float:
            self.drawn += 1
            if self.drawn > s.max_page_chars:
                raise _Crowded
            return super().render_char(*args, **kwargs)  # type: ignore[arg-type]

    rsrc = PDFResourceManager(caching=True)
    device = CountingAggregator(rsrc, laparams=None)
    interpreter = PDFPageInterpreter(rsrc, device)
    pages = PDFPage.create_pages(doc)
    while True:
        try:
            page = next(pages, None)
            if page is None:
                return
            try:
                interpreter.process_page(page)
            except _Crowded:
                yield PageContent([], [], [], False, [], noise=f"more than {s.max_page_chars:,} characters")
                continue
            layout = device.get_result()
        except (XxgkError, MemoryError):
            raise
        except PDFPasswordIncorrect as exc:
            raise EncryptedDocument("the PDF is password protected: it cannot be opened without its password") from exc
        except Exception as exc:  # pdfminer failing on the page's bytes
            raise CorruptDocument(_damage(data, exc)) from exc
        yield page_content(layout, s)  # our code from here on: its bugs are not the file's
