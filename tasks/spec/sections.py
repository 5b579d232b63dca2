"""The six statutory sections of a report (spec §2, variants V17–V19)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    number: int
    numeral: str
    title: str
    keywords: tuple[tuple[str, ...], ...]
    """Any one tuple whose words all occur in a heading identifies the section (after normalisation)."""


SECTIONS: tuple[Section, ...] = (
    Section(1, "一", "总体情况", (("总体情况",),)),
    Section(2, "二", "主动公开政府信息情况", (("主动公开",),)),
    Section(3, "三", "收到和处理政府信息公开申请情况", (("收到和处理",), ("处理政府信息公开申请",), ("依申请公开",))),
    Section(
        4,
        "四",
        "政府信息公开行政复议、行政诉讼情况",
        (("行政复议", "行政诉讼"), ("复议", "诉讼")),
    ),
    Section(5, "五", "存在的主要问题及改进情况", (("存在的主要问题",), ("主要问题", "改进"), ("问题", "改进情况"))),
    Section(6, "六", "其他需要报告的事项", (("其他需要报告",), ("其他需要说明",))),
)
