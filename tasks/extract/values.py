"""Reading a printed cell into (value, status): never inventing or correcting a number.

Statuses (spec §5.4): `reported` (a number is printed), `blank` (nothing printed; whether
it means 0 is decided later by BLANK-01), `dash` (a dash or slash: "not applicable"),
`text` (words such as 无 or 不涉及, or anything that is not a clean number), and
`out_of_range` (a clean number that cannot be published exactly: see `fits`; the value is
null and the printed text is kept in `raw`, never clipped or rounded).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from tasks.spec.model import VALUE_PRECISION, VALUE_SCALE

Number = int | Decimal

MAX_INTEGER_DIGITS = VALUE_PRECISION - VALUE_SCALE
"""Digits before the decimal point that decimal128(18, 4) holds: 14 (|value| < 10^14)."""
MAX_FRACTION_SIGNIFICANT_DIGITS = 15
"""A number with decimals travels as a JSON number (a double) in the §10 contract: up to 15
significant digits come back exactly as printed, more may not."""

_DASHES = frozenset("-—–―‐‑‒─━－/／\\＼~～")
_UNITS = ("万元", "元", "件", "项", "个", "次", "条")
_NUMBER = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$")


def parse_value(raw: str) -> tuple[Number | None, str]:
    """The value and status of one printed cell.

    Accepted as a number: digits (full-width too), a sign ("+1036", "-8"), a decimal
    point, thousands separators in groups of three ("1,234"), a unit suffix as printed in
    some reports ("251000元"), and digits wrapped over several lines inside a narrow cell
    ("2631\\n2" is 26312). Anything else is `text`, with no value.
    """
    s = "".join(unicodedata.normalize("NFKC", raw).split())
    if not s:
        return None, "blank"
    if all(ch in _DASHES for ch in s):
        return None, "dash"
    for unit in _UNITS:
        if s.endswith(unit) and len(s) > len(unit):
            s = s[: -len(unit)]
            break
    if not _NUMBER.match(s):
        return None, "text"
    s = s.replace(",", "")
    if "." in s:
        return Decimal(s), "reported"
    return int(s), "reported"


def unit_suffix(raw: str) -> str:
    """The unit printed after a cell's number ("251000元": "元"), as `parse_value` strips it; "" when
    there is none or the cell is no number."""
    s = "".join(unicodedata.normalize("NFKC", raw).split())
    for unit in _UNITS:
        if s.endswith(unit) and len(s) > len(unit):
            return unit if parse_value(s)[1] == "reported" else ""
    return ""


def fits(value: Number) -> bool:
    """Whether a number can be published exactly as printed: at most 14 digits before the point
    and 4 after it (decimal128(18, 4); trailing zeros after the point do not count), and, when it
    has decimals, at most 15 significant digits. A number that does not fit is never rounded or
    clipped into range: the cell is published as text (`out_of_range`)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 10**MAX_INTEGER_DIGITS
    _, digits_t, exp = value.as_tuple()
    if not isinstance(exp, int):  # NaN, Infinity
        return False
    digits = list(digits_t)
    while exp < 0 and len(digits) > 1 and digits[-1] == 0:  # 1.50000 is 1.5
        digits.pop()
        exp += 1
    while len(digits) > 1 and digits[0] == 0:
        digits.pop(0)
    if digits == [0]:
        return True
    if exp < -VALUE_SCALE or len(digits) + exp > MAX_INTEGER_DIGITS:
        return False
    return exp >= 0 or len(digits) <= MAX_FRACTION_SIGNIFICANT_DIGITS


def is_value_like(raw: str) -> bool:
    """True for what can stand in a value cell: a number, a blank, a dash or a short word such as 无."""
    _, status = parse_value(raw)
    if status != "text":
        return True
    s = "".join(unicodedata.normalize("NFKC", raw).split())
    return s in _NA_WORDS


_NA_WORDS = frozenset({"无", "不涉及", "不适用", "暂无", "未涉及", "空", "零", "N/A", "NA", "n/a", "x", "X", "×"})
