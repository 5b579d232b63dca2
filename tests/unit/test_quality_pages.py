"""The quality pages on templates (issue 12): the page's language, local times, BLANK-01 as info with
its suggested value, missing years and the quarantine pseudo-agency, escaping of hostile strings, and
the templates found by a non-editable install."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from test_quality import NOW, _agencies, _assert_self_contained, _entry, _Page, _quarantined

from tasks.quality import QUARANTINE_ID, agency_quality, run_summary
from tasks.quality_pages import agency_html, index_html
from tasks.quality_text import ERROR_TEXTS, RULES_WITH_TEXT, check_text
from tasks.records import CheckResult, Quarantined
from tasks.spec.rules import RULES, RULES_BY_ID

ROOT = Path(__file__).resolve().parents[2]


def _blank_unfilled() -> CheckResult:
    """BLANK-01 as the checks emit it for a 总计 column left unfilled (tasks/checks/assemble.py)."""
    cell = {"table": "t3", "row": "granted", "col": "total", "page": 2, "value": None, "implied": 272}
    msg = "the 总计 column of t3 is blank (not filled) in 1 detail rows (granted: others sum to 272)"
    return CheckResult("BLANK-01", RULES_BY_ID["BLANK-01"].severity, False, msg, cells=[cell], origin="source")


def _h1() -> CheckResult:
    cell = {"table": "t3", "row": "new_received", "col": "total", "page": 3, "value": 40, "suggested": 41}
    return CheckResult("T3-H1", "error", False, "一 + 二 = 41 ≠ 40", cells=[cell], origin="source")


def _doc(checks: list[CheckResult], **kw) -> dict:
    status = "failed" if any(c.severity == "error" and not c.passed for c in checks) else "passed"
    return agency_quality("某市某局", "agm", [_entry(2021, "r", status, checks, when=NOW, **kw)], [], NOW)


def _row_of(page: str, rule: str) -> str:
    """The row of one rule in the issues table (its nested cells table included)."""
    issues = re.search(r'<table class="issues">.*?\n</tbody></table>\n(?!</td>)', page, re.DOTALL)
    assert issues is not None
    found = [p for p in issues.group(0).split('<tr><td><span class="rule">')[1:] if p.startswith(f"{rule}</span>")]
    assert len(found) == 1, issues.group(0)
    return found[0]


# ----------------------------------------------------------------------------------------------------
# the page's language: rule names and statements from the catalogue
# ----------------------------------------------------------------------------------------------------


def test_every_rule_has_a_chinese_name_and_statement():
    for r in RULES:
        assert re.search(r"[\u4e00-\u9fff]", r.title) and re.search(r"[\u4e00-\u9fff]", r.text), r.id
    assert len({r.title for r in RULES}) == len(RULES)


def test_failed_and_passed_rules_are_shown_in_chinese_with_the_english_second():
    doc = _doc([_h1(), CheckResult("T3-H3", "error", True, "holds"), CheckResult("T4-H1", "error", True, "holds")])
    page = agency_html(doc, zone="UTC")
    text = _Page(page).all_text
    for rid in ("T3-H1", "T3-H3", "T4-H1"):
        r = RULES_BY_ID[rid]
        assert r.title in text and r.text in text and r.description in text, rid
        assert text.index(r.text) < text.index(r.description)  # Chinese first, English as the second line
    row = _row_of(page, "T3-H1")
    assert '<span class="rule-zh">表三收结平衡</span>' in row and '<span class="rule-en">per column: 一 + 二' in row


def test_every_rule_of_the_catalogue_has_its_own_chinese_message():
    assert set(RULES_WITH_TEXT) == set(RULES_BY_ID)
    for r in RULES:
        zh = check_text({"rule": r.id, "passed": False, "cells": []})
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[A-Za-z]{4,} [A-Za-z]{2,}", zh), (r.id, zh)


def test_failed_checks_are_said_in_chinese_from_their_cells_the_english_second():
    xy01 = CheckResult("XY-01", "warn", False, "carried_over.total 5 ≠ previous carried_forward.total 7", cells=[
        {"table": "t3", "row": "carried_over", "col": "total", "page": 4, "value": 5, "suggested": 7, "previous": 7}])
    xy02 = CheckResult("XY-02", "warn", False, "regulations.in_force 12 vs 10 + 1 − 0 = 11 (gap +1)", cells=[
        {"table": "t2", "row": "regulations", "col": "in_force", "page": 2, "value": 12, "expected_by_continuity": 11}])
    txt01 = CheckResult("TXT-01", "warn", False, "section 一 says “收到申请 95 件”, the table prints 17", cells=[
        {"table": "t3", "row": "new_received", "col": "total", "page": 3, "value": 17, "narrative": 95}])
    page = agency_html(_doc([_h1(), _blank_unfilled(), xy01, xy02, txt01]), zone="UTC")
    said = {rule: (zh, en) for rule, zh, en in re.findall(
        r'<span class="rule">([^<]+)</span>.*?<span class="msg">([^<]*)</span><span class="msg-en">([^<]*)</span>',
        page, re.DOTALL)}  # fmt: skip
    assert set(said) == {"T3-H1", "BLANK-01", "XY-01", "XY-02", "TXT-01"}
    h1 = "表三收结平衡不成立。若 三·一、本年新收政府信息公开申请数量 × 总计 为 41，各项等式均成立（建议值，仅供参考，发布值仍为原文印刷值）"
    assert said["T3-H1"] == (h1, "一 + 二 = 41 ≠ 40")
    assert "三·（一）予以公开 × 总计 按等式推得 272" in said["BLANK-01"][0]
    assert "为 5，上一年度“结转下年度”为 7" in said["XY-01"][0]
    assert "为 12，按上年现行有效件数 + 本年制发件数 − 本年废止件数应为 11（相差 +1）" in said["XY-02"][0]
    assert "正文复述为 95，表格中" in said["TXT-01"][0] and "印为 17" in said["TXT-01"][0]
    assert said["TXT-01"][1] == txt01.message


def test_every_quarantine_reason_is_said_in_chinese():
    import tasks.errors as errors

    types = {n for n, t in vars(errors).items() if isinstance(t, type) and issubclass(t, errors.XxgkError)}
    assert types - {"XxgkError"} <= set(ERROR_TEXTS) and "MetadataNotFound" in ERROR_TEXTS
    page = agency_html(agency_quality("某局", "agx", [], [_quarantined()], NOW), zone="UTC")
    assert ('<span class="msg">文件没有文字层（扫描件或页面图片），需经 OCR 识读</span>'
            '<span class="msg-en">no text layer on pages 1–6</span>') in page  # fmt: skip


# ----------------------------------------------------------------------------------------------------
# local time with the zone
# ----------------------------------------------------------------------------------------------------


def test_times_are_local_with_the_zone_named(monkeypatch):
    monkeypatch.delenv("XXGK_TIMEZONE", raising=False)
    doc = _doc([])  # generated 2025-03-01 08:00 UTC, uploaded the same
    text = _Page(agency_html(doc)).all_text  # the default setting: Asia/Shanghai
    assert "生成于 2025-03-01 16:00 UTC+08:00" in text and "Asia/Shanghai（UTC+08:00）" in text
    assert "2025-03-01 08:00" not in text
    index = _Page(index_html([doc], generated_at=NOW)).all_text
    assert "生成于 2025-03-01 16:00 UTC+08:00" in index and "Asia/Shanghai" in index
    monkeypatch.setenv("XXGK_TIMEZONE", "Europe/Berlin")
    assert "生成于 2025-03-01 09:00 UTC+01:00" in _Page(agency_html(doc)).all_text
    assert "生成于 2025-03-01 08:00 UTC+00:00" in _Page(agency_html(doc, zone="UTC")).all_text


def test_quarantine_times_are_local_too():
    doc = agency_quality("某局", "agx", [], [_quarantined()], NOW)  # quarantined 2025-01-03 00:00 UTC
    assert "2025-01-03 08:00 UTC+08:00" in _Page(agency_html(doc, zone="Asia/Shanghai")).all_text


# ----------------------------------------------------------------------------------------------------
# BLANK-01: info, with its suggested value
# ----------------------------------------------------------------------------------------------------


def test_blank01_is_shown_as_info_with_the_implied_value_as_suggestion():
    page = agency_html(_doc([_blank_unfilled()]), zone="UTC")
    row = _row_of(page, "BLANK-01")
    assert '<span class="badge info">提示</span>' in row and "警告" not in row
    cells = re.search(r"<tr><td>三·（一）予以公开 × 总计</td>.*?</tr>", row)
    assert cells is not None
    assert '<span class="printed">空白</span>' in cells.group(0) and ">272*<" in cells.group(0)
    assert "空白单元格的读法" in row
    # an info does not make the report warned
    assert '<h2>2021 年度报告 <span class="badge passed">通过</span></h2>' in page


# ----------------------------------------------------------------------------------------------------
# the index: the quarantine pseudo-agency is not an agency
# ----------------------------------------------------------------------------------------------------


def _orphans() -> dict:
    return agency_quality(
        "（未能识别机关的隔离文件）", QUARANTINE_ID, [], [_quarantined(None), _quarantined(None)], NOW
    )


def test_the_quarantine_pseudo_agency_is_never_counted_as_an_agency():
    orphans = _orphans()
    page = index_html([*_agencies(), orphans], generated_at=NOW, quarantined=orphans["quarantine"], zone="UTC")
    p = _assert_self_contained(page)
    chips = {text: int(n) for n, text in re.findall(r'<span class="chip"><b>(\d+)</b>(.*?)</span>', page)}
    assert chips["个机关"] == 4  # aga agb agc agq, not the pseudo-agency
    assert chips["个隔离文件"] == 4  # agc's 1 and agq's 1, and the 2 orphans
    links = [a.get("href") for a in p.find("a")]
    assert links.count("quarantine.html") == 1  # only from the quarantine section, not as an agency row
    agencies = re.search(r"<h2>全部机关.*?</table>", page, re.DOTALL)
    assert agencies is not None and "<code>quarantine</code>" not in agencies.group(0)
    assert "quarantine.html" not in re.search(r'<table class="missing">.*?</table>', page, re.DOTALL).group(0)
    markdown, _ = run_summary([*_agencies(), orphans], [])
    assert "agencies: **4**" in markdown


def test_the_quarantine_page_is_about_files_not_an_agency():
    text = _assert_self_contained(agency_html(_orphans(), zone="UTC")).all_text
    assert "隔离文件" in text and "机关编号" not in text and "没有可发布的报告" not in text
    assert "2 个隔离文件" in text and "份现行报告" not in text and "建议值" not in text  # files, not reports
    assert text.count("ScannedDocument") == 2


# ----------------------------------------------------------------------------------------------------
# hostile strings
# ----------------------------------------------------------------------------------------------------

XSS = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"
ATTR = '" onmouseover="alert(2)'


def test_hostile_strings_everywhere_are_escaped():
    cells = [
        {"table": "t3", "row": f"r{XSS}", "col": f"c{ATTR}", "page": f"{IMG}", "value": f"{XSS}", "suggested": IMG},
        {"table": f"t{IMG}", "row": "granted", "col": "total", "value": None, "implied": ATTR},
    ]
    checks = [
        CheckResult("T3-H1", "error", False, f"cells {XSS}", cells=cells, origin=f"o{IMG}"),
        CheckResult("TXT-01", "warn", False, f"narrative says {IMG} and {ATTR}", origin="source"),
        CheckResult(f"X{XSS}", f"s{ATTR}", False, "unknown rule and severity"),
    ]
    entry = _entry(2021, f"r{ATTR}", "failed", checks, when=NOW, source=f"uploads/{XSS}.pdf")
    entry.agency = f"标题{IMG}"
    q = Quarantined(
        source=f"uploads/{IMG}.pdf", sha256=f"{ATTR}" * 3, error_type=f"E{XSS}", message=f"m {XSS} {ATTR}",
        at=datetime(2025, 1, 3, tzinfo=UTC), pipeline_version=f"v{IMG}", agency_hint=None,
    )  # fmt: skip
    doc = agency_quality(f"{XSS}局", f"ag{ATTR}", [entry], [q], NOW)
    orphans = agency_quality("x", QUARANTINE_ID, [], [q], NOW)
    pages = [
        agency_html(doc, zone="UTC"),
        index_html([doc, orphans], generated_at=NOW, quarantined=orphans["quarantine"], zone="UTC"),
    ]
    for page in pages:
        p = _assert_self_contained(page)
        assert "<script" not in page and "<img" not in page and 'onmouseover="' not in page
        assert not [a for _, a in p.tags if any(k.startswith("on") for k in a)]
        assert f"{XSS}局" in p.all_text  # shown as text, not dropped
    agency_text = _Page(pages[0]).all_text
    for shown in (f"cells {XSS}", f"narrative says {IMG} and {ATTR}", f"E{XSS}", f"m {XSS} {ATTR}", f"标题{IMG}",
                  f"uploads/{XSS}.pdf", f"v{IMG}", f"X{XSS}", f"{IMG}*", "第 <img"):  # fmt: skip
        assert shown in agency_text, shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;局" in pages[0]


# ----------------------------------------------------------------------------------------------------
# the templates are package data
# ----------------------------------------------------------------------------------------------------


def test_a_non_editable_install_renders_the_pages(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]  # as pip install . builds
    subprocess.run([*build, str(ROOT)], check=True, capture_output=True, timeout=300)
    [wheel] = wheels.glob("xxgk_pipeline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tasks/templates/quality").iterdir()}
    assert templates and templates <= names, templates - names
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    script = (
        f"import tasks, datetime as d; assert tasks.__file__.startswith({str(target)!r}), tasks.__file__\n"
        "from tasks.quality import agency_quality\n"
        "from tasks.quality_pages import agency_html, index_html\n"
        "doc = agency_quality('某局', 'agx', [], [], d.datetime(2025, 3, 1, tzinfo=d.UTC))\n"
        "print(len(agency_html(doc, zone='UTC')), len(index_html([doc], zone='UTC')))\n"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    # the installed copy comes first on the path (the editable install of this checkout is in site-packages)
    out = subprocess.run([sys.executable, "-c", script], check=False, cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    sizes = [int(x) for x in out.stdout.split()]
    assert len(sizes) == 2 and all(n > 2000 for n in sizes), out.stdout
