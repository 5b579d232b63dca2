"""Table 4 (section 四, 行政复议、行政诉讼): 3 blocks × 5 columns, printed as one row of 15 cells (spec §3.3)."""

from __future__ import annotations

from tasks.spec.model import Column, Row

COLUMNS: tuple[Column, ...] = (
    Column("upheld", "结果维持", "件"),
    Column("corrected", "结果纠正", "件"),
    Column("other_result", "其他结果", "件"),
    Column("pending", "尚未审结", "件"),
    Column("total", "总计", "件"),
)
PARTS: tuple[str, ...] = tuple(c.key for c in COLUMNS[:4])

ROWS: tuple[Row, ...] = (
    Row("admin_review", "行政复议"),
    Row("litigation_direct", "未经复议直接起诉", "行政诉讼"),
    Row("litigation_after_review", "复议后起诉", "行政诉讼"),
)
DERIVED_ROWS: dict[str, tuple[str, ...]] = {"litigation_all": ("litigation_direct", "litigation_after_review")}
