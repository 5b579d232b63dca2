"""Quality reports: per agency (JSON and HTML), across agencies (HTML), and the run's summary.

Pure: records in, documents and strings out. No prefect, boto3 or great_expectations here; the
pipeline writes what these functions return through its storage layer, and publishes
`run_summary` as Prefect markdown and table artifacts.

- `agency_quality` builds the JSON document of one agency (quality/<agency_id>.json);
- `agency_html` renders that document for people (quality/<agency_id>.html);
- `index_html` renders the overview across agencies (quality/index.html);
- `run_summary` gives the markdown and the table rows of the run's artifacts.

The HTML is self-contained (inline CSS, hand-written SVG, no script, no external URL) and every
string that comes from a document is escaped: agency names and messages come from untrusted files.
A suggested value is only ever shown as a suggestion: the published value is what was printed.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple
from urllib.parse import quote

from tasks.records import CheckResult, Quarantined
from tasks.redact import redact_location, redact_text
from tasks.spec import t2, t3, t4
from tasks.spec.rules import RULES_BY_ID

# ----------------------------------------------------------------------------------------------------
# the key totals charted across years
# ----------------------------------------------------------------------------------------------------


class KeyTotal(NamedTuple):
    name: str
    table: str
    row: str  # a canonical row key, or a derived one (t4 `litigation_all`: the sum of its parts)
    col: str
    caption: str


KEY_TOTALS: tuple[KeyTotal, ...] = (
    KeyTotal("new_received", "t3", "new_received", "total", "本年新收申请"),
    KeyTotal("total_processed", "t3", "total_processed", "total", "办理结果总计"),
    KeyTotal("carried_forward", "t3", "carried_forward", "total", "结转下年度"),
    KeyTotal("admin_review", "t4", "admin_review", "total", "行政复议"),
    KeyTotal("litigation", "t4", "litigation_all", "total", "行政诉讼"),
    KeyTotal("licensing_decisions", "t2", "administrative_licensing", "decisions", "行政许可决定"),
    KeyTotal("penalty_decisions", "t2", "administrative_penalty", "decisions", "行政处罚决定"),
)
_DERIVED_ROWS: dict[tuple[str, str], tuple[str, ...]] = {("t4", k): v for k, v in t4.DERIVED_ROWS.items()}
_NO_NUMBER = frozenset({"blank", "dash", "text", "not_in_format", "not_found", "image_only", "out_of_range"})


def _cell_number(cell: Mapping[str, Any]) -> float | None:
    """The printed number of a cell dict; None for anything not printed as a number (blank is not 0)."""
    value = cell.get("value")
    if cell.get("status") in _NO_NUMBER or value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def key_totals(cells: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """The KEY_TOTALS of one report from its cell dicts (table, row, col, value, status).

    A derived total (行政诉讼) is the printed derived cell if there is one, else the sum of its
    parts when every part is a number; a blank anywhere gives None, never 0.
    """
    values = {(c.get("table"), c.get("row"), c.get("col")): _cell_number(c) for c in cells}
    out: dict[str, float | None] = {}
    for kt in KEY_TOTALS:
        value = values.get((kt.table, kt.row, kt.col))
        parts = _DERIVED_ROWS.get((kt.table, kt.row))
        if value is None and parts:
            found = [values.get((kt.table, r, kt.col)) for r in parts]
            value = None if any(v is None for v in found) else float(sum(v for v in found if v is not None))
        out[kt.name] = value
    return out


# ----------------------------------------------------------------------------------------------------
# labels: the printed Chinese label next to each canonical key
# ----------------------------------------------------------------------------------------------------

_SECTION = {"t2": "二", "t3": "三", "t4": "四"}
_T3_SUBGROUPS = {t3.DENIED, t3.UNAVAILABLE, t3.NOT_PROCESSED, t3.OTHER}
_TRAILING_NOTE = re.compile(r"(?<=.)（[^（）]*）$")


def _short(label: str) -> str:
    """Drop a trailing filling note: （二）部分公开（区分处理的，…） → （二）部分公开."""
    return _TRAILING_NOTE.sub("", label)


def _t3_row_label(row: t3.Row) -> str:
    return f"{row.group}·{row.label}" if row.group in _T3_SUBGROUPS and row.group != row.label else row.label


_ROW_LABELS: dict[tuple[str, str], str] = {
    **{("t2", r.key): r.label for b in t2.BLOCKS for r in b.rows},
    **{("t3", r.key): _t3_row_label(r) for r in t3.ROWS},
    **{("t3", k): f"{g}·小计" for k, g in zip(t3.DERIVED_GROUPS, (t3.DENIED, t3.UNAVAILABLE, t3.NOT_PROCESSED))},
    **{("t4", r.key): f"{r.group}·{r.label}" if r.group else r.label for r in t4.ROWS},
    ("t4", "litigation_all"): "行政诉讼·合计",
}
_COL_LABELS: dict[tuple[str, str], str] = {
    **{("t3", c.key): c.label for c in t3.COLUMNS},
    ("t3", "legal_person_subtotal"): "法人或其他组织·小计",
    **{("t4", c.key): c.label for c in t4.COLUMNS},
}
_T2_COL_LABELS: dict[tuple[str, str], str] = {}
for _block in t2.BLOCKS:
    for _fmt, _cols in _block.columns.items():
        for _col in _cols:
            _T2_COL_LABELS.setdefault((_fmt, _col.key), _col.label)
            _COL_LABELS.setdefault(("t2", _col.key), _col.label)


def cell_label(table: str, row: str | None, col: str | None, format_version: str | None = None) -> str:
    """The printed label of a cell, e.g. `三·（一）予以公开 × 总计`; unknown keys are shown as they are."""
    fmt = "2019" if format_version == "2019" else "2021" if format_version else None
    col_label = _T2_COL_LABELS.get((fmt or "", col or "")) if table == "t2" else None
    col_label = col_label or _COL_LABELS.get((table, col or ""), col)
    row_label = _ROW_LABELS.get((table, row or ""), row)
    parts = [_short(x) for x in (row_label, col_label) if x]
    return f"{_SECTION.get(table, table)}·{' × '.join(parts) if parts else '（整表）'}"


def cell_key(cell: Mapping[str, Any]) -> str:
    """The canonical key of a cell dict as `t3.granted.total`."""
    return ".".join(str(cell[k]) for k in ("table", "row", "col") if cell.get(k) is not None)


# ----------------------------------------------------------------------------------------------------
# the JSON document of one agency
# ----------------------------------------------------------------------------------------------------


@dataclass
class ReportEntry:
    """One published report of an agency, as the quality report sees it."""

    year: int | None
    report_id: str
    source: str
    status: str  # "passed" | "warned" | "failed"
    format_version: str
    media: str
    agency: str | None = None  # as printed in this report's title
    last_modified: datetime | None = None
    superseded: bool = False  # a later upload of the same agency and year replaced it
    checks: list[CheckResult] = field(default_factory=list)
    key_totals: dict[str, float | None] = field(default_factory=dict)


def safe_source(source: str | None) -> str:
    """An object key or path fit to publish: every URL in it without credentials (tasks/redact.py)."""
    return redact_location(source)


def scrub(text: str | None) -> str:
    """A message fit to publish: every URL in it without credentials (tasks/redact.py)."""
    return redact_text(text)


def _jsonable(x: Any) -> Any:
    if isinstance(x, Decimal):
        return int(x) if x == x.to_integral_value() else float(x)
    if isinstance(x, datetime):
        return x.isoformat()
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [_jsonable(v) for v in x]
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    return str(x)


def _check_dict(c: CheckResult) -> dict[str, Any]:
    """A check as JSON; a passed one compactly (no cells, no origin)."""
    cells = [] if c.passed else _jsonable(c.cells)
    return {
        "rule": c.rule,
        "severity": c.severity,
        "passed": c.passed,
        "message": c.message,
        "cells": cells,
        "origin": None if c.passed else c.origin,
    }


def _counts(checks: Sequence[CheckResult]) -> dict[str, int]:
    failed = [c for c in checks if not c.passed]
    return {
        "failed_errors": sum(c.severity == "error" for c in failed),
        "warnings": sum(c.severity == "warn" for c in failed),
        "infos": sum(c.severity == "info" for c in failed),
        "passed": len(checks) - len(failed),
    }


def _sort_time(t: datetime | None) -> float:
    return t.timestamp() if t else -math.inf


def _report_dict(e: ReportEntry) -> dict[str, Any]:
    return {
        "year": e.year,
        "report_id": e.report_id,
        "source": safe_source(e.source),
        "status": e.status,
        "format_version": e.format_version,
        "media": e.media,
        "agency": e.agency,
        "last_modified": e.last_modified.isoformat() if e.last_modified else None,
        "superseded": e.superseded,
        "counts": _counts(e.checks),
        "checks": [_check_dict(c) for c in e.checks],
        "key_totals": _jsonable(dict(e.key_totals)),
    }


def _quarantine_dict(q: Quarantined) -> dict[str, Any]:
    return {**q.to_dict(), "source": safe_source(q.source), "message": scrub(q.message)}


def _summary(reports: list[dict[str, Any]], quarantine: list[dict[str, Any]]) -> dict[str, Any]:
    current = [r for r in reports if not r["superseded"]]
    years = sorted({r["year"] for r in current if r["year"] is not None})
    out: dict[str, Any] = {"reports": len(current), "superseded": len(reports) - len(current)}
    out |= {s: sum(r["status"] == s for r in current) for s in ("passed", "warned", "failed")}
    out |= {k: sum(r["counts"][k] for r in current) for k in ("failed_errors", "warnings", "infos")}
    return out | {"quarantined": len(quarantine), "years": years}


def agency_quality(
    agency: str | None,
    agency_id: str,
    entries: list[ReportEntry],
    quarantined: list[Quarantined],
    generated_at: datetime,
) -> dict[str, Any]:
    """The quality document of one agency (quality/<agency_id>.json): plain JSON types only."""
    ordered = sorted(entries, key=lambda e: (e.year is None, e.year or 0, _sort_time(e.last_modified)))
    reports = [_report_dict(e) for e in ordered]
    quarantine = [_quarantine_dict(q) for q in sorted(quarantined, key=lambda q: _sort_time(q.at))]
    return {
        "agency": agency,
        "agency_id": agency_id,
        "generated_at": generated_at.isoformat(),
        "reports": reports,
        "quarantine": quarantine,
        "summary": _summary(reports, quarantine),
    }


# ----------------------------------------------------------------------------------------------------
# HTML building blocks
# ----------------------------------------------------------------------------------------------------

_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--faint:#9aa5b1;--line:#d9e2ec;--bg:#f5f7fa;--card:#fff;
--ok:#1e7b4f;--ok-bg:#e3f4ea;--warn:#8a5a00;--warn-bg:#fdf2d6;--bad:#b42318;--bad-bg:#fde8e6;
--info:#245b9e;--info-bg:#e6effa;--old:#616e7c;--old-bg:#eceff3}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.6 -apple-system,BlinkMacSystemFont,"Segoe UI",
"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC",
"WenQuanYi Micro Hei",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:28px 32px 48px}
header.page{border-bottom:3px solid var(--ink);margin-bottom:24px;padding-bottom:14px}
.kicker{color:var(--muted);font-size:13px;letter-spacing:.06em;margin:0}
h1{font-size:26px;margin:4px 0 6px;line-height:1.3;word-break:break-all}
h2{font-size:19px;margin:0 0 12px;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
h3{font-size:15px;margin:18px 0 8px;color:var(--muted)}
.en{color:var(--faint);font-weight:400;font-size:.8em;margin-left:6px}
.meta{color:var(--muted);margin:0}
.chips{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}
.chip{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:4px 12px}
.chip b{font-size:16px;margin-right:4px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:20px 22px;
margin:0 0 20px}
.badge{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:600;
white-space:nowrap;vertical-align:middle}
.passed,.ok{color:var(--ok);background:var(--ok-bg)}.warned,.warn{color:var(--warn);background:var(--warn-bg)}
.failed,.error{color:var(--bad);background:var(--bad-bg)}.info{color:var(--info);background:var(--info-bg)}
.superseded,.quarantined,.unknown{color:var(--old);background:var(--old-bg)}
table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:#eef2f6;color:var(--muted);font-weight:600;white-space:nowrap}
tbody tr:nth-child(even)>td{background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.cells{margin:6px 0 0;font-size:12px}
table.cells th{background:transparent;border-bottom:1px solid var(--line);padding:2px 6px}
table.cells td{padding:2px 6px;border-bottom:1px dashed var(--line);background:transparent!important}
table.cells code,.nowrap{white-space:nowrap;word-break:normal}
code{font-family:"SFMono-Regular",Menlo,Consolas,"Liberation Mono",monospace;font-size:12px;color:#334e68;
word-break:break-all}
.rule{font-weight:700;white-space:nowrap}.desc{display:block;color:var(--muted);font-size:12px}
.msg{word-break:break-word}.src{word-break:break-all}
.sugg{color:var(--info);font-weight:700}.printed{font-weight:700}
.note{color:var(--muted);font-size:12px;margin:6px 0 0}
.empty{color:var(--muted);font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 8px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-all}
details{margin-top:10px}summary{cursor:pointer;color:var(--muted)}
.toc{display:flex;flex-wrap:wrap;gap:6px;margin:14px 0 0;padding:0;list-style:none}
.toc a{display:inline-block;padding:2px 10px;border-radius:6px;text-decoration:none;font-weight:600}
a{color:#0b5cad}
.bar{background:var(--line);border-radius:3px;height:8px;width:120px;display:inline-block;vertical-align:middle;
margin-right:8px;overflow:hidden}.bar>span{display:block;height:100%;background:var(--ok)}
svg.chart{width:100%;height:auto;display:block}
svg.chart text{font-size:12px;fill:var(--muted)}svg.chart .ptitle{font-size:14px;font-weight:600;fill:var(--ink)}
svg.chart .grid{stroke:#e4e9ef}svg.chart .axis{stroke:#7b8794}
footer{color:var(--faint);font-size:12px;margin-top:24px}
@media print{body{background:#fff}section.card{break-inside:avoid;border-color:#bbb}}
"""

QUARANTINE_ID = "quarantine"
"""agency_id of the pseudo-agency that lists quarantined files whose agency could not be told."""

_STATUS = {
    "passed": "通过",
    "warned": "有警告",
    "failed": "未通过",
    "superseded": "已被取代",
    "quarantined": "已隔离",
}
_SEVERITY = {"error": "错误", "warn": "警告", "info": "提示"}
_SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}
_ORIGIN = {"source": "原文自相矛盾", "extraction": "疑似识读问题"}
SUGGESTION_NOTE = "建议值仅供参考，发布值以原文印刷为准（suggestion only — the published value is what was printed）"


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _badge(status: str | None) -> str:
    s = status or "unknown"
    cls = s if s in _STATUS else "unknown"
    return f'<span class="badge {cls}">{_e(_STATUS.get(s, s))}</span>'


def _sev(severity: str) -> str:
    cls = severity if severity in _SEVERITY else "unknown"
    return f'<span class="badge {cls}">{_e(_SEVERITY.get(severity, severity))}</span>'


def _fmt_num(v: Any) -> str:
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


def _fmt_time(iso: str | None) -> str:
    if not iso:
        return "—"
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return t.strftime("%Y-%m-%d %H:%M %Z").strip()


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table from escaped header texts and cell HTML; a header starting with '#' is numeric."""
    num = [h.startswith("#") for h in headers]
    head = "".join(f'<th class="num">{h[1:]}</th>' if n else f"<th>{h}</th>" for h, n in zip(headers, num))
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if n else f"<td>{c}</td>" for c, n in zip(row, num)) + "</tr>"
        for row in rows
    )
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _years_text(years: Sequence[int]) -> str:
    if not years:
        return "无"
    contiguous = years[-1] - years[0] == len(years) - 1
    if len(years) == 1 or not contiguous and len(years) <= 8:
        span = "、".join(map(str, years))
    else:
        span = f"{years[0]}–{years[-1]}"
    return f"{span}（{len(years)} 个年度）"


# ----------------------------------------------------------------------------------------------------
# the chart: key totals across years, hand-written SVG
# ----------------------------------------------------------------------------------------------------

_PALETTE = ("#0b5cad", "#d55e00", "#009e73", "#cc79a7", "#7a5195", "#e69f00", "#3d8b9e")
_DASHES = ("", "", "6 4", "", "2 3", "", "6 4")
_PANELS = (
    ("依申请公开与复议、诉讼（件）", ("t3", "t4")),
    ("主动公开：处理决定数量（件）", ("t2",)),
)


class _Series(NamedTuple):
    kt: KeyTotal
    color: str
    dash: str
    values: list[float | None]


def _axis_years(years: Sequence[int]) -> list[int]:
    """Every year from the first to the last (a missing year shows as a gap), unless implausibly wide."""
    if not years:
        return []
    lo, hi = min(years), max(years)
    return list(range(lo, hi + 1)) if hi - lo <= 30 else sorted(set(years))


def _ticks(vmax: float) -> list[float]:
    """0 and 4–6 round steps up to at least vmax."""
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    step = max(step, 1.0)
    return [i * step for i in range(math.ceil(vmax / step - 1e-9) + 1)]


def _series_path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path that breaks at None (a year without a number is a gap, not a zero)."""
    d, pen = [], False
    for p in points:
        if p is None:
            pen = False
            continue
        d.append(f"{'L' if pen else 'M'}{p[0]:.1f} {p[1]:.1f}")
        pen = True
    return " ".join(d)


def _panel(x0: float, y0: float, width: float, title: str, years: list[int], series: list[_Series]) -> list[str]:
    left, right, top, height = x0 + 56, x0 + width - 14, y0 + 30, 200.0
    bottom, pad = top + height, 24.0
    values = [v for s in series for v in s.values if v is not None]
    ticks = _ticks(max(values, default=0.0))
    span = ticks[-1] or 1.0
    n = len(years)

    def sx(i: int) -> float:
        return (left + right) / 2 if n == 1 else left + pad + i * (right - left - 2 * pad) / (n - 1)

    def sy(v: float) -> float:
        return bottom - v / span * height

    out = [f'<text class="ptitle" x="{x0:.0f}" y="{y0 + 16:.0f}">{_e(title)}</text>']
    for t in ticks:
        y = sy(t)
        out.append(f'<line class="grid" x1="{left:.0f}" y1="{y:.1f}" x2="{right:.0f}" y2="{y:.1f}"/>')
        out.append(f'<text x="{left - 8:.0f}" y="{y + 4:.1f}" text-anchor="end">{_fmt_num(t)}</text>')
    out.append(f'<line class="axis" x1="{left:.0f}" y1="{top:.0f}" x2="{left:.0f}" y2="{bottom:.0f}"/>')
    out.append(f'<line class="axis" x1="{left:.0f}" y1="{bottom:.0f}" x2="{right:.0f}" y2="{bottom:.0f}"/>')
    every = max(1, math.ceil(n / 12))
    for i, year in enumerate(years):
        if i % every == 0 or i == n - 1:
            out.append(f'<text x="{sx(i):.1f}" y="{bottom + 18:.0f}" text-anchor="middle">{year}</text>')
    if not values:
        mid = ((left + right) / 2, top + height / 2)
        out.append(f'<text x="{mid[0]:.0f}" y="{mid[1]:.0f}" text-anchor="middle">无数据（no data）</text>')
    for s in series:
        out.extend(_series_svg(s, years, sx, sy))
    out.extend(_legend(x0 + 56, bottom + 40, width - 56, series))
    return out


def _series_svg(s: _Series, years: list[int], sx: Any, sy: Any) -> list[str]:
    points = [None if v is None else (sx(i), sy(v)) for i, v in enumerate(s.values)]
    dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
    out = [
        (
            f'<path class="series" data-key="{_e(s.kt.name)}" d="{_series_path(points)}" fill="none" '
            f'stroke="{s.color}" stroke-width="2.2" stroke-linejoin="round"{dash}/>'
        )
    ]
    for year, v, p in zip(years, s.values, points):
        if p is not None:
            out.append(
                f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="3.6" fill="{s.color}" stroke="#fff" stroke-width="1.2">'
                f"<title>{_e(s.kt.caption)} {year}: {_fmt_num(v)}</title></circle>"
            )
    return out


def _legend(x: float, y: float, width: float, series: list[_Series]) -> list[str]:
    per_row = max(1, int(width // 170))
    out = []
    for i, s in enumerate(series):
        lx, ly = x + (i % per_row) * 170, y + (i // per_row) * 20
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(
            f'<line x1="{lx:.0f}" y1="{ly:.0f}" x2="{lx + 22:.0f}" y2="{ly:.0f}" stroke="{s.color}" '
            f'stroke-width="2.5"{dash}/>'
        )
        out.append(f'<text x="{lx + 28:.0f}" y="{ly + 4:.0f}">{_e(s.kt.caption)}</text>')
    return out


def _chart_svg(years: list[int], totals: Mapping[int, Mapping[str, Any]]) -> str:
    """Two panels side by side (applications and appeals; table 2's decisions, on their own scale)."""
    axis = _axis_years(years)
    styled = list(zip(KEY_TOTALS, _PALETTE, _DASHES))
    parts, x, widths = [], 0.0, (590.0, 390.0)
    legend_rows = 0
    for (title, tables), width in zip(_PANELS, widths):
        series = [
            _Series(kt, color, dash, [_as_float(totals.get(y, {}).get(kt.name)) for y in axis])
            for kt, color, dash in styled
            if kt.table in tables
        ]
        legend_rows = max(legend_rows, math.ceil(len(series) / max(1, int((width - 56) // 170))))
        parts.extend(_panel(x, 0.0, width, title, axis, series))
        x += width + 20
    h = 30 + 200 + 40 + legend_rows * 20
    label = "关键总数年度走势（key totals across years）"
    return (
        f'<svg class="chart" viewBox="-4 -4 {x - 12:.0f} {h:.0f}" role="img" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>{''.join(parts)}</svg>"
    )


def _as_float(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _totals_table(years: list[int], totals: Mapping[int, Mapping[str, Any]]) -> str:
    axis = _axis_years(years)
    rows = [
        [f"{_e(kt.caption)} <code>{_e(f'{kt.table}.{kt.row}.{kt.col}')}</code>"]
        + [_fmt_num(_as_float(totals.get(y, {}).get(kt.name))) if y in totals else "·" for y in axis]
        for kt in KEY_TOTALS
    ]
    note = '<p class="note">“—” 未印刷数字或空白（不按 0 计）；“·” 该年度无现行报告。</p>'
    return _table(["关键总数", *(f"#{y}" for y in axis)], rows) + note


# ----------------------------------------------------------------------------------------------------
# the agency page
# ----------------------------------------------------------------------------------------------------


def _cells_table(cells: Sequence[Mapping[str, Any]], fmt: str | None) -> str:
    rows = []
    for c in cells:
        label = cell_label(str(c.get("table", "")), c.get("row"), c.get("col"), fmt)
        if c.get("year") is not None:
            label += f"（{c['year']}）"
        printed = "空白" if c.get("value") is None and "value" in c else _fmt_num(c.get("value"))
        sugg = c.get("suggested")
        sugg_html = (
            "—" if sugg is None else f'<span class="sugg" title="{_e(SUGGESTION_NOTE)}">{_e(_fmt_num(sugg))}*</span>'
        )
        page = "—" if c.get("page") is None else f'<span class="nowrap">第 {_e(c["page"])} 页</span>'
        rows.append(
            [
                _e(label),
                f"<code>{_e(cell_key(c))}</code>",
                page,
                f'<span class="printed">{_e(printed)}</span>',
                sugg_html,
            ]
        )
    return _table(["单元格", "键", "页码", "#印刷值", "#建议值*"], rows, "cells")


def _issue_row(check: Mapping[str, Any], fmt: str | None) -> list[str]:
    rule = str(check.get("rule", ""))
    desc = RULES_BY_ID[rule].description if rule in RULES_BY_ID else ""
    cells = check.get("cells") or []
    origin = check.get("origin")
    origin_html = (
        "—"
        if not origin
        else f'<span class="nowrap">{_e(_ORIGIN.get(origin, origin))}</span><br><code>{_e(origin)}</code>'
    )
    msg = f'<span class="msg">{_e(check.get("message"))}</span>' + (_cells_table(cells, fmt) if cells else "")
    return [
        f'<span class="rule">{_e(rule)}</span><span class="desc">{_e(desc)}</span>',
        _sev(str(check.get("severity", ""))),
        msg,
        origin_html,
    ]


def _issues(report: Mapping[str, Any]) -> str:
    failed = [c for c in report.get("checks", []) if not c.get("passed")]
    if not failed:
        return '<p class="empty">所有检查均已通过。</p>'
    failed.sort(key=lambda c: (_SEVERITY_ORDER.get(c.get("severity"), 9), str(c.get("rule"))))
    rows = [_issue_row(c, report.get("format_version")) for c in failed]
    has_sugg = any(cell.get("suggested") is not None for c in failed for cell in c.get("cells") or [])
    note = f'<p class="note">* {_e(SUGGESTION_NOTE)}</p>' if has_sugg else ""
    return _table(["规则", "级别", "说明与涉及单元格", "判断"], rows, "issues") + note


def _passed_rules(report: Mapping[str, Any]) -> str:
    passed = sorted({str(c.get("rule")) for c in report.get("checks", []) if c.get("passed")})
    if not passed:
        return ""
    items = "".join(
        f"<li><b>{_e(r)}</b> {_e(RULES_BY_ID[r].description if r in RULES_BY_ID else '')}</li>" for r in passed
    )
    return f"<details><summary>已通过 {len(passed)} 条规则</summary><ul>{items}</ul></details>"


def _facts(report: Mapping[str, Any]) -> str:
    facts = [
        ("报告编号", f"<code>{_e(report.get('report_id'))}</code>"),
        ("来源", f'<span class="src">{_e(report.get("source"))}</span>'),
        ("格式 / 介质", f"{_e(report.get('format_version'))} / {_e(report.get('media'))}"),
        ("上传时间", _e(_fmt_time(report.get("last_modified")))),
    ]
    if report.get("agency"):
        facts.insert(1, ("标题中的机关", _e(report["agency"])))
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _history(old: Sequence[Mapping[str, Any]]) -> str:
    if not old:
        return ""
    rows = [
        [
            f"<code>{_e(r.get('report_id'))}</code>",
            f'<span class="src">{_e(r.get("source"))}</span>',
            _e(_fmt_time(r.get("last_modified"))),
            _badge(r.get("status")),
            _e(r.get("counts", {}).get("failed_errors", 0)),
            _e(r.get("counts", {}).get("warnings", 0)),
        ]
        for r in old
    ]
    return '<h3>历史版本<span class="en">superseded</span></h3>' + _table(
        ["报告编号", "来源", "上传时间", "当时状态", "#错误", "#警告"], rows
    )


def _year_anchor(year: int | None) -> str:
    return f"y{year}" if year is not None else "y-unknown"


def _year_section(year: int | None, reports: Sequence[Mapping[str, Any]]) -> str:
    current = [r for r in reports if not r.get("superseded")]
    old = [r for r in reports if r.get("superseded")]
    title = f"{year} 年度报告" if year is not None else "年度未识别的报告"
    parts = []
    for r in current:
        parts.append(f"<h2>{_e(title)} {_badge(r.get('status'))}</h2>{_facts(r)}")
        parts.append(_issues(r) + _passed_rules(r))
    if not current:
        parts.append(f'<h2>{_e(title)} {_badge("superseded")}</h2><p class="empty">本年度没有现行版本。</p>')
    parts.append(_history(old))
    return f'<section class="card" id="{_year_anchor(year)}">{"".join(parts)}</section>'


def _quarantine_section(items: Sequence[Mapping[str, Any]]) -> str:
    if not items:
        return ""
    rows = [
        [
            f'<span class="src">{_e(q.get("source"))}</span>',
            f"<code>{_e(q.get('error_type'))}</code>",
            f'<span class="msg">{_e(q.get("message"))}</span>',
            f'<code title="{_e(q.get("sha256"))}">{_e(str(q.get("sha256") or "")[:12])}…</code>',
            _e(_fmt_time(q.get("at"))),
            _e(q.get("pipeline_version")),
        ]
        for q in items
    ]
    return (
        f'<section class="card" id="quarantine"><h2>未能发布的文件 {_badge("quarantined")}'
        f'<span class="en">quarantine · {len(items)}</span></h2>'
        + _table(["来源", "错误类型", "说明", "SHA-256", "时间", "流水线版本"], rows)
        + "</section>"
    )


def _current_totals(reports: Sequence[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    return {
        r["year"]: r.get("key_totals") or {} for r in reports if not r.get("superseded") and r.get("year") is not None
    }


def _chips(summary: Mapping[str, Any]) -> str:
    items = [
        ("reports", "份现行报告"),
        ("passed", "通过"),
        ("warned", "有警告"),
        ("failed", "未通过"),
        ("failed_errors", "项错误"),
        ("superseded", "个历史版本"),
        ("quarantined", "个隔离文件"),
    ]
    return (
        '<div class="chips">'
        + "".join(f'<span class="chip"><b>{_e(summary.get(k, 0))}</b>{v}</span>' for k, v in items)
        + "</div>"
    )


def _group_by_year(reports: Sequence[Mapping[str, Any]]) -> dict[int | None, list[Mapping[str, Any]]]:
    groups: dict[int | None, list[Mapping[str, Any]]] = {}
    for r in reports:
        groups.setdefault(r.get("year"), []).append(r)
    return groups


def agency_html(doc: Mapping[str, Any]) -> str:
    """quality/<agency_id>.html: the agency document for people, one self-contained page."""
    reports = list(doc.get("reports", []))
    summary = doc.get("summary") or _summary(reports, list(doc.get("quarantine", [])))
    name = doc.get("agency") or "（未识别的机关）"
    years = sorted(summary.get("years", []))
    groups = _group_by_year(reports)
    toc = "".join(
        f'<li><a class="{_e(_current_status(g))}" href="#{_year_anchor(y)}">{_e(y if y is not None else "未知")}</a></li>'
        for y, g in groups.items()
    )
    header = (
        f'<header class="page"><p class="kicker">政府信息公开工作年度报告 · 质量报告</p><h1>{_e(name)}</h1>'
        f'<p class="meta">机关编号 <code>{_e(doc.get("agency_id"))}</code> · 覆盖年度 {_e(_years_text(years))}'
        f' · 生成于 {_e(_fmt_time(doc.get("generated_at")))} · <a href="index.html">全部机关</a></p>'
        f'{_chips(summary)}<ul class="toc">{toc}</ul></header>'
    )
    totals = _current_totals(reports)
    chart = (
        '<section class="card" id="totals"><h2>关键总数年度走势<span class="en">key totals across years</span></h2>'
        f"{_chart_svg(years, totals)}{_totals_table(years, totals)}</section>"
        if years
        else ""
    )
    body = "".join(_year_section(y, g) for y, g in groups.items())
    if not reports:
        body = '<section class="card"><p class="empty">没有可发布的报告。</p></section>'
    footer = f"<footer>{_e(SUGGESTION_NOTE)}</footer>"
    title = f"质量报告 · {name}"
    return _page(title, header + chart + body + _quarantine_section(doc.get("quarantine", [])) + footer)


def _current_status(reports: Sequence[Mapping[str, Any]]) -> str:
    current = [r for r in reports if not r.get("superseded")]
    return str(current[-1].get("status")) if current else "superseded"


# ----------------------------------------------------------------------------------------------------
# across agencies
# ----------------------------------------------------------------------------------------------------


@dataclass
class _AgencyStats:
    agency: str
    agency_id: str
    years: list[int]
    statuses: dict[str, int]
    failed_errors: int
    warnings: int
    quarantined: int
    by_year: dict[int, str]  # year → status of the current report


def _stats(doc: Mapping[str, Any]) -> _AgencyStats:
    current = [r for r in doc.get("reports", []) if not r.get("superseded")]
    counts = [r.get("counts") or {} for r in current]
    by_year = {r["year"]: str(r.get("status")) for r in current if r.get("year") is not None}
    return _AgencyStats(
        agency=str(doc.get("agency") or "（未识别的机关）"),
        agency_id=str(doc.get("agency_id") or ""),
        years=sorted(by_year),
        statuses={s: sum(r.get("status") == s for r in current) for s in ("passed", "warned", "failed")},
        failed_errors=sum(int(c.get("failed_errors", 0)) for c in counts),
        warnings=sum(int(c.get("warnings", 0)) for c in counts),
        quarantined=len(doc.get("quarantine", [])),
        by_year=by_year,
    )


def _offenders(stats: Sequence[_AgencyStats], limit: int = 20) -> list[_AgencyStats]:
    """Agencies with failed reports or failed error checks, the worst first."""
    bad = [s for s in stats if s.failed_errors or s.statuses["failed"]]
    bad.sort(key=lambda s: (-s.failed_errors, -s.statuses["failed"], -s.warnings, s.agency_id))
    return bad[:limit]


def _agency_link(s: _AgencyStats) -> str:
    return f'<a href="{_e(quote(s.agency_id, safe="-_.~"))}.html">{_e(s.agency)}</a>'


def _rate_cell(n: int, total: int) -> str:
    pct = 100.0 * n / total if total else 0.0
    return f'<span class="bar"><span style="width:{pct:.0f}%"></span></span>{pct:.0f}%'


def _year_rates(stats: Sequence[_AgencyStats]) -> str:
    years = sorted({y for s in stats for y in s.by_year})
    if not years:
        return '<p class="empty">没有现行报告。</p>'
    rows = []
    for y in years:
        statuses = [s.by_year[y] for s in stats if y in s.by_year]
        n = {k: statuses.count(k) for k in ("passed", "warned", "failed")}
        rows.append(
            [
                str(y),
                str(len(statuses)),
                str(n["passed"]),
                str(n["warned"]),
                str(n["failed"]),
                _rate_cell(n["passed"], len(statuses)),
                _rate_cell(n["passed"] + n["warned"], len(statuses)),
            ]
        )
    heads = ["年度", "#报告", "#通过", "#有警告", "#未通过", "通过率", "无错误率（通过 + 有警告）"]
    return _table(heads, rows)


def _offenders_table(stats: Sequence[_AgencyStats]) -> str:
    worst = _offenders(stats)
    if not worst:
        return '<p class="empty">没有未通过的报告。</p>'
    rows = [
        [
            str(i),
            _agency_link(s),
            f"<code>{_e(s.agency_id)}</code>",
            str(s.failed_errors),
            str(s.statuses["failed"]),
            str(s.warnings),
            _e(", ".join(str(y) for y, st in sorted(s.by_year.items()) if st == "failed") or "—"),
        ]
        for i, s in enumerate(worst, 1)
    ]
    return _table(["#", "机关", "编号", "#错误检查", "#未通过报告", "#警告", "未通过年度"], rows, "offenders")


def _missing_table(stats: Sequence[_AgencyStats], expected: Sequence[int]) -> str:
    rows = []
    for s in stats:
        missing = [y for y in expected if y not in s.by_year]
        if missing and s.agency_id != QUARANTINE_ID:  # the pseudo-agency of unattributed quarantined files
            rows.append([_agency_link(s), _e(", ".join(map(str, s.years)) or "—"), _e(", ".join(map(str, missing)))])
    if not rows:
        return '<p class="empty">所有机关均有各年度的现行报告。</p>'
    return _table(["机关", "已有年度", "缺失年度"], rows, "missing")


def _agencies_table(stats: Sequence[_AgencyStats]) -> str:
    rows = [
        [
            _agency_link(s),
            f"<code>{_e(s.agency_id)}</code>",
            _e(_years_text(s.years)),
            str(s.statuses["passed"]),
            str(s.statuses["warned"]),
            str(s.statuses["failed"]),
            str(s.quarantined),
            _badge(s.by_year[max(s.by_year)]) if s.by_year else _badge("quarantined" if s.quarantined else None),
        ]
        for s in sorted(stats, key=lambda s: (s.agency, s.agency_id))
    ]
    return _table(["机关", "编号", "年度", "#通过", "#有警告", "#未通过", "#隔离", "最新年度"], rows)


def index_html(
    agencies: list[dict[str, Any]],
    expected_years: list[int] | None = None,
    generated_at: datetime | None = None,
    quarantined: Sequence[Mapping[str, Any]] = (),
) -> str:
    """quality/index.html: pass rates per year, worst offenders, missing years, quarantine counts;
    with `quarantined` (quarantine record dicts), every quarantined file listed at the end."""
    stats = [_stats(d) for d in agencies]
    expected = sorted(set(expected_years or [y for s in stats for y in s.years]))
    total = {k: sum(s.statuses[k] for s in stats) for k in ("passed", "warned", "failed")}
    summary = {
        "agencies": len(stats),
        "reports": sum(total.values()),
        **total,
        "failed_errors": sum(s.failed_errors for s in stats),
        "quarantined": sum(s.quarantined for s in stats),
    }
    chips = [
        ("agencies", "个机关"),
        ("reports", "份现行报告"),
        ("passed", "通过"),
        ("warned", "有警告"),
        ("failed", "未通过"),
        ("failed_errors", "项错误"),
        ("quarantined", "个隔离文件"),
    ]
    chip_html = "".join(f'<span class="chip"><b>{summary[k]}</b>{v}</span>' for k, v in chips)
    when = f" · 生成于 {_e(_fmt_time(generated_at.isoformat()))}" if generated_at else ""
    header = (
        '<header class="page"><p class="kicker">政府信息公开工作年度报告 · 质量总览</p><h1>全部机关</h1>'
        f'<p class="meta">预期年度 {_e(_years_text(expected))}{when}</p><div class="chips">{chip_html}</div></header>'
    )
    sections = [
        ("各年度通过率", "pass rate per year", _year_rates(stats)),
        ("问题最多的机关", "worst offenders", _offenders_table(stats)),
        ("缺失年度", "missing years", _missing_table(stats, expected)),
        ("全部机关", "all agencies", _agencies_table(stats) if stats else '<p class="empty">没有机关。</p>'),
    ]
    body = "".join(
        f'<section class="card"><h2>{t}<span class="en">{en}</span></h2>{c}</section>' for t, en, c in sections
    )
    listing = _quarantine_section(quarantined) if quarantined else ""
    return _page("质量总览 · 政府信息公开工作年度报告", header + body + listing)


# ----------------------------------------------------------------------------------------------------
# the run's Prefect artifacts
# ----------------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|<>#])")


def _md(x: Any, limit: int = 160) -> str:
    """A markdown table cell: one line, markdown and HTML metacharacters escaped, shortened."""
    s = " ".join(str("" if x is None else x).split())
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", s)


def _summary_rows(agencies: Sequence[Mapping[str, Any]], quarantined: Sequence[Quarantined]) -> list[dict[str, Any]]:
    rows = []
    for doc in agencies:
        for r in doc.get("reports", []):
            if r.get("superseded"):
                continue
            counts = r.get("counts") or {}
            rows.append(
                {
                    "agency": doc.get("agency"),
                    "agency_id": doc.get("agency_id"),
                    "year": r.get("year"),
                    "status": r.get("status"),
                    "failed_errors": int(counts.get("failed_errors", 0)),
                    "warnings": int(counts.get("warnings", 0)),
                    "source": safe_source(r.get("source")),
                    "note": "",
                }
            )
    for q in quarantined:
        rows.append(
            {
                "agency": q.agency_hint,
                "agency_id": None,
                "year": None,
                "status": "quarantined",
                "failed_errors": None,
                "warnings": None,
                "source": safe_source(q.source),
                "note": f"{q.error_type}: {' '.join(scrub(q.message).split())[:300]}",
            }
        )
    return rows


def run_summary(agencies: list[dict[str, Any]], quarantined: list[Quarantined]) -> tuple[str, list[dict[str, Any]]]:
    """(markdown, table rows) for the run's Prefect artifacts; sources without query strings."""
    rows = _summary_rows(agencies, quarantined)
    stats = [_stats(d) for d in agencies]
    reports = [r for r in rows if r["status"] != "quarantined"]
    n = {s: sum(r["status"] == s for r in reports) for s in ("passed", "warned", "failed")}
    lines = [
        "# 年报质量汇总 (quality summary)",
        "",
        (
            f"- agencies: **{len(stats)}**; current reports: **{len(reports)}** "
            f"(passed {n['passed']}, warned {n['warned']}, failed {n['failed']})"
        ),
        (
            f"- failed error checks: **{sum(r['failed_errors'] for r in reports)}**; "
            f"warnings: **{sum(r['warnings'] for r in reports)}**"
        ),
        f"- quarantined files: **{len(quarantined)}**",
    ]
    worst = _offenders(stats, limit=10)
    if worst:
        lines += [
            "",
            "## Worst offenders",
            "",
            "| agency | agency_id | failed error checks | failed reports |",
            "|---|---|---:|---:|",
        ]
        lines += [
            f"| {_md(s.agency)} | {_md(s.agency_id)} | {s.failed_errors} | {s.statuses['failed']} |" for s in worst
        ]
    if quarantined:
        lines += ["", "## Quarantined", "", "| source | error | message |", "|---|---|---|"]
        lines += [
            f"| {_md(safe_source(q.source))} | {_md(q.error_type)} | {_md(scrub(q.message))} |" for q in quarantined
        ]
    return "\n".join(lines) + "\n", rows
