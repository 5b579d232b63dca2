"""The quality pages for people: per agency (quality/<agency_id>.html), the overview across agencies
(quality/index.html) and the page of quarantined files whose agency is unknown (quality/quarantine.html).

Rendering only: the documents come from `tasks.quality` (plain JSON); this module turns them into
view data (labels, local times, chart geometry) and renders the Jinja2 templates shipped in
`tasks/templates/quality/` with autoescape on, so every string from a document (agency names,
messages, sources: they come from untrusted files) is escaped by the template engine.

The pages are self-contained (inline CSS, inline SVG, no script, no external URL) and in Chinese:
rule names and statements from the rule catalogue (`tasks.spec.rules`), the English statement as a
second line; what each failed check found and why each file was quarantined in Chinese from the
rule id, the check's cells and the error type (`tasks.quality_text`), the stored English message as
the second line. Times are shown in the zone of `XXGK_TIMEZONE` (Asia/Shanghai by default), the zone named.
A suggested value is only ever shown as a suggestion: the published value is what was printed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from tasks.quality import (
    KEY_TOTALS,
    QUARANTINE_ID,
    AgencyStats,
    KeyTotal,
    agency_stats,
    cell_key,
    cell_label,
    offenders,
)
from tasks.quality_text import check_text, error_text, fmt_num
from tasks.spec.rules import RULES_BY_ID

SUGGESTION_NOTE = "建议值仅供参考，发布值以原文印刷为准（suggestion only — the published value is what was printed）"
QUARANTINE_NAME = "（未能识别机关的隔离文件）"

_ENV = Environment(
    loader=PackageLoader("tasks", "templates/quality"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

_STATUS = {"passed": "通过", "warned": "有警告", "failed": "未通过", "superseded": "已被取代", "quarantined": "已隔离"}
_SEVERITY = {"error": "错误", "warn": "警告", "info": "提示"}
_SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}
_ORIGIN = {"source": "原文自相矛盾", "extraction": "疑似识读问题"}


# ----------------------------------------------------------------------------------------------------
# formatting
# ----------------------------------------------------------------------------------------------------


def _offset(t: datetime) -> str:
    off = t.utcoffset()
    if off is None:
        return ""
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _Clock:
    """Times of a document (ISO strings or datetimes, UTC when naive) in one zone, the offset shown."""

    def __init__(self, zone: str | tzinfo | None) -> None:
        if zone is None:
            from tasks.settings import get_settings

            zone = get_settings().pipeline.timezone
        self.tz: tzinfo = ZoneInfo(zone) if isinstance(zone, str) else zone
        self.name = str(getattr(self.tz, "key", self.tz))

    def __call__(self, when: str | datetime | None) -> str:
        if not when:
            return "—"
        try:
            t = when if isinstance(when, datetime) else datetime.fromisoformat(when)
        except ValueError:
            return str(when)
        local = (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(self.tz)
        return f"{local:%Y-%m-%d %H:%M} {_offset(local)}"

    @property
    def label(self) -> str:
        """The zone as the pages name it, e.g. `Asia/Shanghai（UTC+08:00）` (the offset of now)."""
        return f"{self.name}（{_offset(datetime.now(self.tz))}）"


def _years_text(years: Sequence[int]) -> str:
    if not years:
        return "无"
    contiguous = years[-1] - years[0] == len(years) - 1
    if len(years) == 1 or (not contiguous and len(years) <= 8):
        span = "、".join(map(str, years))
    else:
        span = f"{years[0]}–{years[-1]}"
    return f"{span}（{len(years)} 个年度）"


def _badge(status: str | None) -> dict[str, str]:
    s = status or "unknown"
    return {"cls": s if s in _STATUS else "unknown", "text": _STATUS.get(s, s)}


def _sev(severity: str) -> dict[str, str]:
    return {"cls": severity if severity in _SEVERITY else "unknown", "text": _SEVERITY.get(severity, severity)}


def _page_link(agency_id: str) -> str:
    return f"{quote(agency_id, safe='-_.~')}.html"


_ENV.globals.update(badge=_badge, note=SUGGESTION_NOTE)
_ENV.filters.update(page_link=_page_link, years_text=_years_text)


def _render(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


# ----------------------------------------------------------------------------------------------------
# the chart: key totals across years, as SVG geometry for the template
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


def _series_path(points: Sequence[tuple[float, float] | None]) -> str:
    """An SVG path that breaks at None (a year without a number is a gap, not a zero)."""
    d, pen = [], False
    for p in points:
        if p is None:
            pen = False
            continue
        d.append(f"{'L' if pen else 'M'}{p[0]:.1f} {p[1]:.1f}")
        pen = True
    return " ".join(d)


def _panel(x0: float, width: float, title: str, years: list[int], series: list[_Series]) -> dict[str, Any]:
    left, right, top, height = x0 + 56, x0 + width - 14, 30.0, 200.0
    bottom, pad = top + height, 24.0
    values = [v for s in series for v in s.values if v is not None]
    ticks = _ticks(max(values, default=0.0))
    span = ticks[-1] or 1.0
    n = len(years)

    def sx(i: int) -> float:
        return (left + right) / 2 if n == 1 else left + pad + i * (right - left - 2 * pad) / (n - 1)

    def sy(v: float) -> float:
        return bottom - v / span * height

    every = max(1, math.ceil(n / 12))
    lines = []
    for s in series:
        points = [None if v is None else (sx(i), sy(v)) for i, v in enumerate(s.values)]
        dots = [
            {"x": p[0], "y": p[1], "title": f"{s.kt.caption} {y}: {fmt_num(v)}"}
            for y, v, p in zip(years, s.values, points)
            if p is not None
        ]
        lines.append({"key": s.kt.name, "d": _series_path(points), "color": s.color, "dash": s.dash, "dots": dots})
    per_row = max(1, int((width - 56) // 170))
    legend = [
        {"x": left + (i % per_row) * 170, "y": bottom + 40 + (i // per_row) * 20, "color": s.color, "dash": s.dash,
         "caption": s.kt.caption}
        for i, s in enumerate(series)
    ]  # fmt: skip
    return {
        "title": title,
        "x0": x0,
        "left": left,
        "right": right,
        "top": top,
        "bottom": bottom,
        "ticks": [{"y": sy(t), "label": fmt_num(t)} for t in ticks],
        "years": [{"x": sx(i), "label": y} for i, y in enumerate(years) if i % every == 0 or i == n - 1],
        "empty": None if values else {"x": (left + right) / 2, "y": top + height / 2},
        "lines": lines,
        "legend": legend,
        "legend_rows": math.ceil(len(series) / per_row),
    }


def _as_float(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _chart(years: list[int], totals: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """Two panels side by side (applications and appeals; table 2's decisions, on their own scale),
    and the same numbers as a table."""
    axis = _axis_years(years)
    styled = list(zip(KEY_TOTALS, _PALETTE, _DASHES))
    panels, x = [], 0.0
    for (title, tables), width in zip(_PANELS, (590.0, 390.0)):
        series = [
            _Series(kt, color, dash, [_as_float(totals.get(y, {}).get(kt.name)) for y in axis])
            for kt, color, dash in styled
            if kt.table in tables
        ]
        panels.append(_panel(x, width, title, axis, series))
        x += width + 20
    rows = [
        {
            "caption": kt.caption,
            "key": f"{kt.table}.{kt.row}.{kt.col}",
            "values": [fmt_num(_as_float(totals.get(y, {}).get(kt.name))) if y in totals else "·" for y in axis],
        }
        for kt in KEY_TOTALS
    ]
    height = 30 + 200 + 40 + max(p["legend_rows"] for p in panels) * 20
    return {"panels": panels, "width": x - 12, "height": height, "years": axis, "rows": rows}


# ----------------------------------------------------------------------------------------------------
# the agency page
# ----------------------------------------------------------------------------------------------------


def _rule(rule_id: str) -> dict[str, str]:
    r = RULES_BY_ID.get(rule_id)
    return {"id": rule_id, "title": r.title if r else "", "text": r.text if r else "", "en": r.description if r else ""}


def _cell_view(c: Mapping[str, Any], fmt: str | None) -> dict[str, Any]:
    label = cell_label(str(c.get("table", "")), c.get("row"), c.get("col"), fmt)
    if c.get("year") is not None:
        label += f"（{c['year']}）"
    # a suggestion: the localiser's value, or for a blank not filled (BLANK-01) what the identities imply
    sugg = c.get("suggested") if c.get("suggested") is not None else c.get("implied")
    return {
        "label": label,
        "key": cell_key(c),
        "page": c.get("page"),
        "printed": "空白" if c.get("value") is None and "value" in c else fmt_num(c.get("value")),
        "suggested": None if sugg is None else fmt_num(sugg),
    }


def _issue(check: Mapping[str, Any], fmt: str | None) -> dict[str, Any]:
    origin = check.get("origin")
    return {
        "rule": _rule(str(check.get("rule", ""))),
        "severity": _sev(str(check.get("severity", ""))),
        "text": check_text(check, fmt),
        "message": check.get("message") or "",
        "cells": [_cell_view(c, fmt) for c in check.get("cells") or []],
        "origin": {"text": _ORIGIN.get(origin, origin), "code": origin} if origin else None,
    }


def _report_view(r: Mapping[str, Any], clock: _Clock) -> dict[str, Any]:
    failed = [c for c in r.get("checks", []) if not c.get("passed")]
    failed.sort(key=lambda c: (_SEVERITY_ORDER.get(c.get("severity"), 9), str(c.get("rule"))))
    issues = [_issue(c, r.get("format_version")) for c in failed]
    counts = r.get("counts") or {}
    return {
        "status": r.get("status"),
        "report_id": r.get("report_id"),
        "source": r.get("source"),
        "agency": r.get("agency"),
        "format_version": r.get("format_version"),
        "media": r.get("media"),
        "uploaded": clock(r.get("last_modified")),
        "ocr": r.get("ocr") or {},
        "errors": counts.get("failed_errors", 0),
        "warnings": counts.get("warnings", 0),
        "issues": issues,
        "has_suggestion": any(cell["suggested"] is not None for i in issues for cell in i["cells"]),
        "passed": [_rule(x) for x in sorted({str(c.get("rule")) for c in r.get("checks", []) if c.get("passed")})],
    }


def _year_anchor(year: int | None) -> str:
    return f"y{year}" if year is not None else "y-unknown"


def _group_by_year(reports: Sequence[Mapping[str, Any]]) -> dict[int | None, list[Mapping[str, Any]]]:
    groups: dict[int | None, list[Mapping[str, Any]]] = {}
    for r in reports:
        groups.setdefault(r.get("year"), []).append(r)
    return groups


def _current_status(reports: Sequence[Mapping[str, Any]]) -> str:
    current = [r for r in reports if not r.get("superseded")]
    return str(current[-1].get("status")) if current else "superseded"


def _quarantine_view(items: Sequence[Mapping[str, Any]], clock: _Clock) -> list[dict[str, Any]]:
    return [
        {
            "source": q.get("source"),
            "error_type": q.get("error_type"),
            "text": error_text(q.get("error_type")),
            "message": q.get("message"),
            "sha256": str(q.get("sha256") or ""),
            "at": clock(q.get("at")),
            "pipeline_version": q.get("pipeline_version"),
        }
        for q in items
    ]


def _doc_summary(reports: Sequence[Mapping[str, Any]], quarantine: Sequence[Any]) -> dict[str, Any]:
    current = [r for r in reports if not r.get("superseded")]
    counts = [r.get("counts") or {} for r in current]
    return {
        "reports": len(current),
        "superseded": len(reports) - len(current),
        **{s: sum(r.get("status") == s for r in current) for s in ("passed", "warned", "failed")},
        "failed_errors": sum(int(c.get("failed_errors", 0)) for c in counts),
        "quarantined": len(quarantine),
        "years": sorted({r["year"] for r in current if r.get("year") is not None}),
    }


def agency_html(doc: Mapping[str, Any], zone: str | tzinfo | None = None) -> str:
    """quality/<agency_id>.html (and quality/quarantine.html for the pseudo-agency of quarantined
    files whose agency is unknown): the agency document for people, one self-contained page.
    `zone`: the time zone times are shown in; default the `XXGK_TIMEZONE` setting."""
    clock = _Clock(zone)
    reports = list(doc.get("reports", []))
    quarantine = list(doc.get("quarantine", []))
    summary = {**_doc_summary(reports, quarantine), **(doc.get("summary") or {})}
    years = sorted(summary.get("years", []))
    totals = {
        r["year"]: r.get("key_totals") or {} for r in reports if not r.get("superseded") and r.get("year") is not None
    }
    sections = [
        {
            "anchor": _year_anchor(y),
            "title": f"{y} 年度报告" if y is not None else "年度未识别的报告",
            "label": str(y) if y is not None else "未知",
            "status": _current_status(g),
            "current": [_report_view(r, clock) for r in g if not r.get("superseded")],
            "old": [_report_view(r, clock) for r in g if r.get("superseded")],
        }
        for y, g in _group_by_year(reports).items()
    ]
    is_quarantine = doc.get("agency_id") == QUARANTINE_ID
    name = QUARANTINE_NAME if is_quarantine else doc.get("agency") or "（未识别的机关）"
    return _render(
        "agency.html.j2",
        title=f"{'隔离文件' if is_quarantine else '质量报告'} · {name}",
        name=name,
        agency_id=doc.get("agency_id"),
        is_quarantine=is_quarantine,
        years_text=_years_text(years),
        generated=clock(doc.get("generated_at")),
        zone=clock.label,
        summary=summary,
        sections=sections,
        chart=_chart(years, totals) if years else None,
        quarantine=_quarantine_view(quarantine, clock),
    )


# ----------------------------------------------------------------------------------------------------
# across agencies
# ----------------------------------------------------------------------------------------------------


def missing_years(years: Sequence[int], expected: Sequence[int] | None = None) -> list[int]:
    """The years an agency did not report: of `expected` if given, else the gaps between its own
    first and last reported year (an agency is not expected to report before it first did)."""
    have = set(years)
    if expected is not None:
        return sorted(set(expected) - have)
    return [y for y in range(min(have), max(have) + 1) if y not in have] if have else []


def _rates(stats: Sequence[AgencyStats]) -> list[dict[str, Any]]:
    out = []
    for y in sorted({y for s in stats for y in s.by_year}):
        statuses = [s.by_year[y] for s in stats if y in s.by_year]
        n = {k: statuses.count(k) for k in ("passed", "warned", "failed")}
        total = len(statuses)
        out.append(
            {
                "year": y,
                "total": total,
                **n,
                "pass_pct": round(100.0 * n["passed"] / total) if total else 0,
                "ok_pct": round(100.0 * (n["passed"] + n["warned"]) / total) if total else 0,
            }
        )
    return out


def index_html(
    agencies: list[dict[str, Any]],
    expected_years: list[int] | None = None,
    generated_at: datetime | None = None,
    quarantined: Sequence[Mapping[str, Any]] = (),
    zone: str | tzinfo | None = None,
) -> str:
    """quality/index.html from agency documents (`index_page` says what it shows); with
    `quarantined` (quarantine record dicts of files whose agency is unknown), those files at the end.

    The pseudo-agency of such files (agency_id `quarantine`) is not an agency: it is counted only
    among quarantined files and linked from their section."""
    pseudo = [d for d in agencies if d.get("agency_id") == QUARANTINE_ID]
    stats = [agency_stats(d) for d in agencies if d.get("agency_id") != QUARANTINE_ID]
    orphans = list(quarantined) or [q for d in pseudo for q in d.get("quarantine", [])]
    return index_page(stats, orphans, bool(pseudo), expected_years, generated_at, zone)


def index_page(
    stats: Sequence[AgencyStats],
    orphans: Sequence[Mapping[str, Any]] = (),
    orphan_page: bool = False,
    expected_years: list[int] | None = None,
    generated_at: datetime | None = None,
    zone: str | tzinfo | None = None,
) -> str:
    """quality/index.html: pass rates per year, worst offenders, missing years, all agencies, then
    `orphans` (quarantine record dicts of files no agency is known for), linked to the
    pseudo-agency's page if `orphan_page`. Missing years: per agency, of `expected_years` if given,
    else the gaps between its own first and last reported year."""
    clock = _Clock(zone)
    expected = sorted(set(expected_years)) if expected_years else None
    total = {k: sum(s.statuses[k] for s in stats) for k in ("passed", "warned", "failed")}
    summary = {
        "agencies": len(stats),
        "reports": sum(total.values()),
        **total,
        "failed_errors": sum(s.failed_errors for s in stats),
        "quarantined": sum(s.quarantined for s in stats) + len(orphans),
    }
    missing = [{"s": s, "missing": m} for s in stats if (m := missing_years(s.years, expected))]
    return _render(
        "index.html.j2",
        title="质量总览 · 政府信息公开工作年度报告",
        years_text=_years_text(sorted({y for s in stats for y in s.years})),
        expected_text=_years_text(expected) if expected else None,
        generated=clock(generated_at) if generated_at else None,
        zone=clock.label,
        summary=summary,
        rates=_rates(stats),
        offenders=offenders(stats),
        missing=missing,
        agencies=sorted(stats, key=lambda s: (s.agency, s.agency_id)),
        quarantine=_quarantine_view(list(orphans), clock),
        quarantine_page=_page_link(QUARANTINE_ID) if orphan_page else None,
    )
