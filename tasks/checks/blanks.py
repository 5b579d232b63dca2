"""BLANK-01: decide, from the identities, whether a printed blank means 0 (spec §7 V6).

A blank is read as 0 unless the identities show it was left unfilled:

1. With every blank read as 0, an identity that holds *protects* the blanks it touches.
2. An identity that fails, where unprotected blanks sit on the side that is too small, marks
   those blanks `unfilled` (e.g. 上海 2019: the 总计 column left empty in detail rows).
3. The explanation is accepted only if it is consistent: the values the identities imply for
   the unfilled blanks are ≥ 0 and satisfy every identity touching them. Otherwise the blanks
   go back to 0 and the failures are reported as failures (never hidden).

Readings: `zero_confirmed` (every identity touching the blank holds with 0) or `unknown`.
Unfilled blanks have no value: the identities involving them are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks.checks.identities import Cell, Identity, identities

Values = dict[Cell, float | None]


@dataclass
class BlankResult:
    values: Values  # effective value per cell: printed, 0 for a blank read as 0, None if unknown
    readings: dict[Cell, str]  # every blank cell → zero_confirmed | unknown
    unfilled: set[Cell] = field(default_factory=set)
    implied: dict[Cell, float] = field(default_factory=dict)  # what the identities say an unfilled blank holds


def residual(identity: Identity, values: Values) -> float | None:
    """sum(lhs) − sum(rhs), or None when a cell has no value."""
    vals = [values.get(c) for c in identity.cells]
    if any(v is None for v in vals):
        return None
    n = len(identity.lhs)
    return float(sum(vals[:n]) - sum(vals[n:]))  # type: ignore[arg-type]


def _protected(ids: tuple[Identity, ...], zeroed: Values, blanks: set[Cell]) -> set[Cell]:
    out: set[Cell] = set()
    for ident in ids:
        if residual(ident, zeroed) == 0:
            out |= blanks & set(ident.cells)
    return out


def _absorbing(ids: tuple[Identity, ...], zeroed: Values, blanks: set[Cell], protected: set[Cell]) -> set[Cell]:
    """Blanks that could make a failing identity hold if they had been filled in."""
    out: set[Cell] = set()
    for ident in ids:
        r = residual(ident, zeroed)
        if not r:
            continue
        side = ident.lhs if r < 0 else ident.rhs
        out |= {c for c in side if c in blanks and c not in protected}
    return out


def _implied(ids: tuple[Identity, ...], values: Values, unknown: set[Cell]) -> dict[Cell, float]:
    """Solve identities with exactly one unknown cell, repeatedly."""
    solved: dict[Cell, float] = {}
    progress = True
    while progress:
        progress = False
        for ident in ids:
            open_ = [c for c in ident.cells if c in unknown and c not in solved]
            if len(open_) != 1:
                continue
            trial = {**values, **solved, open_[0]: 0.0}
            r = residual(ident, trial)
            if r is None:
                continue
            solved[open_[0]] = r if open_[0] in ident.rhs else -r
            progress = True
    return solved


def _consistent(ids: tuple[Identity, ...], values: Values, unknown: set[Cell], implied: dict[Cell, float]) -> bool:
    if set(implied) != unknown or any(v < 0 for v in implied.values()):
        return False
    filled = {**values, **implied}
    touching = [i for i in ids if unknown & set(i.cells)]
    return all(residual(i, filled) in (0, None) for i in touching)


def read_blanks(printed: Values, blanks: set[Cell], format_version: str) -> BlankResult:
    """Effective values and BLANK-01 readings for one report (`printed` has None for blanks)."""
    ids = identities(format_version)
    zeroed: Values = {**printed, **dict.fromkeys(blanks, 0.0)}
    protected = _protected(ids, zeroed, blanks)
    unfilled = _absorbing(ids, zeroed, blanks, protected)
    implied: dict[Cell, float] = {}
    if unfilled:
        base = {**zeroed, **dict.fromkeys(unfilled)}
        implied = _implied(ids, base, unfilled)
        if not _consistent(ids, base, unfilled, implied):
            unfilled, implied = set(), {}
    values: Values = {**zeroed, **dict.fromkeys(unfilled)}
    readings = _readings(ids, values, blanks, unfilled)
    return BlankResult(values, readings, unfilled, implied)


def _readings(ids: tuple[Identity, ...], values: Values, blanks: set[Cell], unfilled: set[Cell]) -> dict[Cell, str]:
    touching: dict[Cell, list[float | None]] = {c: [] for c in blanks}
    for ident in ids:
        for c in set(ident.cells) & blanks:
            touching[c].append(residual(ident, values))
    out = {}
    for c in blanks:
        evaluated = [r for r in touching[c] if r is not None]
        ok = c not in unfilled and evaluated and all(r == 0 for r in evaluated)
        out[c] = "zero_confirmed" if ok else "unknown"
    return out
