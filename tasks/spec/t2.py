"""Table 2 (section 二, 主动公开政府信息情况): blocks, rows and value columns per format (spec §3.1, §4.1, §5.2)."""

from __future__ import annotations

from tasks.spec.model import Block, Column, Row

_ISSUED = Column("issued", "本年制发件数", "件")
_ABOLISHED = Column("abolished", "本年废止件数", "件")
_IN_FORCE = Column("in_force", "现行有效件数", "件")
_NEWLY_MADE = Column("newly_made", "本年新制作数量", "件")
_NEWLY_PUBLISHED = Column("newly_published", "本年新公开数量", "件")
_TOTAL_PUBLISHED = Column("total_published", "对外公开总数量", "件")
_DECISIONS_2021 = Column("decisions", "本年处理决定数量", "件", aliases=("处理决定数量",))
_DECISIONS_2019 = Column("decisions", "处理决定数量", "件", aliases=("本年处理决定数量",))
_PRIOR_ITEMS = Column("prior_year_items", "上一年项目数量", "项")
_ITEMS_CHANGE = Column("items_change", "本年增/减", "项", kind="signed", aliases=("本年增减",))
_FEE_AMOUNT = Column("fee_amount", "本年收费金额（单位：万元）", "万元", kind="amount", aliases=("本年收费金额",))
_PROCUREMENT_ITEMS = Column("procurement_items", "采购项目数量", "项")
_PROCUREMENT_AMOUNT = Column("procurement_amount", "采购总金额", "元", kind="amount")

BLOCKS: tuple[Block, ...] = (
    Block(
        "art20_1",
        "第二十条第（一）项",
        rows=(
            Row("regulations", "规章"),
            Row("normative_documents", "行政规范性文件", aliases=("规范性文件",)),
        ),
        columns={"2021": (_ISSUED, _ABOLISHED, _IN_FORCE), "2019": (_NEWLY_MADE, _NEWLY_PUBLISHED, _TOTAL_PUBLISHED)},
    ),
    Block(
        "art20_5",
        "第二十条第（五）项",
        rows=(
            Row("administrative_licensing", "行政许可"),
            Row("other_admin_services", "其他对外管理服务事项", formats=("2019",)),
        ),
        columns={"2021": (_DECISIONS_2021,), "2019": (_PRIOR_ITEMS, _ITEMS_CHANGE, _DECISIONS_2019)},
    ),
    Block(
        "art20_6",
        "第二十条第（六）项",
        rows=(Row("administrative_penalty", "行政处罚"), Row("administrative_coercion", "行政强制")),
        columns={"2021": (_DECISIONS_2021,), "2019": (_PRIOR_ITEMS, _ITEMS_CHANGE, _DECISIONS_2019)},
    ),
    Block(
        "art20_8",
        "第二十条第（八）项",
        rows=(Row("administrative_fees", "行政事业性收费"),),
        columns={"2021": (_FEE_AMOUNT,), "2019": (_PRIOR_ITEMS, _ITEMS_CHANGE)},
    ),
    Block(
        "art20_9",
        "第二十条第（九）项",
        rows=(Row("centralized_procurement", "政府集中采购", formats=("2019",)),),
        columns={"2019": (_PROCUREMENT_ITEMS, _PROCUREMENT_AMOUNT)},
    ),
)
