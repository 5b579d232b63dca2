"""The validation rule catalogue of spec §6: ids and severities, written once."""

from __future__ import annotations

from tasks.spec.model import Rule

RULES: tuple[Rule, ...] = (
    Rule("META-01", "error", "a title names the agency; with none its agency is null, never taken from the body "
                             "or guessed, and the pipeline quarantines the file (MetadataNotFound)"),
    Rule("STRUCT-01", "warn", "six section headings found in order"),
    Rule("STRUCT-02", "error", "format version detected; all expected cells found"),
    Rule("STRUCT-03", "warn", "2021 format: （六）其他处理 has three leaves; a single row marks 2021_mixed"),
    Rule("T3-C1", "error", "per column: carried_forward ≤ new_received + carried_over; each result row ≤ total_processed"),
    Rule("T2-19-1", "warn", "2019 table 2: newly_published ≤ total_published"),
    Rule("DOM-01", "error", "counts are integers ≥ 0; amounts decimal ≥ 0; items_change may be negative"),
    Rule("T3-H1", "error", "per column: 一 + 二 = (七) + 四"),
    Rule("T3-H2", "error", "per column: (七)总计 = sum of the leaves of (一)–(六)"),
    Rule("T3-H3", "error", "per row: 总计 = 自然人 + the five organisation columns"),
    Rule("T4-H1", "error", "per block: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结"),
    Rule("BLANK-01", "info", "blank read as 0 where every identity touching it holds, else unknown"),
    Rule("XY-01", "warn", "carried_over(y) = carried_forward(y−1), per column"),
    Rule("XY-02", "warn", "2021 table 2: in_force(y) ≈ in_force(y−1) + issued(y) − abolished(y)"),
    Rule("XY-03", "warn", "2019→2020 table 2: prior_year_items(y) = prior_year_items(y−1) + items_change(y−1)"),
    Rule("TXT-01", "warn", "totals restated in the narrative equal the table's"),
    Rule("TXT-02", "info", "section 六 states the 信息处理费 collected"),
    Rule("PLAUS-01", "info", "规章 non-zero for an agency that cannot make rules"),
    Rule("PLAUS-02", "info", "year-over-year change of key totals beyond a threshold"),
    Rule("CTRL-01", "info", "no control or invisible characters (NUL, C0/C1 controls, lone surrogates, bidi overrides, "
                            "zero-width characters) in the text; any found are removed before reading, and counted"),
    Rule("RANGE-01", "warn", "every printed number and position fits its published type; one that does not is "
                             "published as text (`out_of_range`, raw kept) or left null, never clipped or rounded"),
)
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
