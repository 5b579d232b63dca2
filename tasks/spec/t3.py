"""Table 3 (section 三, 收到和处理政府信息公开申请情况): 25 (2021) or 23 (2019) rows × 7 columns (spec §3.2, §4.2)."""

from __future__ import annotations

from tasks.spec.model import Column, Row

COLUMNS: tuple[Column, ...] = (
    Column("natural_person", "自然人", "件"),
    Column("commercial_enterprise", "商业企业", "件"),
    Column("research_institution", "科研机构", "件"),
    Column("social_welfare_org", "社会公益组织", "件"),
    Column("legal_service_org", "法律服务机构", "件"),
    Column("other_org", "其他", "件"),
    Column("total", "总计", "件"),
)
APPLICANT_COLUMNS: tuple[str, ...] = tuple(c.key for c in COLUMNS[:6])
ORG_COLUMNS: tuple[str, ...] = APPLICANT_COLUMNS[1:]
"""The five 法人或其他组织 columns; their derived sum is `legal_person_subtotal`."""

RESULTS_GROUP = "三、本年度办理结果"
DENIED = "（三）不予公开"
UNAVAILABLE = "（四）无法提供"
NOT_PROCESSED = "（五）不予处理"
OTHER = "（六）其他处理"

_BOTH = ("2019", "2021")
ROWS: tuple[Row, ...] = (
    Row("new_received", "一、本年新收政府信息公开申请数量"),
    Row("carried_over", "二、上年结转政府信息公开申请数量"),
    Row("granted", "（一）予以公开", RESULTS_GROUP),
    Row("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", RESULTS_GROUP),
    Row("denied_state_secret", "1.属于国家秘密", DENIED),
    Row("denied_other_law", "2.其他法律行政法规禁止公开", DENIED),
    Row("denied_security_stability", "3.危及“三安全一稳定”", DENIED),
    Row("denied_third_party_rights", "4.保护第三方合法权益", DENIED),
    Row("denied_internal_affairs", "5.属于三类内部事务信息", DENIED),
    Row("denied_process_info", "6.属于四类过程性信息", DENIED),
    Row("denied_enforcement_file", "7.属于行政执法案卷", DENIED),
    Row("denied_admin_query", "8.属于行政查询事项", DENIED),
    Row("unavailable_not_held", "1.本机关不掌握相关政府信息", UNAVAILABLE),
    Row("unavailable_needs_creation", "2.没有现成信息需要另行制作", UNAVAILABLE),
    Row("unavailable_unclear_after_correction", "3.补正后申请内容仍不明确", UNAVAILABLE),
    Row("not_processed_petition", "1.信访举报投诉类申请", NOT_PROCESSED),
    Row("not_processed_duplicate", "2.重复申请", NOT_PROCESSED),
    Row("not_processed_publication", "3.要求提供公开出版物", NOT_PROCESSED),
    Row("not_processed_excessive", "4.无正当理由大量反复申请", NOT_PROCESSED),
    Row("not_processed_reconfirmation", "5.要求行政机关确认或重新出具已获取信息", NOT_PROCESSED),
    Row(
        "other_no_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        OTHER,
        formats=("2021",),
    ),
    Row(
        "other_fee_unpaid",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        OTHER,
        formats=("2021",),
    ),
    Row("other_other", "3.其他", OTHER, formats=("2021",)),
    Row("other_total", OTHER, RESULTS_GROUP, formats=("2019",)),
    Row("total_processed", "（七）总计", RESULTS_GROUP),
    Row("carried_forward", "四、结转下年度继续办理"),
)
OTHER_LEAVES: tuple[str, ...] = ("other_no_correction", "other_fee_unpaid", "other_other")

RESULT_LEAVES_2021: tuple[str, ...] = tuple(
    r.key for r in ROWS if r.group is not None and r.key not in ("total_processed", "other_total")
)
RESULT_LEAVES_2019: tuple[str, ...] = tuple(
    k for k in (r.key for r in ROWS if r.group is not None) if k not in OTHER_LEAVES and k != "total_processed"
)

DERIVED_GROUPS: dict[str, tuple[str, ...]] = {
    "denied_total": tuple(r.key for r in ROWS if r.group == DENIED),
    "unavailable_total": tuple(r.key for r in ROWS if r.group == UNAVAILABLE),
    "not_processed_total": tuple(r.key for r in ROWS if r.group == NOT_PROCESSED),
}


def rows_for(layout: str) -> tuple[Row, ...]:
    """Rows printed in a layout: `2021`, `2019`, or `2021_mixed` (2021 with a single （六） row)."""
    fmt = "2019" if layout in ("2019", "2021_mixed") else "2021"
    return tuple(r for r in ROWS if fmt in r.formats)
