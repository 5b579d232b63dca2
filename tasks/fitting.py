"""Every value fits its published column, or is refused per cell: never an exception in publish;
every published string is free of control characters.

The parquet schemas (tasks/schema.py) hold numbers in fixed types: `value` and amounts in
decimal128(18, 4), counts in int64, `page` and `pages` in int16, `bbox` in float32. A report may
print anything (a count of 10^30, a page number past 32767 after thousands of blank pages), and a
value that does not fit would make pyarrow raise for the whole batch. `fit_extraction` is applied
to every report before its rows are built:

- a cell value that cannot be published exactly (`tasks.extract.values.fits`) is published as
  text: `value` null, `status` `out_of_range`, the printed text kept in `raw`;
- a page, a page count or a bbox that does not fit its type is left null;

never clipped or rounded into range. `range_check` is the RANGE-01 check naming every such cell;
validation computes it from the extraction and the publisher recomputes it after fitting, so a
refusal made here is always named in the report's checks.

`clean_extraction` removes control characters from the published strings (CTRL-01), as extraction
already does from the document; a lone surrogate would make the UTF-8 writer raise.

Pure: no I/O, no pyarrow.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from tasks.extract.clean import char_name, clean_text
from tasks.extract.values import MAX_INTEGER_DIGITS, fits
from tasks.records import CheckResult
from tasks.spec import RULES_BY_ID
from tasks.spec.model import VALUE_SCALE

INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1
FLOAT32_MAX = 3.4028234663852886e38
OUT_OF_RANGE = "out_of_range"
RULE = "RANGE-01"


def as_number(v: Any) -> int | Decimal | None:
    """A cell value as an exact number: ints stay ints, floats by their shortest repr (what the JSON
    carried), Decimals as they are; anything else (NaN, infinity, text, a bool) is None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return int(v) if v.is_integer() and abs(v) < 2**53 else Decimal(repr(v))
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def value_fits(v: Any) -> bool:
    n = as_number(v)
    return n is not None and fits(n)


def _int16(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and INT16_MIN <= v <= INT16_MAX


def _bbox(v: Any) -> bool:
    if not isinstance(v, list | tuple) or len(v) != 4:
        return False
    return all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
               and abs(x) <= FLOAT32_MAX for x in v)  # fmt: skip


def _ref(c: dict[str, Any], what: str, printed: Any) -> dict[str, Any]:
    return {"table": c.get("table"), "row": c.get("row"), "col": c.get("col"), "page": c.get("page"),
            "value": None, "status": c.get("status"), "raw": c.get("raw"), "refused": what,
            "printed": _printed(printed)}  # fmt: skip


def _printed(v: Any) -> Any:
    return v if isinstance(v, str) or v is None else str(v)


def fit_extraction(ex: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A copy of a §10 extraction dict in which every value fits its published type, and the list
    of what was refused on the way (empty when the extraction already fitted)."""
    refused: list[dict[str, Any]] = []
    cells = []
    for c in ex.get("cells", []):
        out = c
        v = c.get("value")
        if v is not None and not value_fits(v):
            out = {**out, "value": None, "status": OUT_OF_RANGE}
            refused.append(_ref(out, "value", c.get("raw") if c.get("raw") is not None else v))
        if c.get("page") is not None and not _int16(c["page"]):
            out = {**out, "page": None}
            refused.append(_ref(out, "page", c["page"]))
        if c.get("bbox") is not None and not _bbox(c["bbox"]):
            out = {**out, "bbox": None}
            refused.append(_ref(out, "bbox", c["bbox"]))
        cells.append(out)
    fitted = {**ex, "cells": cells}
    if ex.get("pages") is not None and not _int16(ex["pages"]):
        fitted["pages"] = None
        refused.insert(0, {"table": None, "row": None, "col": None, "refused": "pages", "printed": str(ex["pages"])})
    return fitted, refused


def range_check(ex: dict[str, Any], refused: list[dict[str, Any]] | None = None) -> CheckResult:
    """RANGE-01: the cells published as text because their number does not fit (status
    `out_of_range`), and any page, page count or bbox left null for the same reason."""
    refused = list(refused or [])
    named = {(r.get("table"), r.get("row"), r.get("col")) for r in refused if r.get("refused") == "value"}
    for c in ex.get("cells", []):
        if c.get("status") == OUT_OF_RANGE and (c.get("table"), c.get("row"), c.get("col")) not in named:
            refused.append(_ref(c, "value", c.get("raw")))
    rule = RULES_BY_ID[RULE]
    if not refused:
        return CheckResult(RULE, rule.severity, True, "every printed number fits its published type")
    values = [r for r in refused if r["refused"] == "value"]
    other = [r for r in refused if r["refused"] != "value"]
    parts = []
    if values:
        shown = "; ".join(f"{r['table']}.{r['row']}.{r['col']} = “{_short(r['printed'])}”" for r in values[:5])
        parts.append(
            f"{len(values)} printed number(s) do not fit the published type (at most {MAX_INTEGER_DIGITS} digits "
            f"before the decimal point and {VALUE_SCALE} after it): published as text (status out_of_range, "
            f"value null, the printed text in raw), never rounded: {shown}{'; …' if len(values) > 5 else ''}"
        )
    if other:
        shown = "; ".join(f"{r['refused']} {_short(r['printed'])}" + (f" ({r['table']}.{r['row']}.{r['col']})" if r["row"] else "")
                          for r in other[:5])
        parts.append(f"{len(other)} position(s) out of range left null: {shown}{'; …' if len(other) > 5 else ''}")
    return CheckResult(RULE, rule.severity, False, ". ".join(parts), refused, "source")


def _short(text: Any, n: int = 40) -> str:
    s = str(text)
    return s if len(s) <= n else f"{s[:n]}… ({len(s)} characters)"


# --------------------------------------------------------------------------------------------
# strings: control characters (CTRL-01)
# --------------------------------------------------------------------------------------------

CTRL_RULE = "CTRL-01"


def clean_extraction(ex: dict[str, Any]) -> tuple[dict[str, Any], Counter[str]]:
    """A copy of a §10 extraction dict whose published strings (agency, the cells' raw text and
    units, block keys, issue messages, sections) hold no control characters, and what was removed.
    Extraction already removes them from the document (tasks/extract/clean.py); this is the
    publisher's guarantee for any extraction it is given."""
    removed: Counter[str] = Counter()

    def c(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        text, gone = clean_text(v)
        removed.update(gone)
        return text

    out = {**ex, "agency": c(ex.get("agency"))}
    out["cells"] = [{**cell, **{k: c(cell.get(k)) for k in ("raw", "unit", "block") if k in cell}}
                    for cell in ex.get("cells", [])]  # fmt: skip
    out["issues"] = [{**i, "message": c(i.get("message"))} for i in ex.get("issues", [])]
    if isinstance(ex.get("sections"), dict):
        out["sections"] = {k: c(v) for k, v in ex["sections"].items()}
    return out, removed


def ctrl_check(ex: dict[str, Any], removed: Counter[str] | None = None) -> CheckResult:
    """CTRL-01: what extraction (its CTRL-01 issue) and the publisher removed from the report's text."""
    rule = RULES_BY_ID[CTRL_RULE]
    notes = [str(i.get("message")) for i in ex.get("issues", []) if i.get("rule") == CTRL_RULE]
    if removed:
        chars = ", ".join(f"{char_name(ch)} ×{n}" for ch, n in removed.most_common(6))
        notes.append(f"{sum(removed.values())} control character(s) removed from the published strings ({chars})")
    if not notes:
        return CheckResult(CTRL_RULE, rule.severity, True, "no control or invisible characters in the text")
    return CheckResult(CTRL_RULE, rule.severity, False, "; ".join(notes), [], "source")
