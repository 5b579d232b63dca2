"""Reading a printed cell into (value, status): never inventing or correcting a number.

Statuses (spec §5.4): `reported` (a number is printed), `blank` (nothing printed; whether
it means 0 is decided later by BLANK-01), `dash` (a dash or slash: "not applicable"),
`text` (words such as 无 or 不涉及, or anything that is not a clean number).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

Number = int | Decimal

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


def is_value_like(raw: str) -> bool:
    """True for what can stand in a value cell: a number, a blank, a dash or a short word such as 无."""
    value, status = parse_value(raw)
    if status != "text":
        return True
    s = "".join(unicodedata.normalize("NFKC", raw).split())
    return s in _NA_WORDS


_NA_WORDS = frozenset({"无", "不涉及", "不适用", "暂无", "未涉及", "空", "零", "N/A", "NA", "n/a", "x", "X", "×"})
