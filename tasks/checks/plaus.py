"""PLAUS-01 (spec S2.2): 规章 can only be made by provincial and 设区的市 governments (and 自治州).

A heuristic on the agency name: the issuing government is the name with any trailing office
(办公厅/办公室) removed; it may make rules when it ends in 人民政府 and the unit before that is
a province, autonomous region, (设区的) city or autonomous prefecture, i.e. not a district,
county, banner, township or a department (局, 委员会 …). County-level cities (县级市) cannot be
told from 设区的市 by name alone: they pass (a known limit; the check is info only).
"""

from __future__ import annotations

import re

_OFFICE = re.compile(r"(?:办公厅|办公室)$")
_RULE_MAKING_UNIT = ("省", "自治区", "市", "自治州")
_LOWER_UNIT = ("区", "县", "旗", "镇", "乡", "街道")


def may_make_rules(agency: str | None) -> bool | None:
    """True/False from the name; None when there is no name."""
    if not agency:
        return None
    name = _OFFICE.sub("", "".join(agency.split()))
    if not name.endswith("人民政府"):
        return False
    unit = name[: -len("人民政府")]
    if unit.endswith(("自治区", "自治州")):
        return True
    if unit.endswith(_LOWER_UNIT):
        return False
    return unit.endswith(_RULE_MAKING_UNIT)


REGULATION_COLUMNS = {"2021": ("issued", "in_force"), "2019": ("newly_made", "total_published")}
