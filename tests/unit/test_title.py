"""Agency and year from the title, as printed in real reports' variants."""

import pytest

from tasks.extract.model import Document, Paragraph
from tasks.extract.report import find_title


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
