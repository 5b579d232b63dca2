"""Control characters out of a document's text, before it is read as a report.

A file may carry characters no reader of the outputs should receive: NUL and the other C0/C1
controls (a NUL inside an agency name reached the parquet and the quality pages as a raw byte),
lone UTF-16 surrogates (which no UTF-8 writer accepts), bidirectional overrides and isolates
(which make a name display as something else), invisible format characters (zero-width spaces,
joiners, word joiners, BOMs inside the text: the same agency name with one would get another
agency id) and the two noncharacters U+FFFE/U+FFFF. They are removed from every paragraph and
table cell of the `Document`, so the title, the agency, the cells' raw text and the sections are
clean and the report is read as it displays. Whitespace controls (vertical tab, form feed, the
information separators, NEL) are layout: each becomes a space and is not counted.

`clean_document` says how many it removed and where; extraction records it as a CTRL-01 issue.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tasks.extract.model import Document, Paragraph, Table

RULE = "CTRL-01"

_REMOVED = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f\x80-\x84\x86-\x9f\ud800-\udfff\u200b-\u200d\u2060\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]"
)
_AS_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85]")
_ANY = re.compile(_REMOVED.pattern[:-1] + "\x0b\x0c\x1c-\x1f\x85]")


def clean_text(text: str) -> tuple[str, Counter[str]]:
    """`text` without control characters, and what was removed (by character)."""
    if text.startswith("\ufeff"):  # a byte order mark left at the start: an encoding artefact, not content
        text = text[1:]
    if not _ANY.search(text):
        return text, Counter()
    removed = Counter(_REMOVED.findall(text))
    return _AS_SPACE.sub(" ", _REMOVED.sub("", text)), removed


def char_name(ch: str) -> str:
    return f"U+{ord(ch):04X}"


@dataclass
class Cleaning:
    removed: Counter[str] = field(default_factory=Counter)
    paragraphs: int = 0
    cells: int = 0

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def summary(self) -> str:
        chars = ", ".join(f"{char_name(ch)} ×{n}" for ch, n in self.removed.most_common(6))
        more = ", …" if len(self.removed) > 6 else ""
        return (f"{self.total} control or invisible character(s) removed from the document's text "
                f"({chars}{more}) in {self.paragraphs} paragraph(s) and {self.cells} table cell(s)")  # fmt: skip


def clean_document(doc: Document) -> Cleaning:
    """Remove control characters from every paragraph and table cell of `doc`, in place."""
    out = Cleaning()
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            block.text, removed = clean_text(block.text)
            if removed:
                out.removed.update(removed)
                out.paragraphs += 1
        elif isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    cell.text, removed = clean_text(cell.text)
                    if removed:
                        out.removed.update(removed)
                        out.cells += 1
    return out
