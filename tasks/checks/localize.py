"""Localisation, never correction: which printed cell(s), changed to which value, would make every
identity hold; and whether the failure most likely lies in the source or in extraction.

A single wrong cell (r, c) breaks T3-H3 for row r and T3-H1/H2 for column c; solving the
failing identities for one changed cell pinpoints it (spec §6). Two cells are tried when no
single cell works, and reported only when the pair is the unique solution. Suggestions are
never applied: the published value stays what was printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from tasks.checks.blanks import residual
from tasks.checks.frames import Report
from tasks.checks.identities import Cell, Identity, identities

MAX_PAIR_CANDIDATES = 40
_CLEAN = re.compile(r"^[+-]?\d+(?:\.\d+)?$")

Evaluated = list[tuple[Identity, float]]


@dataclass
class Localisation:
    failing: list[Identity]
    suggestions: dict[Cell, float] = field(default_factory=dict)
    """The unique solution: cell → the value that would satisfy every identity."""
    candidates: list[dict[Cell, float]] = field(default_factory=list)
    """Every solution found; more than one means the failure cannot be pinned to one cell."""

    @property
    def unique(self) -> bool:
        return bool(self.suggestions)


def _coef(ident: Identity, cell: Cell) -> int:
    return (1 if cell in ident.lhs else 0) - (1 if cell in ident.rhs else 0)


def _valid(value: float, delta: float) -> bool:
    new = value + delta
    return new >= 0 and float(new).is_integer()


def _solve_single(cell: Cell, evaluated: Evaluated, value: float) -> float | None:
    delta: float | None = None
    for ident, r in evaluated:
        a = _coef(ident, cell)
        if a == 0:
            if r != 0:
                return None
            continue
        d = -r / a
        if delta is not None and d != delta:
            return None
        delta = d
    if not delta or not _valid(value, delta):
        return None
    return value + delta


def _delta_from(cell: Cell, other: Cell, evaluated: Evaluated) -> float | None:
    found = {-r / _coef(i, cell) for i, r in evaluated if _coef(i, cell) and not _coef(i, other)}
    return found.pop() if len(found) == 1 else None


def _solve_pair(x: Cell, y: Cell, evaluated: Evaluated, values: dict[Cell, float | None]) -> dict[Cell, float] | None:
    dx, dy = _delta_from(x, y, evaluated), _delta_from(y, x, evaluated)
    vx, vy = values.get(x), values.get(y)
    if not dx or not dy or vx is None or vy is None:
        return None
    if not (_valid(vx, dx) and _valid(vy, dy)):
        return None
    if any(r + _coef(i, x) * dx + _coef(i, y) * dy != 0 for i, r in evaluated):
        return None
    return {x: vx + dx, y: vy + dy}


def _fv(rep: Report) -> str:
    return rep.format_version if rep.format_version in ("2019", "2021", "2021_mixed") else "2021"


def evaluate(rep: Report) -> Evaluated:
    """Every identity of the report whose cells all have a value, with its residual lhs − rhs."""
    return [(i, r) for i in identities(_fv(rep)) if (r := residual(i, rep.values)) is not None]


def _pair_candidates(cands: list[Cell], failing: list[Identity]) -> list[Cell]:
    """Cells in two failing identities (a wrong table-3 cell breaks its row and its column), else all."""
    crossing = [c for c in cands if sum(c in i.cells for i in failing) >= 2]
    return crossing if len(crossing) >= 2 else cands


def localise(rep: Report) -> Localisation:
    """Solve the failing identities of one report for one (or, if unique, two) changed cells."""
    evaluated = evaluate(rep)
    failing = [i for i, r in evaluated if r != 0]
    if not failing:
        return Localisation([])
    cands = sorted({c for i in failing for c in i.cells if rep.values.get(c) is not None})
    found: list[dict[Cell, float]] = []
    for c in cands:
        v = _solve_single(c, evaluated, rep.values[c])  # type: ignore[arg-type]
        if v is not None:
            found.append({c: v})
    pair_cands = _pair_candidates(cands, failing)
    if not found and len(pair_cands) <= MAX_PAIR_CANDIDATES:
        relevant = [(i, r) for i, r in evaluated if set(i.cells) & set(pair_cands)]
        found = [s for x, y in combinations(pair_cands, 2) if (s := _solve_pair(x, y, relevant, rep.values))]
    loc = Localisation(failing, candidates=found)
    if len(found) == 1:
        loc.suggestions = found[0]
    return loc


def read_with_certainty(rep: Report, cell: Cell) -> bool:
    """The digits were read from a structured table (HTML, DOCX) or a positioned PDF cell on one line."""
    c = rep.cells.get(cell) or {}
    media = rep.extraction.get("media")
    if media == "text":  # flattened text: cells assigned by order, not by position
        return False
    positioned = media in ("html", "docx") or c.get("page") is not None
    if c.get("status") == "blank":
        return positioned
    raw = c.get("raw")
    if raw is None or not _CLEAN.match(str(raw)):  # wrapped over lines, spaced or decorated
        return False
    return positioned


def origin(rep: Report, loc: Localisation, narrative: dict[Cell, float]) -> str:
    """`source` when the cells concerned were read with certainty and the narrative does not side
    with the suggestion; `extraction` otherwise."""
    for c, v in loc.suggestions.items():
        if narrative.get(c) == v:  # the prose restates the value the identities want: a misreading
            return "extraction"
    cells = list(loc.suggestions) or sorted({c for i in loc.failing for c in i.cells})
    return "source" if all(read_with_certainty(rep, c) for c in cells) else "extraction"


def cell_ref(rep: Report, cell: Cell, suggested: float | None = None) -> dict[str, Any]:
    """A cell as CheckResult names it; `suggested` is a suggestion, never applied."""
    c = rep.cells.get(cell) or {}
    out: dict[str, Any] = {
        "table": cell[0], "row": cell[1], "col": cell[2], "page": c.get("page"),
        "value": c.get("value"), "status": c.get("status"), "raw": c.get("raw"),
    }
    if suggested is not None:
        out["suggested"] = int(suggested) if float(suggested).is_integer() else suggested
    return out
