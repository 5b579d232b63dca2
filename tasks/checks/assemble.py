"""From the suites' findings (split per report) and the pure checks to one `Validated` per report.

`gx.py` turns each validation's unexpected rows into `Finding`s; everything here is pure:
which rules apply to a report, the message and cells of each rule, localisation and origin,
BLANK-01's explanation, the narrative, cross-year and plausibility checks, and the status.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tasks.checks import narrative
from tasks.checks.blanks import residual
from tasks.checks.crossyear import cross_year
from tasks.checks.frames import Report, expected_cells
from tasks.checks.identities import Cell, Identity, identities
from tasks.checks.localize import Localisation, cell_ref, localise, origin, read_with_certainty
from tasks.checks.plaus import REGULATION_COLUMNS, may_make_rules
from tasks.checks.status import quality_status
from tasks.fitting import clean_extraction, ctrl_check, fit_extraction, range_check
from tasks.records import CheckResult, Validated
from tasks.spec import RULES_BY_ID, base_format, t3, t4

IDENTITY_RULES = ("T3-H1", "T3-H2", "T3-H3", "T4-H1")
_SEVERITY = {"critical": "error", "warning": "warn", "info": "info"}


@dataclass(frozen=True)
class Finding:
    """One unexpected row of one expectation, for one report."""

    report_id: str
    rule: str
    severity: str  # error | warn | info
    table: str | None  # t2/t3/t4 for table frames, None for structure / identity frames
    key: str  # the frame row: a table row, a block, an identity key or "report"
    column: str


def gx_severity(value: str) -> str:
    return _SEVERITY.get(value.lower().split(".")[-1], value)


def applicable_rules(rep: Report, has_previous: bool) -> list[str]:
    """Every rule of spec §6 that applies to this report (each appears once in its checks)."""
    rules = ["STRUCT-01", "STRUCT-02", "RANGE-01", "CTRL-01"]
    if not rep.tables_read:
        return rules
    fmt = base_format(rep.format_version)
    if fmt == "2021":
        rules.append("STRUCT-03")
    rules += ["DOM-01", "T3-H1", "T3-H2", "T3-H3", "T3-C1", "T4-H1", "BLANK-01"]
    if fmt == "2019":
        rules.append("T2-19-1")
    rules += ["TXT-01"] + (["TXT-02"] if fmt == "2021" else []) + ["PLAUS-01"]
    return rules


def _label(cell: Cell) -> str:
    table, row, col = cell
    return f"{table}.{row}.{col}"


# --- table-frame findings -------------------------------------------------------------------


def _dom01(rep: Report, found: list[Finding]) -> CheckResult:
    cells = []
    for f in found:
        if f.column == "fraction":
            cells += [cell_ref(rep, k) for k, v in rep.values.items()
                      if k[0] == f.table and k[1] == f.key and v is not None and not float(v).is_integer()
                      and not (k[0] == "t2" and k[2] in ("fee_amount", "procurement_amount"))]
        elif f.column == "row_min":
            cells += [cell_ref(rep, k) for k, v in rep.values.items()
                      if k[0] == f.table and k[1] == f.key and v is not None and v < 0 and k[2] != "items_change"]
        else:
            cells.append(cell_ref(rep, (str(f.table), f.key, f.column)))
    msg = "; ".join(f"{c['table']}.{c['row']}.{c['col']} = {c['value']}" for c in cells)
    return _check("DOM-01", not found, f"out of domain: {msg}" if found else "every count is an integer ≥ 0", cells,
                  _origin_plain(rep, cells))


def _origin_plain(rep: Report, cells: list[dict[str, Any]]) -> str | None:
    if not cells:
        return None
    ok = all(read_with_certainty(rep, (c["table"], c["row"], c["col"])) for c in cells)
    return "source" if ok else "extraction"


def _t2191(rep: Report, found: list[Finding]) -> CheckResult:
    cells = [cell_ref(rep, ("t2", f.key, c)) for f in found for c in ("newly_published", "total_published")]
    msg = "; ".join(f"{f.key}: newly_published > total_published" for f in found)
    return _check("T2-19-1", not found, msg or "newly_published ≤ total_published", cells, _origin_plain(rep, cells))


def _c1(rep: Report, found: list[Finding]) -> CheckResult:
    cells, parts = [], []
    for f in found:
        col, row = f.key.split(":", 1)
        cells.append(cell_ref(rep, ("t3", row, col)))
        bound = "new_received + carried_over" if row == "carried_forward" else "total_processed"
        parts.append(f"{row}.{col} exceeds {bound}")
    return _check("T3-C1", not found, "; ".join(parts) or "no result row exceeds its bound", cells,
                  _origin_plain(rep, cells))


# --- identities: localisation and origin --------------------------------------------------


def _identities(rep: Report) -> tuple[Identity, ...]:
    fv = rep.format_version
    return identities(fv if fv in ("2019", "2021", "2021_mixed") else "2021")


def _identity_of(rep: Report, f: Finding) -> Identity | None:
    for ident in _identities(rep):
        if ident.rule == f.rule and ident.key == f.key:
            return ident
    return None


def _sum(rep: Report, cells: tuple[Cell, ...]) -> float:
    return float(sum(rep.values.get(c) or 0 for c in cells))


def _identity_check(rule: str, rep: Report, found: list[Finding], loc: Localisation, org: str) -> CheckResult:
    if not found:
        skipped = [i.key for i in _identities(rep) if i.rule == rule and residual(i, rep.values) is None]
        note = f"; not evaluated for {len(skipped)} (a cell has no value, see BLANK-01)" if skipped else ""
        return _check(rule, True, f"{RULES_BY_ID[rule].description}: holds{note}")
    idents = [i for f in found if (i := _identity_of(rep, f)) is not None]
    cells: list[dict[str, Any]] = []
    parts = []
    for ident in idents:
        lhs, rhs = _sum(rep, ident.lhs), _sum(rep, ident.rhs)
        parts.append(f"{ident.key}: {lhs:g} ≠ {rhs:g}")
        cells += _named_cells(rep, ident, loc)
    msg = f"{rule} fails for {len(idents)} {'row' if rule == 'T3-H3' else 'column' if rule.startswith('T3') else 'block'}(s): "
    msg += "; ".join(parts) + _suggestion_text(loc, idents)
    return _check(rule, False, msg, _dedupe(cells), org)


def _named_cells(rep: Report, ident: Identity, loc: Localisation) -> list[dict[str, Any]]:
    mine = [s for s in loc.candidates if set(s) & set(ident.cells)]
    if mine:
        out = []
        for sol in mine:
            for c, v in sol.items():
                ref = cell_ref(rep, c, v)
                if not loc.unique:
                    ref["ambiguous"] = True
                out.append(ref)
        return out
    return [cell_ref(rep, c) for c in ident.lhs]  # no solution: name the printed total(s)


def _suggestion_text(loc: Localisation, idents: list[Identity]) -> str:
    cells = {c for i in idents for c in i.cells}
    if loc.unique and set(loc.suggestions) & cells:
        sug = ", ".join(f"{_label(c)} = {v:g}" for c, v in loc.suggestions.items())
        return f". Every identity holds if {sug} (a suggestion; the printed value is kept)"
    sols = [s for s in loc.candidates if set(s) & cells]
    if sols:
        alts = " or ".join(", ".join(f"{_label(c)} = {v:g}" for c, v in s.items()) for s in sols)
        return f". Ambiguous: any one of {alts} would satisfy every identity"
    return ". No change of one or two cells satisfies every identity"


def _dedupe(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for c in cells:
        k = (c["table"], c["row"], c["col"])
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


# --- structure ------------------------------------------------------------------------------


def _struct(rule: str, rep: Report, found: list[Finding]) -> CheckResult:
    if rule == "STRUCT-01":
        issues = [i["message"] for i in rep.extraction.get("issues", []) if i.get("rule") == "STRUCT-01"]
        return _check(rule, not found, "; ".join(issues) or ("six section headings found" if not found else
                                                                 "section headings missing or out of order"))
    if rule == "STRUCT-03":
        return _check(rule, not found, "（六）其他处理 printed as one row: 2021_mixed" if found else "（六） has three leaves")
    hard = [f for f in found if f.column in ("format_known", "tables_missing")]
    lost = [cell_ref(rep, k) for k in expected_cells(rep)
            if rep.cells.get(k, {}).get("status", "not_found") in ("not_found", "image_only", "ocr_unconfirmed")]
    if hard:
        msg = "format not detected" if not rep.tables_read else "a statistical table was not found"
        return _check(rule, False, msg, lost, "extraction", severity="error")
    if found:
        return _check(rule, False, f"{len(lost)} expected cell(s) not found", lost, "extraction", severity="warn")
    return _check(rule, True, f"format {rep.format_version}; all expected cells found")


# --- BLANK-01, narrative, plausibility ------------------------------------------------------


def _col_label(table: str, col: str) -> str:
    cols = t3.COLUMNS if table == "t3" else t4.COLUMNS
    return next((c.label for c in cols if c.key == col), col)


def _blank01(rep: Report) -> CheckResult:
    b = rep.blanks
    if b.unfilled:
        by_col: dict[tuple[str, str], list[Cell]] = defaultdict(list)
        for c in sorted(b.unfilled):
            by_col[(c[0], c[2])].append(c)
        parts = [f"the {_col_label(t, col)} column of {t} is blank (not filled) in {len(cs)} detail rows "
                 f"({', '.join(f'{c[1]}: others sum to {b.implied[c]:g}' for c in cs[:3])}{', …' if len(cs) > 3 else ''})"
                 for (t, col), cs in by_col.items()]
        msg = ("; ".join(parts) + ". Read as not filled, not 0: filling each with what the identities imply "
               "satisfies all of them; the identities involving these cells were not evaluated")
        cells = [{**cell_ref(rep, c), "implied": b.implied[c]} for c in sorted(b.unfilled)]
        return _check("BLANK-01", False, msg, cells, "source")  # info, as the catalogue says (spec §6)
    unknown = sorted(c for c, r in b.readings.items() if r == "unknown")
    zero = sum(1 for r in b.readings.values() if r == "zero_confirmed")
    msg = f"{zero} blank cell(s) read as 0 (every identity touching them holds)"
    if unknown:
        msg += f"; {len(unknown)} blank cell(s) left unknown (an identity touching them fails)"
    return _check("BLANK-01", not unknown, msg, [cell_ref(rep, c) for c in unknown])


def _txt01(rep: Report) -> CheckResult:
    found, bad = narrative.compare(str((rep.extraction.get("sections") or {}).get("1", "")), rep.values)
    if not found:
        return _check("TXT-01", True, "no totals restated in section 一 (nothing to compare)")
    if not bad:
        return _check("TXT-01", True, f"{len(found)} total(s) restated in section 一 agree with the tables")
    cells = [{**cell_ref(rep, m.restatement.cells[0]), "narrative": m.restatement.value} for m in bad]
    msg = "; ".join(f"section 一 says “{m.restatement.quote}”, the table prints {m.table_value:g}" for m in bad)
    return _check("TXT-01", False, msg, cells, _origin_plain(rep, cells))


def _txt02(rep: Report) -> CheckResult:
    mentioned, amount = narrative.processing_fee(str((rep.extraction.get("sections") or {}).get("6", "")))
    if not mentioned:
        return _check("TXT-02", False, "section 六 does not mention the 信息处理费")
    stated = f"{amount:g} 元" if amount is not None else "no amount stated"
    return _check("TXT-02", True, f"section 六 reports the 信息处理费: {stated}",
                  [{"table": "section6", "row": "info_processing_fee_yuan", "col": "value", "value": amount}])


def _plaus01(rep: Report) -> CheckResult:
    cols = REGULATION_COLUMNS[base_format(rep.format_version)]
    nonzero = [c for c in cols if (rep.values.get(("t2", "regulations", c)) or 0) > 0]
    agency = rep.extraction.get("agency")
    if nonzero and may_make_rules(agency) is False:
        cells = [cell_ref(rep, ("t2", "regulations", c)) for c in nonzero]
        return _check("PLAUS-01", False, f"规章 non-zero for {agency}, which by its name cannot make rules", cells)
    return _check("PLAUS-01", True, "规章 plausible for the agency")


def _range01(rep: Report) -> CheckResult:
    return range_check(*fit_extraction(rep.extraction))


def _ctrl01(rep: Report) -> CheckResult:
    return ctrl_check(*clean_extraction(rep.extraction))


# --- assembly -------------------------------------------------------------------------------


def _check(rule: str, passed: bool, message: str, cells: list[dict[str, Any]] | None = None,
           origin_: str | None = None, severity: str | None = None) -> CheckResult:
    return CheckResult(rule, severity or RULES_BY_ID[rule].severity, passed, message, cells or [],
                       None if passed else origin_)


def assemble(rep: Report, findings: list[Finding], previous: Report | None = None) -> Validated:
    """The `Validated` of one report from its findings and the pure checks."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_rule[f.rule].append(f)
    loc = localise(rep) if rep.tables_read else Localisation([])
    section1 = str((rep.extraction.get("sections") or {}).get("1", ""))
    org = origin(rep, loc, narrative.narrative_values(section1)) if loc.failing else "source"
    checks = []
    for rule in applicable_rules(rep, previous is not None):
        checks.append(_one(rule, rep, by_rule.get(rule, []), loc, org))
    checks += cross_year(rep, previous)
    readings = dict(rep.blanks.readings)
    readings.update({k: "unknown" for k, c in rep.cells.items() if c.get("status") == "blank" and k not in readings})
    return Validated(rep.report_id, quality_status(checks), checks, readings)


def _one(rule: str, rep: Report, found: list[Finding], loc: Localisation, org: str) -> CheckResult:
    if rule in IDENTITY_RULES:
        return _identity_check(rule, rep, found, loc, org)
    if rule.startswith("STRUCT"):
        return _struct(rule, rep, found)
    simple = {"DOM-01": _dom01, "T2-19-1": _t2191, "T3-C1": _c1}
    if rule in simple:
        return simple[rule](rep, found)
    pure = {"BLANK-01": _blank01, "TXT-01": _txt01, "TXT-02": _txt02, "PLAUS-01": _plaus01, "RANGE-01": _range01,
            "CTRL-01": _ctrl01}
    return pure[rule](rep)
