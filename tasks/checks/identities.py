"""The arithmetic rules of spec §3.4/§4.4 as data, derived from `tasks.spec` (never retyped).

An `Identity` states sum(lhs) = sum(rhs) over cells; a `Bound` states sum(small) ≤ sum(big).
Cells are `(table, row, col)` tuples of canonical keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tasks.spec import t3, t4

Cell = tuple[str, str, str]

T3_TOTAL = t3.COLUMNS[-1].key
T3_COLUMNS: tuple[str, ...] = tuple(c.key for c in t3.COLUMNS)
T4_TOTAL = t4.COLUMNS[-1].key
T4_BLOCKS: tuple[str, ...] = tuple(r.key for r in t4.ROWS)
BALANCE_IN = ("new_received", "carried_over")
BALANCE_OUT = ("total_processed", "carried_forward")
"""一 + 二 = (七) + 四: the first two rows and the last two (total_processed is (七)总计)."""


@dataclass(frozen=True)
class Identity:
    rule: str
    key: str  # the column (T3-H1/H2), row (T3-H3) or block (T4-H1) the identity is about
    lhs: tuple[Cell, ...]
    rhs: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return self.lhs + self.rhs


@dataclass(frozen=True)
class Bound:
    rule: str
    key: str  # "<col>:<row>" the bound is about
    small: tuple[Cell, ...]
    big: tuple[Cell, ...]


def t3_layout(format_version: str) -> str:
    """The table-3 layout of a format version: `2021_mixed` has 2019's single （六） row."""
    return format_version if format_version in ("2019", "2021", "2021_mixed") else "2021"


def t3_row_keys(format_version: str) -> tuple[str, ...]:
    return tuple(r.key for r in t3.rows_for(t3_layout(format_version)))


def result_leaves(format_version: str) -> tuple[str, ...]:
    """Rows summed into (七)总计: 2021 has the three （六） leaves, 2019 and 2021_mixed `other_total`."""
    return t3.RESULT_LEAVES_2021 if t3_layout(format_version) == "2021" else t3.RESULT_LEAVES_2019


def _c3(row: str, col: str) -> Cell:
    return ("t3", row, col)


def _t3_identities(format_version: str) -> list[Identity]:
    leaves = result_leaves(format_version)
    out = []
    for col in T3_COLUMNS:
        out.append(
            Identity("T3-H1", col, tuple(_c3(r, col) for r in BALANCE_IN), tuple(_c3(r, col) for r in BALANCE_OUT))
        )
        out.append(Identity("T3-H2", col, (_c3("total_processed", col),), tuple(_c3(r, col) for r in leaves)))
    for row in t3_row_keys(format_version):
        out.append(Identity("T3-H3", row, (_c3(row, T3_TOTAL),), tuple(_c3(row, c) for c in t3.APPLICANT_COLUMNS)))
    return out


def _t4_identities() -> list[Identity]:
    return [
        Identity("T4-H1", b, (("t4", b, T4_TOTAL),), tuple(("t4", b, p) for p in t4.PARTS)) for b in T4_BLOCKS
    ]


@lru_cache(maxsize=8)
def identities(format_version: str) -> tuple[Identity, ...]:
    """Every hard identity (T3-H1/H2/H3, T4-H1) of a report printed in `format_version`."""
    return tuple(_t3_identities(format_version) + _t4_identities())


@lru_cache(maxsize=8)
def bounds(format_version: str) -> tuple[Bound, ...]:
    """T3-C1: carried_forward ≤ new_received + carried_over; each result row ≤ total_processed."""
    out = []
    for col in T3_COLUMNS:
        out.append(
            Bound("T3-C1", f"{col}:carried_forward", (_c3("carried_forward", col),), tuple(_c3(r, col) for r in BALANCE_IN))
        )
        for row in result_leaves(format_version):
            out.append(Bound("T3-C1", f"{col}:{row}", (_c3(row, col),), (_c3("total_processed", col),)))
    return tuple(out)
