"""The quality reports (issue 6): the agency JSON, the agency and index pages, the run summary."""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tasks.quality import (
    KEY_TOTALS,
    ReportEntry,
    agency_quality,
    cell_label,
    key_totals,
    run_summary,
)
from tasks.quality_pages import SUGGESTION_NOTE, agency_html, index_html
from tasks.records import CheckResult, Quarantined
from tasks.spec import LAYOUTS, cell_keys

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# ----------------------------------------------------------------------------------------------------
# builders
# ----------------------------------------------------------------------------------------------------


def _passed(*rules: str) -> list[CheckResult]:
    return [CheckResult(r, "error", True, f"{r} holds") for r in rules]


def _h3() -> CheckResult:
    return CheckResult(
        "T3-H3",
        "error",
        False,
        "（一）予以公开: 总计 12 ≠ 15",
        cells=[
            {"table": "t3", "row": "granted", "col": "total", "page": 3, "value": Decimal(12), "suggested": 15},
            {"table": "t3", "row": "granted", "col": "natural_person", "page": 3, "value": 10},
        ],
        origin="source",
    )


def _blank() -> CheckResult:
    cell = {"table": "t4", "row": "litigation_direct", "col": "total", "page": 4, "value": None}
    return CheckResult("BLANK-01", "info", False, "blank read as unknown", cells=[cell])


def _totals(**kw: float | None) -> dict[str, float | None]:
    return {kt.name: kw.get(kt.name, 10.0) for kt in KEY_TOTALS}


def _entry(year, rid, status, checks, *, when, superseded=False, fmt="2021", totals=None, source=None):
    return ReportEntry(
        year=year,
        report_id=rid,
        source=source or f"uploads/hz/{rid}.pdf",
        status=status,
        format_version=fmt,
        media="pdf",
        agency="洪泽区人民政府",
        last_modified=when,
        superseded=superseded,
        checks=checks,
        key_totals=totals if totals is not None else _totals(),
    )


def _quarantined(agency: str | None = "洪泽区") -> Quarantined:
    return Quarantined(
        source="uploads/hz/scan.pdf?X-Amz-Credential=AKIDSECRET&X-Amz-Signature=abc",
        sha256="ab" * 32,
        error_type="ScannedDocument",
        message="no text layer on pages 1–6",
        at=datetime(2025, 1, 3, tzinfo=UTC),
        pipeline_version="0.1.0",
        agency_hint=agency,
    )


def _entries() -> list[ReportEntry]:
    return [
        _entry(
            2023,
            "r2023",
            "failed",
            [*_passed("T3-H1", "T3-H2"), _h3(), _blank()],
            when=datetime(2024, 1, 25, tzinfo=UTC),
            totals=_totals(new_received=95.0, litigation=None),
        ),
        _entry(
            2022,
            "r2022b",
            "passed",
            _passed("T3-H1"),
            when=datetime(2023, 2, 1, tzinfo=UTC),
            source="uploads/hz/r2022b.pdf?token=SECRET",
        ),
        _entry(2022, "r2022a", "failed", [_h3()], when=datetime(2023, 1, 20, tzinfo=UTC), superseded=True),
        _entry(
            2019,
            "r2019",
            "passed",
            _passed("T3-H1"),
            when=datetime(2020, 1, 30, tzinfo=UTC),
            fmt="2019",
            totals=_totals(new_received=40.0),
        ),
        _entry(
            2020,
            "r2020",
            "passed",
            _passed("T3-H1"),
            when=datetime(2021, 1, 30, tzinfo=UTC),
            fmt="2019",
            totals=_totals(new_received=None),
        ),
    ]


@pytest.fixture
def doc() -> dict:
    return agency_quality("淮安市洪泽区人民政府", "ag3f2a9c1b7d4e", _entries(), [_quarantined()], NOW)


class _Page(HTMLParser):
    """Collects tags, attributes and text, and checks that every element is closed in order."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.decl = ""
        self.feed(text)
        self.close()

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(self.text)

    def find(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def _assert_self_contained(page: str) -> _Page:
    p = _Page(page)
    assert p.decl.lower() == "doctype html"
    assert not p.errors and not p.stack, (p.errors, p.stack)
    assert p.find("html") == [{"lang": "zh-CN"}]
    assert {"charset": "utf-8"} in p.find("meta")
    assert not p.find("script") and not p.find("link") and not p.find("iframe") and not p.find("img")
    for _, attrs in p.tags:
        for name in ("src", "href", "xlink:href", "action"):
            assert not (attrs.get(name) or "").lower().startswith(("http", "//", "javascript:")), attrs
    assert not re.search(r"https?://", page)
    assert "@import" not in page and "url(" not in page
    return p


# ----------------------------------------------------------------------------------------------------
# key totals and labels
# ----------------------------------------------------------------------------------------------------


def test_key_totals_reads_blank_as_none_and_sums_litigation_parts():
    cells = [
        {"table": "t3", "row": "new_received", "col": "total", "value": Decimal(95), "status": "reported"},
        {"table": "t3", "row": "total_processed", "col": "total", "value": None, "status": "blank"},
        {"table": "t3", "row": "carried_forward", "col": "total", "value": 0, "status": "reported"},
        {"table": "t4", "row": "litigation_direct", "col": "total", "value": 2, "status": "reported"},
        {"table": "t4", "row": "litigation_after_review", "col": "total", "value": 1, "status": "reported"},
        {"table": "t4", "row": "admin_review", "col": "total", "value": "—", "status": "dash"},
        {"table": "t2", "row": "administrative_penalty", "col": "decisions", "value": 415, "status": "reported"},
    ]
    got = key_totals(cells)
    assert list(got) == [kt.name for kt in KEY_TOTALS]
    assert got["new_received"] == 95.0 and got["carried_forward"] == 0.0
    assert got["total_processed"] is None and got["admin_review"] is None  # blank / dash: never 0
    assert got["litigation"] == 3.0
    assert got["licensing_decisions"] is None and got["penalty_decisions"] == 415.0


def test_key_totals_litigation_is_none_when_a_part_is_blank():
    cells = [
        {"table": "t4", "row": "litigation_direct", "col": "total", "value": 2, "status": "reported"},
        {"table": "t4", "row": "litigation_after_review", "col": "total", "value": None, "status": "blank"},
    ]
    assert key_totals(cells)["litigation"] is None


def test_cell_labels_name_the_printed_row_and_column():
    assert cell_label("t3", "granted", "total") == "三·（一）予以公开 × 总计"
    assert cell_label("t3", "partially_granted", "natural_person") == "三·（二）部分公开 × 自然人"
    assert cell_label("t3", "denied_state_secret", "total") == "三·（三）不予公开·1.属于国家秘密 × 总计"
    assert cell_label("t4", "litigation_direct", "pending") == "四·行政诉讼·未经复议直接起诉 × 尚未审结"
    assert cell_label("t2", "administrative_licensing", "decisions", "2019") == "二·行政许可 × 处理决定数量"
    assert cell_label("t2", "administrative_licensing", "decisions", "2021_mixed") == "二·行政许可 × 本年处理决定数量"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_canonical_key_has_a_chinese_label(layout):
    for k in cell_keys(layout):
        label = cell_label(k.table, k.row, k.col, layout)
        assert k.row not in label and k.col not in label, label


# ----------------------------------------------------------------------------------------------------
# the agency JSON
# ----------------------------------------------------------------------------------------------------


def test_agency_json_shape(doc):
    json.loads(json.dumps(doc, ensure_ascii=False))  # plain JSON types only (Decimal cells included)
    assert doc["agency"] == "淮安市洪泽区人民政府" and doc["agency_id"] == "ag3f2a9c1b7d4e"
    assert doc["generated_at"] == NOW.isoformat()
    order = [(r["year"], r["report_id"]) for r in doc["reports"]]
    assert order == [(2019, "r2019"), (2020, "r2020"), (2022, "r2022a"), (2022, "r2022b"), (2023, "r2023")]
    for r in doc["reports"]:
        assert {"year", "report_id", "source", "status", "format_version", "media", "superseded", "checks"} <= set(r)
        for c in r["checks"]:
            assert set(c) == {"rule", "severity", "passed", "message", "cells", "origin"}


def test_agency_json_failed_checks_keep_cells_and_passed_checks_are_compact(doc):
    r2023 = doc["reports"][-1]
    h3 = next(c for c in r2023["checks"] if c["rule"] == "T3-H3")
    assert h3["passed"] is False and h3["origin"] == "source"
    assert h3["cells"][0] == {"table": "t3", "row": "granted", "col": "total", "page": 3, "value": 12, "suggested": 15}
    blank = next(c for c in r2023["checks"] if c["rule"] == "BLANK-01")
    assert blank["severity"] == "info" and blank["cells"][0]["value"] is None
    passed = [c for c in r2023["checks"] if c["passed"]]
    assert len(passed) == 2 and all(c["cells"] == [] and c["origin"] is None for c in passed)
    assert r2023["key_totals"]["litigation"] is None and r2023["key_totals"]["new_received"] == 95.0


def test_agency_json_superseded_quarantine_and_summary(doc):
    assert [r["report_id"] for r in doc["reports"] if r["superseded"]] == ["r2022a"]
    assert doc["reports"][3]["source"] == "uploads/hz/r2022b.pdf"  # query string dropped
    [q] = doc["quarantine"]
    assert q == {
        "source": "uploads/hz/scan.pdf",
        "sha256": "ab" * 32,
        "error_type": "ScannedDocument",
        "message": "no text layer on pages 1–6",
        "at": "2025-01-03T00:00:00+00:00",
        "pipeline_version": "0.1.0",
        "agency_hint": "洪泽区",
    }
    s = doc["summary"]
    assert (s["reports"], s["superseded"], s["passed"], s["warned"], s["failed"]) == (4, 1, 3, 0, 1)
    assert (s["failed_errors"], s["warnings"], s["infos"], s["quarantined"]) == (1, 0, 1, 1)
    assert s["years"] == [2019, 2020, 2022, 2023]
    assert "SECRET" not in json.dumps(doc)


def test_agency_json_with_only_quarantine():
    d = agency_quality(None, "agq", [], [_quarantined(None)], NOW)
    assert d["reports"] == [] and len(d["quarantine"]) == 1
    assert d["summary"]["reports"] == 0 and d["summary"]["quarantined"] == 1 and d["summary"]["years"] == []


# ----------------------------------------------------------------------------------------------------
# the agency page
# ----------------------------------------------------------------------------------------------------


def test_agency_html_is_self_contained_and_well_formed(doc):
    _assert_self_contained(agency_html(doc))


def test_agency_html_shows_the_failing_cell_page_printed_and_suggested_values(doc):
    page = agency_html(doc)
    text = _Page(page).all_text
    assert "三·（一）予以公开 × 总计" in text and "t3.granted.total" in text
    assert "第 3 页" in text
    row = re.search(r"<tr><td>三·（一）予以公开 × 总计</td>.*?</tr>", page)
    assert row is not None
    assert ">12<" in row.group(0) and ">15*<" in row.group(0)  # printed, then suggested
    assert SUGGESTION_NOTE in text and "suggestion only — the published value is what was printed" in text
    assert "T3-H3" in text and "BLANK-01" in text and "原文自相矛盾" in text
    assert text.index("T3-H3") < text.index("BLANK-01")  # errors before infos
    assert "四·行政诉讼·未经复议直接起诉 × 总计" in text and "空白" in text
    assert "已通过 2 条规则" in text


def test_agency_html_lists_history_and_quarantine(doc):
    p = _Page(agency_html(doc))
    text = p.all_text
    assert "历史版本" in text and "r2022a" in text and "uploads/hz/r2022a.pdf" in text
    assert "ScannedDocument" in text and "no text layer on pages 1–6" in text and "uploads/hz/scan.pdf" in text
    assert "AKIDSECRET" not in text and "SECRET" not in text
    assert {"y2019", "y2020", "y2022", "y2023", "quarantine"} <= {a.get("id") for _, a in p.tags}


def test_agency_html_chart_has_one_path_per_key_total_and_breaks_at_gaps(doc):
    p = _Page(agency_html(doc))
    assert len(p.find("svg")) == 1
    paths = {a["data-key"]: a["d"] for a in p.find("path") if a.get("class") == "series"}
    assert sorted(paths) == sorted(kt.name for kt in KEY_TOTALS)
    assert len(p.find("path")) == len(KEY_TOTALS)
    # new_received: 40 (2019), None (2020), no report (2021), 10 (2022), 95 (2023) -> two pieces
    assert paths["new_received"].count("M") == 2
    assert paths["total_processed"].count("M") == 2  # 2019–2020, then 2022–2023 (2021 is missing)
    assert {"本年新收申请", "行政诉讼", "行政处罚决定"} <= set(p.text)  # legend


def test_agency_html_chart_with_a_single_year():
    one = agency_quality("某局", "agone", [_entry(2021, "r", "passed", [], when=NOW)], [], NOW)
    p = _assert_self_contained(agency_html(one))
    paths = [a["d"] for a in p.find("path") if a.get("class") == "series"]
    assert len(paths) == len(KEY_TOTALS) and all(d.count("M") == 1 and "L" not in d for d in paths)
    assert len(p.find("circle")) == len(KEY_TOTALS)
    assert "2021" in p.text


def test_agency_html_with_zero_reports_only_quarantine():
    d = agency_quality(None, "agq", [], [_quarantined(None)], NOW)
    p = _assert_self_contained(agency_html(d))
    assert "没有可发布的报告" in p.all_text and "ScannedDocument" in p.all_text
    assert not p.find("svg")


def test_agency_html_escapes_untrusted_strings():
    bad = _entry(
        2021,
        "r",
        "failed",
        [CheckResult("TXT-01", "warn", False, 'x <img src=x onerror="alert(1)">')],
        when=NOW,
        source="uploads/<b>.pdf",
    )
    d = agency_quality("<script>alert(1)</script>局", "ag<x>", [bad], [], NOW)
    page = agency_html(d)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;局" in page
    assert "<img" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "<b>.pdf" not in page and "<x>" not in page
    _assert_self_contained(page)


# ----------------------------------------------------------------------------------------------------
# the index page
# ----------------------------------------------------------------------------------------------------


def _agencies() -> list[dict]:
    good = agency_quality(
        "甲局", "aga", [_entry(y, f"a{y}", "passed", [], when=NOW) for y in (2021, 2022, 2023)], [], NOW
    )
    worst = agency_quality(
        "<b>乙局</b>", "agb", [_entry(2022, "b", "failed", [_h3(), _h3(), _h3()], when=NOW)], [], NOW
    )
    mild = agency_quality(
        "丙局",
        "agc",
        [_entry(2021, "c1", "failed", [_h3()], when=NOW), _entry(2023, "c3", "warned", [], when=NOW)],
        [_quarantined()],
        NOW,
    )
    only_q = agency_quality(None, "agq", [], [_quarantined(None)], NOW)
    return [good, mild, worst, only_q]


def test_index_lists_the_worst_offender_first():
    page = index_html(_agencies(), generated_at=NOW)
    p = _assert_self_contained(page)
    offenders = re.search(r'<table class="offenders">.*?</table>', page, re.DOTALL)
    assert offenders is not None
    links = re.findall(r'href="([^"]+)"', offenders.group(0))
    assert links == ["agb.html", "agc.html"]
    assert "&lt;b&gt;乙局&lt;/b&gt;" in page and "<b>乙局" not in page
    assert {"agb.html", "agc.html", "aga.html", "agq.html"} <= {a.get("href") for a in p.find("a")}


def _missing_rows(page: str) -> dict[str, str]:
    missing = re.search(r'<table class="missing">.*?</table>', page, re.DOTALL)
    if missing is None:
        return {}
    found = re.findall(r'href="(\w+)\.html">.*?</a></td><td>.*?</td><td>(.*?)</td>', missing.group(0))
    return {m[0]: m[1] for m in found}


def test_index_missing_years_are_the_gaps_in_each_agencys_own_span():
    # aga 2021–2023, agb 2022 only, agc 2021 and 2023, agq nothing: only agc has a gap of its own
    assert _missing_rows(index_html(_agencies())) == {"agc": "2022"}
    # 2020 and 2024 exist elsewhere: still no agency is said to miss a year before or after its own span
    early = agency_quality("丁局", "agd", [_entry(y, f"d{y}", "passed", [], when=NOW) for y in (2020, 2024)], [], NOW)
    assert _missing_rows(index_html([*_agencies(), early])) == {"agc": "2022", "agd": "2021, 2022, 2023"}
    assert "没有机关缺失年度" in _Page(index_html(_agencies()[:1])).all_text


def test_index_missing_years_of_explicit_expected_years():
    page = index_html(_agencies(), expected_years=[2020, 2021, 2022, 2023])
    assert _missing_rows(page) == {
        "aga": "2020",
        "agb": "2020, 2021, 2023",
        "agc": "2020, 2022",
        "agq": "2020, 2021, 2022, 2023",
    }
    assert "预期年度 2020–2023（4 个年度）" in _Page(page).all_text


def test_index_pass_rates_per_year():
    text = _Page(index_html(_agencies())).all_text
    assert "各年度通过率" in text and "100%" in text and "50%" in text
    assert "2 个隔离文件" in text


def test_index_with_no_agencies():
    _assert_self_contained(index_html([], expected_years=None, generated_at=None))


# ----------------------------------------------------------------------------------------------------
# the run summary (Prefect artifacts)
# ----------------------------------------------------------------------------------------------------


def test_run_summary_rows_and_markdown(doc):
    docs = [doc, *_agencies()]
    quarantined = [_quarantined(), _quarantined(None)]
    markdown, rows = run_summary(docs, quarantined)
    current = sum(1 for d in docs for r in d["reports"] if not r["superseded"])
    assert len(rows) == current + len(quarantined)
    keys = {"agency", "agency_id", "year", "status", "failed_errors", "warnings", "source"}
    assert all(keys <= set(r) for r in rows)
    q_rows = [r for r in rows if r["status"] == "quarantined"]
    assert len(q_rows) == 2 and "ScannedDocument" in q_rows[0]["note"]
    assert all("?" not in r["source"] for r in rows)
    blob = markdown + json.dumps(rows, ensure_ascii=False)
    assert "SECRET" not in blob and "X-Amz" not in blob and "token=" not in blob
    assert markdown.index("agb") < markdown.index("agc")  # worst offender first
    assert "quarantined files: **2**" in markdown
    assert "\\<b\\>乙局\\</b\\>" in markdown  # markdown cells escaped


# ----------------------------------------------------------------------------------------------------
# purity
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["quality.py", "quality_pages.py"])
def test_quality_modules_are_pure(module):
    path = Path(__file__).resolve().parents[2] / "tasks" / module
    mods = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module.split(".")[0])
    assert not mods & {"prefect", "boto3", "botocore", "great_expectations", "pdfminer"}
    assert "html" not in mods and "markupsafe" not in mods  # no escaping by hand: the templates autoescape


def test_urls_in_quarantine_messages_lose_credentials_everywhere():
    q = Quarantined(
        source="https://user:pw@example.invalid/a.pdf?sig=SECRET",
        sha256="0" * 64,
        error_type="FetchError",
        message="403 for https://user:pw@example.invalid/a.pdf?X-Amz-Signature=SECRET, gave up",
        at=NOW,
        pipeline_version="0.1.0",
    )
    d = agency_quality("某局", "agx", [], [q], NOW)
    markdown, rows = run_summary([d], [q])
    for blob in (json.dumps(d), agency_html(d), markdown, json.dumps(rows)):
        assert "SECRET" not in blob and "pw@" not in blob
    assert d["quarantine"][0]["message"] == "403 for https://example.invalid/a.pdf gave up"
