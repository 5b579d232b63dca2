"""The validation rule catalogue of spec §6: ids, severities, the English statement, and the
Chinese short name and statement the quality pages show, written once."""

from __future__ import annotations

from tasks.spec.model import Rule

RULES: tuple[Rule, ...] = (
    Rule("META-01", "error", "a title names the agency; with none its agency is null, never taken from the body "
                             "or guessed, and the pipeline quarantines the file (MetadataNotFound)",
         "标题载明机关", "报告标题须载明机关名称；标题未载明的，机关记为空，不从正文推断或猜测，"
                         "文件转入隔离区（MetadataNotFound）"),
    Rule("STRUCT-01", "warn", "six section headings found in order",
         "六个部分齐全", "按顺序找到全部六个部分的标题"),
    Rule("STRUCT-02", "error", "format version detected; all expected cells found",
         "格式与单元格齐全", "识别出报告的格式版本，且找到该格式应有的全部单元格"),
    Rule("STRUCT-03", "warn", "2021 format: （六）其他处理 has three leaves; a single row marks 2021_mixed",
         "“其他处理”三个子项", "2021 年格式：（六）其他处理应分三个子项；只印一行的记为 2021_mixed 格式"),
    Rule("T3-C1", "error", "per column: carried_forward ≤ new_received + carried_over; each result row ≤ total_processed",
         "表三上限关系", "逐列：结转下年度 ≤ 本年新收 + 上年结转；每一办理结果行 ≤ 办理结果总计"),
    Rule("T2-19-1", "warn", "2019 table 2: newly_published ≤ total_published",
         "表二新公开不超过总数", "2019 年格式表二：本年新公开数量 ≤ 对外公开总数量"),
    Rule("DOM-01", "error", "counts are integers ≥ 0; amounts decimal ≥ 0; items_change may be negative",
         "数值取值范围", "件数为不小于 0 的整数，金额为不小于 0 的数；只有“本年增/减”可为负数"),
    Rule("T3-H1", "error", "per column: 一 + 二 = (七) + 四",
         "表三收结平衡", "逐列：一（本年新收）+ 二（上年结转）=（七）总计 + 四（结转下年度）"),
    Rule("T3-H2", "error", "per column: (七)总计 = sum of the leaves of (一)–(六)",
         "表三办理结果合计", "逐列：（七）总计 =（一）至（六）各末级项之和"),
    Rule("T3-H3", "error", "per row: 总计 = 自然人 + the five organisation columns",
         "表三申请人合计", "逐行：总计 = 自然人 + 法人或其他组织的五列之和"),
    Rule("T4-H1", "error", "per block: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
         "表四合计", "每一栏（行政复议、行政诉讼）：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结"),
    Rule("BLANK-01", "info", "blank read as 0 where every identity touching it holds, else unknown",
         "空白单元格的读法", "涉及空白单元格的各项等式都成立时按 0 读，否则记为未知（不按 0 计）"),
    Rule("XY-01", "warn", "carried_over(y) = carried_forward(y−1), per column",
         "跨年度结转一致", "逐列：本年度“上年结转”= 上一年度“结转下年度”"),
    Rule("XY-02", "warn", "2021 table 2: in_force(y) ≈ in_force(y−1) + issued(y) − abolished(y)",
         "跨年度现行有效件数", "2021 年格式表二：本年现行有效件数 ≈ 上年现行有效件数 + 本年制发件数 − 本年废止件数"),
    Rule("XY-03", "warn", "2019→2020 table 2: prior_year_items(y) = prior_year_items(y−1) + items_change(y−1)",
         "跨年度项目数量", "2019 年格式表二：本年“上一年项目数量”= 上一年度的“上一年项目数量”+ 其“本年增/减”"),
    Rule("TXT-01", "warn", "totals restated in the narrative equal the table's",
         "正文与表格一致", "正文中复述的总数与表格中的一致"),
    Rule("TXT-02", "info", "section 六 states the 信息处理费 collected",
         "信息处理费", "第六部分载明收取信息处理费的情况"),
    Rule("PLAUS-01", "info", "规章 non-zero for an agency that cannot make rules",
         "规章数量", "无规章制定权的机关，“规章”数量不为 0"),
    Rule("PLAUS-02", "info", "year-over-year change of key totals beyond a threshold",
         "关键总数的年度变化", "关键总数与上一年度相比变化超过阈值"),
    Rule("CTRL-01", "info", "no control or invisible characters (NUL, C0/C1 controls, lone surrogates, bidi overrides, "
                            "zero-width characters) in the text; any found are removed before reading, and counted",
         "控制字符与不可见字符", "文本中没有控制字符或不可见字符（NUL、C0/C1 控制符、孤立代理项、双向覆盖符、零宽字符）；"
                               "发现的在识读前删除并计数"),
    Rule("RANGE-01", "warn", "every printed number and position fits its published type; one that does not is "
                             "published as text (`out_of_range`, raw kept) or left null, never clipped or rounded",
         "数值超出发布类型", "每个印刷的数字和位置都在其发布类型的范围内；超出的以文本发布（out_of_range，保留原文）"
                             "或留空，绝不截断或舍入"),
)
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
