"""Agency and year from the title, as printed in real reports' variants."""

import shutil
from pathlib import Path

import pytest

from tasks import pipeline
from tasks.extract import extract_path
from tasks.extract.model import Document, Paragraph
from tasks.extract.report import find_title
from tasks.sandbox import ExtractorPool
from tasks.storage import LocalStore


def _doc(*lines: str) -> Document:
    return Document("text", [Paragraph(t) for t in lines])


@pytest.mark.parametrize(
    ("lines", "agency", "year"),
    [
        (["淮安市洪泽区人民政府2024年政府信息公开工作年度报告"], "淮安市洪泽区人民政府", 2024),
        (["2019年上海市人民政府办公厅政府信息公开工作年度报告"], "上海市人民政府办公厅", 2019),
        (["济宁经济技术开发区党工委组织部", "2021年政府信息公开工作年度报告"], "济宁经济技术开发区党工委组织部", 2021),
        (["淮安市洪泽区人民政府2024年政府信息公开", "工作年度报告"], "淮安市洪泽区人民政府", 2024),
        (["首页 > 政务公开 > 政府信息公开年度报告", "某某市审计局2022年度政府信息公开工作年度报告"], "某某市审计局", 2022),
        (["某某县卫生健康委员会政府信息公开工作年度报告（2023年度）"], "某某县卫生健康委员会", 2023),
        (["某某镇人民政府二〇二一年政府信息公开工作年度报告"], "某某镇人民政府", 2021),
        (["《某某区教育局2020年政府信息公开工作年度报告》"], "某某区教育局", 2020),
    ],
)
def test_title_variants(lines, agency, year):
    assert find_title(_doc(*lines)) == (agency, year)


def test_no_title():
    assert find_title(_doc("关于开展春季植树活动的通知", "各单位：")) == (None, None)


# --------------------------------------------------------------------------- site furniture around the title


@pytest.mark.parametrize(
    ("lines", "agency", "year"),
    [
        # the column's name run into the title (no separator)
        (["政府信息公开年报某某新区管委会2023年政府信息公开工作年度报告"], "某某新区管委会", 2023),
        (["【年报】某某县水利局2022年度政府信息公开工作年度报告"], "某某县水利局", 2022),
        # page labels of a metadata block
        (["标题：某某县农业农村局2023年政府信息公开工作年度报告"], "某某县农业农村局", 2023),
        (["发布机构：某某县农业农村局 标题：某某县农业农村局2023年政府信息公开工作年度报告"], "某某县农业农村局", 2023),
        # bullets and list marks
        (["• 某某街道办事处2021年政府信息公开工作年度报告"], "某某街道办事处", 2021),
        (["·某某市统计局2020年政府信息公开工作年度报告"], "某某市统计局", 2020),
        (["1. 某某市统计局2020年政府信息公开工作年度报告"], "某某市统计局", 2020),
        # a printed page's running header (date and time) before the title
        (["12/1/26, 10:41 PM 某某市统计局2020年政府信息公开工作年度报告"], "某某市统计局", 2020),
        (["2021-01-20 某某市统计局2020年政府信息公开工作年度报告"], "某某市统计局", 2020),
        # a breadcrumb ending with the page's title
        (["当前位置：首页 > 信息公开 > 年度报告 > 某某区民政局2024年政府信息公开工作年度报告"], "某某区民政局", 2024),
        (["首页 / 政务公开 / 某某区民政局2024年政府信息公开工作年度报告"], "某某区民政局", 2024),
        # a bracketed second name ends the agency's name and is kept (width-folded, as every name)
        (["某某市人民政府办公室（市政务公开办）2022年政府信息公开工作年度报告"], "某某市人民政府办公室(市政务公开办)", 2022),
        # the agency on the line below the title
        (["2023年政府信息公开工作年度报告", "某某县审计局"], "某某县审计局", 2023),
    ],
)
def test_title_without_site_furniture(lines, agency, year):
    assert find_title(_doc(*lines)) == (agency, year)


def test_furniture_alone_is_no_agency():
    """A breadcrumb or column name before a title without an agency gives no agency, not the furniture."""
    assert find_title(_doc("当前位置：首页 > 政务公开 > 政府信息公开年报", "2023年政府信息公开工作年度报告")) == (None, 2023)
    assert find_title(_doc("政府信息公开年报", "2023年度政府信息公开工作年度报告")) == (None, 2023)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "generated"


def test_a_report_without_a_title_has_agency_null_and_meta01():
    """The body names the agency (本报告由…编制), but no title does: null with META-01, not a guess."""
    out = extract_path(FIXTURES / "html_2021_no_title" / "source.html").to_dict()
    assert out["agency"] is None and out["year"] == 2023
    assert [i["rule"] for i in out["issues"]].count("META-01") == 1
    assert all(c["status"] == "reported" for c in out["cells"])
    titled = extract_path(FIXTURES / "html_2021_column_title" / "source.html").to_dict()
    assert "META-01" not in {i["rule"] for i in titled["issues"]}


def test_the_pipeline_quarantines_a_report_without_a_title(tmp_path):
    """prepare() quarantines the untitled report (MetadataNotFound) and publishes the titled one."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("html_2021_no_title", "html_2021_column_title"):
        shutil.copy(FIXTURES / name / "source.html", src / f"{name}.html")
    source, output = LocalStore(src), LocalStore(tmp_path / "out")
    with ExtractorPool(1) as pool:
        extracted = [pipeline.extract_one(source, i, pool) for i in pipeline.pending(source, output)]
    prepared = pipeline.prepare(extracted)
    assert [m.agency for m, _ in prepared.reports] == ["样例县发展和改革局"]
    [(_, q)] = prepared.quarantined
    assert q.error_type == "MetadataNotFound" and "agency" in q.message and q.source.endswith("html_2021_no_title.html")
