"""The table spec as data: one definition of every table, row, column, unit and rule.

`cell_keys(layout)` lists every cell a report of that layout carries; the parser, the
Great Expectations suites, the parquet schemas and the data dictionary derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.spec import t2, t3, t4
from tasks.spec.model import Column, Kind, Row, Unit
from tasks.spec.rules import RULES, RULES_BY_ID
from tasks.spec.sections import SECTIONS

LAYOUTS: tuple[str, ...] = ("2021", "2021_mixed", "2019")
"""Table layouts a report can be printed in; `format_version` is one of these or `unknown`."""

TABLES: tuple[str, ...] = ("t2", "t3", "t4")


@dataclass(frozen=True)
class CellKey:
    table: str
    block: str | None
    row: str
    col: str
    unit: Unit
    kind: Kind


def base_format(layout: str) -> str:
    """`2021_mixed` is the 2021 format with the 2019 （六） row: its table 2 is 2021's."""
    return "2019" if layout == "2019" else "2021"


def t2_cells(fmt: str) -> list[CellKey]:
    out = []
    for block in t2.BLOCKS:
        for row in block.rows:
            if fmt not in row.formats:
                continue
            for col in block.columns.get(fmt, ()):
                out.append(CellKey("t2", block.key, row.key, col.key, col.unit, col.kind))
    return out


def t3_cells(layout: str) -> list[CellKey]:
    rows = list(t3.rows_for(layout))
    if layout == "2021_mixed":  # the three （六） leaves are listed (as not_found) beside other_total
        rows = [r for r in t3.ROWS if r.key in {x.key for x in rows} or r.key in t3.OTHER_LEAVES]
    return [CellKey("t3", None, r.key, c.key, c.unit, c.kind) for r in rows for c in t3.COLUMNS]


def t4_cells() -> list[CellKey]:
    return [CellKey("t4", None, r.key, c.key, c.unit, c.kind) for r in t4.ROWS for c in t4.COLUMNS]


def cell_keys(layout: str) -> list[CellKey]:
    """Every cell of a report printed in `layout`, in table order."""
    return t2_cells(base_format(layout)) + t3_cells(layout) + t4_cells()


def all_cell_keys() -> list[CellKey]:
    """The union over layouts, each (table, row, col) once: the canonical key set of spec §5.2."""
    seen: dict[tuple[str, str, str], CellKey] = {}
    for layout in LAYOUTS:
        for k in cell_keys(layout):
            seen.setdefault((k.table, k.row, k.col), k)
    return list(seen.values())


__all__ = [
    "LAYOUTS",
    "RULES",
    "RULES_BY_ID",
    "SECTIONS",
    "TABLES",
    "CellKey",
    "Column",
    "Row",
    "all_cell_keys",
    "base_format",
    "cell_keys",
    "t2",
    "t3",
    "t4",
]
