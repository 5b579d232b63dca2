"""The one intermediate every reader produces, and table location consumes.

A reader turns bytes into a `Document`: the report's content in reading order as
paragraphs and tables. A `Table` is a list of logical rows; each row lists its cells left
to right. Horizontal positions (`x0`, `x1`) are in the reader's own coordinate system:
PDF points for PDFs, grid column indices `[c, c + colspan)` for HTML and DOCX. Plain text
copied from a web page has no positions (`Table.positioned` is False): its cells are only
in order.

Conventions every reader follows:
- a cell spanning several rows (rowspan, vMerge, a merged PDF cell) appears once, in the
  first row it covers, with `rowspan` set;
- an empty cell is kept as a cell with `text == ""` wherever the medium shows it (an empty
  <td>, an empty DOCX cell, an empty PDF grid cell, an empty line inside a text table row),
  so a blank value keeps its column;
- `text` keeps line breaks inside a cell as "\n" (a label wrapped in a narrow cell, or a
  number wrapped in one: "2631\n2" reads 26312) in top-to-bottom order;
- page numbers are 1-based; `bbox` is (x0, y0, x1, y1) in PDF points, y up, when known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Media = str  # "pdf" | "html" | "docx" | "text"
BBox = tuple[float, float, float, float]


@dataclass
class Cell:
    text: str
    x0: float = 0.0
    x1: float = 0.0
    page: int | None = None
    bbox: BBox | None = None
    rowspan: int = 1


@dataclass
class TableRow:
    cells: list[Cell]
    page: int | None = None
    empty: bool = False
    """The reader vouches that the row prints nothing right of its label (an unruled PDF table's
    label printed alone in its band): its value cells are printed blanks."""


@dataclass
class Table:
    rows: list[TableRow]
    positioned: bool = True
    page: int | None = None


@dataclass
class Paragraph:
    text: str
    page: int | None = None
    run: int | None = None
    """Text in reading order (a PDF viewer's copy): the run of lines printed without a blank line
    between them that this line belongs to, i.e. the text block the viewer read it in."""


@dataclass
class Figure:
    """A picture in the flow of the document: where a table printed as an image would be (V10)."""

    page: int | None = None
    bbox: BBox | None = None
    ref: str | None = None
    """Where the picture's bytes are: a DOCX relationship id, an HTML <img> src (OCR reads them)."""


Block = Paragraph | Table | Figure


@dataclass
class Document:
    media: Media
    blocks: list[Block] = field(default_factory=list)
    pages: int = 1
    image_pages: set[int] = field(default_factory=set)
    """Pages that carry a large picture and (almost) no text: scanned pages."""
    skipped_pages: int = 0
    """Pages the reader skipped before any table work (blank, or noise such as a page-sized grid of
    digits): not counted as pages without a text layer."""
    pages_unread: bool = False
    """The document has more pages than the reader reads (PDF: `TableSettings.max_pages`)."""

    @property
    def text_chars(self) -> int:
        n = 0
        for b in self.blocks:
            if isinstance(b, Paragraph):
                n += len(b.text.strip())
            elif isinstance(b, Table):
                n += sum(len(c.text.strip()) for r in b.rows for c in r.cells)
        return n
