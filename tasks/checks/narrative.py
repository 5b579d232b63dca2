"""TXT-01 (narrative totals vs table, spec S3.2) and TXT-02 (信息处理费 in section 六, S6.1).

Conservative: a number is taken from section 一 only when it sits in one clause directly after
a recognised phrase ("受理政府信息公开申请 N 件", "另有 L 件顺延到下年度" …). Anything less
certain is ignored, so TXT-01 warns only on confident parses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tasks.checks.identities import Cell

# (pattern, table cell(s) whose sum the number restates); the number is group "n".
_CLAUSE = r"[^，。；;,\d]{0,12}?"
PATTERNS: tuple[tuple[re.Pattern[str], tuple[Cell, ...]], ...] = (
    (re.compile(r"(?:受理|收到|新收)" + _CLAUSE + r"(?:政府信息)?公开申请(?:共计?|合计)?(?P<n>\d+)件"),
     (("t3", "new_received", "total"),)),
    (re.compile(r"(?:答复|办结)(?:申请)?(?:共计?|合计)?(?P<n>\d+)件"), (("t3", "total_processed", "total"),)),
    (re.compile(r"(?:含|包括)上一?年度?结转(?:申请)?(?P<n>\d+)件"), (("t3", "carried_over", "total"),)),
    (re.compile(r"(?P<n>\d+)件(?:申请)?(?:顺延|结转)(?:到|至)下一?年度"), (("t3", "carried_forward", "total"),)),
    (re.compile(r"(?:被申请|申请)?行政复议(?:案件)?(?:共计?|合计)?(?P<n>\d+)件"), (("t4", "admin_review", "total"),)),
    (re.compile(r"(?:被提起|提起)?行政诉讼(?:案件)?(?:共计?|合计)?(?P<n>\d+)件"),
     (("t4", "litigation_direct", "total"), ("t4", "litigation_after_review", "total"))),
)


@dataclass(frozen=True)
class Restatement:
    cells: tuple[Cell, ...]
    value: int
    quote: str


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def restatements(section1: str) -> list[Restatement]:
    """Numbers restated in section 一, one per recognised phrase (first occurrence)."""
    text = _norm(section1)
    out = []
    for pattern, cells in PATTERNS:
        m = pattern.search(text)
        if m:
            out.append(Restatement(cells, int(m.group("n")), m.group(0)))
    return out


def narrative_values(section1: str) -> dict[Cell, float]:
    """Single-cell restatements as cell → value (used to tell misreadings from source errors)."""
    return {r.cells[0]: float(r.value) for r in restatements(section1) if len(r.cells) == 1}


@dataclass(frozen=True)
class Mismatch:
    restatement: Restatement
    table_value: float


def compare(section1: str, values: dict[Cell, float | None]) -> tuple[list[Restatement], list[Mismatch]]:
    """Restatements found and those that disagree with the table (cells without a value are skipped)."""
    found, bad = [], []
    for r in restatements(section1):
        vals = [values.get(c) for c in r.cells]
        if any(v is None for v in vals):
            continue
        found.append(r)
        total = float(sum(vals))  # type: ignore[arg-type]
        if total != r.value:
            bad.append(Mismatch(r, total))
    return found, bad


_FEE = re.compile(r"信息处理费(?P<rest>[^。；;]{0,40})")
_AMOUNT = re.compile(r"(?P<n>\d+(?:\.\d+)?)(?P<unit>万元|元)")


def processing_fee(section6: str) -> tuple[bool, float | None]:
    """Whether section 六 mentions 信息处理费, and the amount in 元 if one is stated ("未收取" → 0)."""
    text = _norm(section6)
    mentioned = False
    for m in _FEE.finditer(text):
        mentioned = True
        am = _AMOUNT.search(m.group("rest"))
        if am:
            n = float(am.group("n"))
            return True, n * 10000 if am.group("unit") == "万元" else n
        if re.search(r"未(?:收取|收)|没有收取|不收取", text):
            return True, 0.0
    return mentioned, None
