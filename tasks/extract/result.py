"""The extraction result: the `xxgk extract` JSON contract of spec §10, as typed records."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tasks.extract.model import BBox
from tasks.extract.values import Number

EXTRACTOR_VERSION = "0.1.0"


@dataclass
class CellRecord:
    table: str
    block: str | None
    row: str
    col: str
    value: Number | None
    status: str
    raw: str | None
    page: int | None
    unit: str
    bbox: BBox | None = None
    source_kind: str | None = None
    """How the cell was read: "text" (a text layer or markup), "ocr" (a picture); None when not found."""
    confidence: float | None = None
    """OCR cells: the engine's confidence in [0, 1] (lowest over the cell's text boxes)."""

    def to_dict(self) -> dict[str, Any]:
        value: Any = self.value
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
        return {
            "table": self.table,
            "block": self.block,
            "row": self.row,
            "col": self.col,
            "value": value,
            "status": self.status,
            "raw": self.raw,
            "page": self.page,
            "unit": self.unit,
            "bbox": [round(v, 2) for v in self.bbox] if self.bbox else None,
            "source_kind": self.source_kind,
            "confidence": round(self.confidence, 4) if self.confidence is not None else None,
        }


@dataclass
class Issue:
    rule: str
    severity: str
    message: str
    cells: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "severity": self.severity, "message": self.message}
        if self.cells:
            out["cells"] = self.cells
        return out


@dataclass
class Extraction:
    agency: str | None
    year: int | None
    format_version: str
    media: str
    cells: list[CellRecord]
    issues: list[Issue]
    sections: dict[str, str]
    pages: int
    sha256: str
    source: str | None = None
    extractor_version: str = EXTRACTOR_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "year": self.year,
            "format_version": self.format_version,
            "media": self.media,
            "source": self.source,
            "sha256": self.sha256,
            "pages": self.pages,
            "extractor_version": self.extractor_version,
            "cells": [c.to_dict() for c in self.cells],
            "issues": [i.to_dict() for i in self.issues],
            "sections": self.sections,
        }
