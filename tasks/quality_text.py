"""The Chinese sentences of the quality pages: what a failed check found, and why a file was
quarantined, in the page's language.

Built from what is stored, never from parsing the English: a check's rule id (its name and statement
from the rule catalogue, `tasks.spec.rules`) and its structured fields (the cells it names, with
their printed, suggested, implied, previous-year or narrative values, spec §6), and a quarantine
record's error type. The stored `message` (English, the `checks` and quarantine datasets' column) is
unchanged; the pages show it as the second line. A suggested value is only ever a suggestion.
Pure: no Jinja, no Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from tasks.checks.crossyear import PLAUS_FACTOR, PLAUS_MIN_ABS
from tasks.fitting import MAX_INTEGER_DIGITS, VALUE_SCALE
from tasks.quality import cell_label
from tasks.spec.rules import RULES_BY_ID

Cells = Sequence[Mapping[str, Any]]

ERROR_TEXTS: dict[str, str] = {
    "UnsupportedFormat": "不是 PDF、HTML、DOCX 或文本文件（例如图片、表格文件、压缩包），无法识读",
    "CorruptDocument": "文件自称是已知格式，但无法解析（截断、损坏或结构循环）",
    "EncryptedDocument": "文件有密码保护，没有密码无法读取",
    "ScannedDocument": "文件没有文字层（扫描件或页面图片），需经 OCR 识读",
    "NotAReport": "文件可以读取，但不是政府信息公开工作年度报告",
    "TableNotFound": "是年度报告，但未能读出任何一张统计表",
    "DocumentTooLarge": "文件超过大小限制，或解压后超过限制（疑似压缩炸弹）",
    "ResourceLimitExceeded": "解析所用的时间或内存超过限制",
    "Unpublishable": "报告的数据无法按数据集的结构写入（未发布）",
    "MetadataNotFound": "未能从报告标题读出机关或年度（META-01），不从正文推断或猜测",
}
"""Why a file was quarantined, per error type (`tasks.errors` and the pipeline's MetadataNotFound)."""

SUGGESTION = "建议值，仅供参考，发布值仍为原文印刷值"


def fmt_num(v: Any) -> str:
    """A number as the pages print it (`1,234`, `2.5`); None (no value) as “—”."""
    if v is None or isinstance(v, bool):
        return "—"
    if isinstance(v, Decimal):
        v = int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".")
    return str(v)


def error_text(error_type: str | None) -> str:
    """Why a file was quarantined, in Chinese (an unknown type is named as it is)."""
    return ERROR_TEXTS.get(error_type or "", f"未归类的错误（{error_type or '未知'}）")


def check_text(check: Mapping[str, Any], fmt: str | None = None) -> str:
    """What one check found, in Chinese, from its rule id and cells (`fmt`: the report's format
    version, for the printed labels of table 2)."""
    rule = str(check.get("rule", ""))
    r = RULES_BY_ID.get(rule)
    if r is None:
        return f"规则目录中没有规则 {rule}"
    if check.get("passed"):
        return f"已通过：{r.text}"
    cells = [c for c in check.get("cells") or [] if isinstance(c, Mapping)]
    builder = _BUILDERS.get(rule)
    return builder(r.title, cells, fmt) if builder else f"未通过：{r.text}"


# ----------------------------------------------------------------------------------------------------
# per rule
# ----------------------------------------------------------------------------------------------------


def _label(c: Mapping[str, Any], fmt: str | None, col: bool = True) -> str:
    return cell_label(str(c.get("table", "")), c.get("row"), c.get("col") if col else None, fmt)


def _list(parts: Sequence[str], most: int = 6) -> str:
    shown = "；".join(parts[:most])
    return shown + (f"；等 {len(parts)} 处" if len(parts) > most else "")


def _identity(title: str, cells: Cells, fmt: str | None) -> str:
    suggested = [c for c in cells if c.get("suggested") is not None]
    if suggested and not any(c.get("ambiguous") for c in suggested):
        fix = "、".join(f"{_label(c, fmt)} 为 {fmt_num(c['suggested'])}" for c in suggested)
        return f"{title}不成立。若 {fix}，各项等式均成立（{SUGGESTION}）"
    if suggested:
        alts = _list([f"{_label(c, fmt)} 为 {fmt_num(c['suggested'])}" for c in suggested])
        return f"{title}不成立。可能的改法不止一种，以下任一种都能使各项等式成立（{SUGGESTION}）：{alts}"
    named = _list([f"{_label(c, fmt)}（印刷值 {fmt_num(c.get('value'))}）" for c in cells])
    return f"{title}不成立，改动一至两个单元格都不能使各项等式全部成立" + (f"。涉及的总计：{named}" if named else "")


def _dom01(title: str, cells: Cells, fmt: str | None) -> str:
    return "超出取值范围（件数须为不小于 0 的整数）：" + _list([f"{_label(c, fmt)} = {fmt_num(c.get('value'))}" for c in cells])


def _t2191(title: str, cells: Cells, fmt: str | None) -> str:
    rows: dict[str, dict[str, Any]] = {}
    for c in cells:
        rows.setdefault(_label(c, fmt, col=False), {})[str(c.get("col"))] = c.get("value")
    parts = [f"{row}：本年新公开 {fmt_num(v.get('newly_published'))}，大于对外公开总数 {fmt_num(v.get('total_published'))}"
             for row, v in rows.items()]  # fmt: skip
    return "本年新公开数量超过对外公开总数量：" + _list(parts)


def _c1(title: str, cells: Cells, fmt: str | None) -> str:
    def bound(c: Mapping[str, Any]) -> str:
        return "本年新收与上年结转之和" if c.get("row") == "carried_forward" else "同列办理结果总计"

    return "超过上限：" + _list([f"{_label(c, fmt)}（{fmt_num(c.get('value'))}）超过{bound(c)}" for c in cells])


def _struct01(title: str, cells: Cells, fmt: str | None) -> str:
    return "六个部分的标题有缺失或顺序不符"


def _struct02(title: str, cells: Cells, fmt: str | None) -> str:
    lost = _list([_label(c, fmt) for c in cells], most=8)
    return f"{len(cells)} 个应有的单元格未读出" + (f"：{lost}" if lost else "") if cells else "未识别出报告格式，或未找到统计表"


def _struct03(title: str, cells: Cells, fmt: str | None) -> str:
    return "（六）其他处理只印为一行：按 2021_mixed 格式读取"


def _blank01(title: str, cells: Cells, fmt: str | None) -> str:
    implied = [c for c in cells if c.get("implied") is not None]
    unknown = [c for c in cells if c.get("implied") is None]
    out = []
    if implied:
        each = _list([f"{_label(c, fmt)} 按等式推得 {fmt_num(c['implied'])}" for c in implied])
        out.append(f"{len(implied)} 个明细单元格空白（未填写）：{each}。空白按“未填写”读，不按 0 计；"
                   f"填入推得的值（{SUGGESTION}）则各项等式均成立；涉及这些单元格的等式未予核对")  # fmt: skip
    if unknown:
        out.append(f"{len(unknown)} 个空白单元格记为未知（涉及它们的等式不成立），不按 0 计："
                   + _list([_label(c, fmt) for c in unknown]))  # fmt: skip
    return "。".join(out) or f"未通过：{RULES_BY_ID['BLANK-01'].text}"


def _xy01(title: str, cells: Cells, fmt: str | None) -> str:
    parts = [f"{_label(c, fmt)} 为 {fmt_num(c.get('value'))}，上一年度“结转下年度”为 {fmt_num(c.get('previous'))}"
             for c in cells]  # fmt: skip
    return "本年度“上年结转”与上一年度“结转下年度”不一致：" + _list(parts)


def _continuity(what: str) -> Callable[[str, Cells, str | None], str]:
    def build(title: str, cells: Cells, fmt: str | None) -> str:
        parts = []
        for c in cells:
            now, expected = c.get("value"), c.get("expected_by_continuity")
            gap = f"（相差 {now - expected:+g}）" if isinstance(now, int | float) and isinstance(expected, int | float) else ""
            parts.append(f"{_label(c, fmt)} 为 {fmt_num(now)}，按{what}应为 {fmt_num(expected)}{gap}")
        return f"{title}不连续：" + _list(parts)

    return build


def _txt01(title: str, cells: Cells, fmt: str | None) -> str:
    parts = [f"正文复述为 {fmt_num(c.get('narrative'))}，表格中 {_label(c, fmt)} 印为 {fmt_num(c.get('value'))}"
             for c in cells]  # fmt: skip
    return "正文与表格不一致：" + (_list(parts) if parts else "正文中复述的总数与表格不符")


def _txt02(title: str, cells: Cells, fmt: str | None) -> str:
    return "第六部分未提及信息处理费"


def _plaus01(title: str, cells: Cells, fmt: str | None) -> str:
    shown = _list([f"{_label(c, fmt)} = {fmt_num(c.get('value'))}" for c in cells])
    return "据机关名称判断，该机关没有规章制定权，但“规章”数量不为 0" + (f"：{shown}" if shown else "")


def _plaus02(title: str, cells: Cells, fmt: str | None) -> str:
    return f"关键总数与上一年度相比变化超过 {PLAUS_FACTOR:g} 倍（且变化至少 {PLAUS_MIN_ABS:g}），请核对"


def _range01(title: str, cells: Cells, fmt: str | None) -> str:
    values = [c for c in cells if c.get("refused") == "value"]
    other = [c for c in cells if c.get("refused") != "value"]
    out = []
    if values:
        shown = _list([f"{_label(c, fmt)} 印为“{_short(c.get('printed'))}”" for c in values], most=5)
        out.append(f"{len(values)} 个印刷数字超出发布类型（整数部分至多 {MAX_INTEGER_DIGITS} 位、小数至多 "
                   f"{VALUE_SCALE} 位），以文本发布（状态 out_of_range，数值为空，原文保留在 raw），未作截断或舍入：{shown}")  # fmt: skip
    if other:
        out.append(f"{len(other)} 个页码或位置超出范围，留空")
    return "。".join(out) or f"未通过：{RULES_BY_ID['RANGE-01'].text}"


def _short(text: Any, n: int = 40) -> str:
    s = str(text)
    return s if len(s) <= n else f"{s[:n]}…（共 {len(s)} 个字符）"


def _ctrl01(title: str, cells: Cells, fmt: str | None) -> str:
    return "文本中有控制字符或不可见字符，已在识读前删除并计数"


def _meta01(title: str, cells: Cells, fmt: str | None) -> str:
    return "标题未载明机关：机关记为空，文件转入隔离区"


_BUILDERS: dict[str, Callable[[str, Cells, str | None], str]] = {
    "META-01": _meta01,
    "STRUCT-01": _struct01,
    "STRUCT-02": _struct02,
    "STRUCT-03": _struct03,
    "T3-C1": _c1,
    "T2-19-1": _t2191,
    "DOM-01": _dom01,
    **dict.fromkeys(("T3-H1", "T3-H2", "T3-H3", "T4-H1"), _identity),
    "BLANK-01": _blank01,
    "XY-01": _xy01,
    "XY-02": _continuity("上年现行有效件数 + 本年制发件数 − 本年废止件数"),
    "XY-03": _continuity("上一年度的“上一年项目数量”+“本年增/减”"),
    "TXT-01": _txt01,
    "TXT-02": _txt02,
    "PLAUS-01": _plaus01,
    "PLAUS-02": _plaus02,
    "RANGE-01": _range01,
    "CTRL-01": _ctrl01,
}
RULES_WITH_TEXT = frozenset(_BUILDERS)
"""The rules whose failure has its own Chinese sentence (every rule of the catalogue)."""
