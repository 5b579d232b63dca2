"""Typed, frozen building blocks of the table spec.

Everything here is data: the parser, the Great Expectations suites, the parquet
schemas and the data dictionary are derived from instances of these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FormatVersion = Literal["2019", "2021"]
Unit = Literal["件", "项", "万元", "元"]
Kind = Literal["count", "signed", "amount"]
"""`count`: int >= 0; `signed`: int, may be negative (本年增/减); `amount`: decimal >= 0."""

VALUE_PRECISION = 18
VALUE_SCALE = 4
"""Every value is published exactly as decimal128(VALUE_PRECISION, VALUE_SCALE) (the cells' `value`,
amounts in the wide views) or int64 (counts in the wide views): at most 14 digits before the
decimal point and 4 after it. A printed number beyond that is published as text (`out_of_range`)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # printed label (first alias is the official one)
    unit: Unit
    kind: Kind = "count"
    aliases: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class Row:
    key: str
    label: str  # printed label, exact as in the official template
    group: str | None = None  # printed group label the row sits under, e.g. （三）不予公开
    aliases: tuple[str, ...] = ()
    formats: tuple[FormatVersion, ...] = ("2019", "2021")

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class Block:
    """A captioned block of table 2 (第二十条第（一）项 …): its rows share value columns."""

    key: str
    caption: str
    rows: tuple[Row, ...]
    columns: dict[FormatVersion, tuple[Column, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """An arithmetic rule of spec §6, stated over canonical keys.

    `description` is the English statement (spec §6); `title` and `text` are the Chinese short name
    and statement the quality pages show (the English kept as their second line).
    """

    id: str
    severity: Literal["error", "warn", "info"]
    description: str
    title: str = ""
    text: str = ""
