"""What real failed checks say on the agency quality page: Chinese first, from the rule id and the
check's cells (tasks.quality_text), the stored English message as the second line (issue 12)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tasks.quality import ReportEntry, agency_quality
from tasks.quality_pages import agency_html

from .test_validate import _checks, _get, _set

CJK = re.compile(r"[\u4e00-\u9fff]")


def _messages(v: Any, fmt: str) -> list[tuple[str, str, str]]:
    """(rule, Chinese line, English line) of each failed check as the page shows it."""
    entry = ReportEntry(2021, v.report_id, "uploads/x.pdf", v.status, fmt, "pdf", "某局", checks=v.checks)
    page = agency_html(agency_quality("某局", "agx", [entry], [], datetime(2025, 3, 1, tzinfo=UTC)), zone="UTC")
    rows = re.findall(r'<span class="rule">([^<]+)</span>.*?<span class="msg">([^<]*)</span>'
                      r'<span class="msg-en">([^<]*)</span>', page, re.DOTALL)  # fmt: skip
    failed = sorted(c.rule for c in v.checks if not c.passed)
    assert sorted(r for r, _, _ in rows) == failed and failed
    return rows


def _english_words(text: str) -> list[str]:
    """Runs of Latin words in a Chinese line, but the codes the pages name on purpose."""
    codes = {"out_of_range", "raw", "2021_mixed", "OCR", "META-01"}
    return [w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in codes]


def test_blank01_on_the_page_says_what_each_blank_implies_in_chinese(gxmod, sample) -> None:  # type: ignore[no-untyped-def]
    v = gxmod.validate_batch([sample("shanghai_office_2019_html")])["shanghai_office_2019_html"]
    [(rule, zh, en)] = _messages(v, "2019")
    assert rule == "BLANK-01" and en == _checks(v)["BLANK-01"].message
    assert CJK.search(zh) and not _english_words(zh), zh
    assert "11 个明细单元格空白（未填写）" in zh and "不按 0 计" in zh
    assert "三·（一）予以公开 × 总计 按等式推得 272" in zh  # the suggested value of the granted row
    assert "建议值" in zh


def test_an_altered_digit_is_named_in_chinese_with_its_suggested_value(gxmod, sample) -> None:  # type: ignore[no-untyped-def]
    d = sample("synthetic_2021_pdf")
    original = _get(d, "t3", "granted", "commercial_enterprise")
    _set(d, "t3", "granted", "commercial_enterprise", original + 10)
    _set(d, "t3", "granted", "natural_person", -1)  # out of domain as well
    v = gxmod.validate_batch([d])[d["report_id"]]
    rows = {rule: (zh, en) for rule, zh, en in _messages(v, "2021")}
    assert {"T3-H2", "T3-H3", "DOM-01"} <= set(rows)
    for rule, (zh, en) in rows.items():
        assert CJK.search(zh) and not _english_words(zh) and zh != en, (rule, zh)
        assert en == _checks(v)[rule].message
    assert "= -1" in rows["DOM-01"][0] and "超出取值范围" in rows["DOM-01"][0]
    assert rows["T3-H3"][0].startswith("表三申请人合计不成立")
