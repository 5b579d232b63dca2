"""The Great Expectations edge: the only module importing great_expectations.

One ephemeral context (no `gx/` tree, progress bars off, analytics off); the suites are the
committed JSON of `expectations/`, loaded with `gx.ExpectationSuite(**json)` and never added
to the context (that would give them new ids). Each suite validates ONE stacked frame holding
every report of the batch, with `result_format` COMPLETE and the index columns, and the
unexpected rows are split per report (and agency) into `Finding`s for `assemble`.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

# GX reads GX_ANALYTICS_ENABLED from the environment at import time; it has no other switch.
# This is the one deliberate exception to "only tasks/settings.py touches os.environ": a default
# for a third-party library, set before its import, never read back by us.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

with warnings.catch_warnings():
    # GX imports pyspark where it is installed (the dev tools: the data dictionary's Spark example);
    # pyspark 4 warns at import that it does not support pandas 3, which GX's pandas path does not
    # touch: a line on every run that says nothing about the run
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

from tasks.checks import frames, residuals
from tasks.checks.assemble import Finding, assemble, gx_severity
from tasks.checks.frames import Report, prepare
from tasks.checks.suites import DEFAULT_DIR, load_suites
from tasks.records import Validated

log = logging.getLogger(__name__)

FrameBuilder = Callable[[list[Report]], pd.DataFrame]
SUITE_FRAMES: dict[str, tuple[FrameBuilder, str | None, list[str]]] = {
    "structure": (frames.structure_frame, None, frames.INDEX),
    "t2_2021": (lambda r: frames.t2_frame(r, "2021"), "t2", frames.INDEX),
    "t2_2019": (lambda r: frames.t2_frame(r, "2019"), "t2", frames.INDEX),
    "t3_2021": (lambda r: frames.t3_frame(r, "2021"), "t3", frames.INDEX),
    "t3_2019": (lambda r: frames.t3_frame(r, "2019"), "t3", frames.INDEX),
    "t4": (frames.t4_frame, "t4", frames.INDEX),
    "t3_identities": (residuals.identity_frame, None, residuals.INDEX),
}
"""Suite name → (frame builder, table of the frame rows, unexpected_index_column_names)."""

_TIMING: dict[str, float] = {"gx_seconds": 0.0, "frame_seconds": 0.0, "validations": 0, "reports": 0}


def validation_timing(reset: bool = False) -> dict[str, float]:
    """Cumulative seconds spent inside GX validations and building frames (for the benchmark)."""
    out = dict(_TIMING)
    if reset:
        _TIMING.update(gx_seconds=0.0, frame_seconds=0.0, validations=0, reports=0)
    return out


@lru_cache(maxsize=1)
def _context() -> Any:
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@lru_cache(maxsize=16)
def _batch_definition(name: str) -> Any:
    source = _context().data_sources.add_or_update_pandas(f"xxgk_{name}")
    return source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")


@lru_cache(maxsize=4)
def _suites(directory: str) -> dict[str, Any]:
    return {name: gx.ExpectationSuite(**d) for name, d in load_suites(directory).items()}


def _run(name: str, suite: Any, df: pd.DataFrame, index: list[str]) -> Any:
    t0 = time.perf_counter()
    result = _batch_definition(name).get_batch(batch_parameters={"dataframe": df}).validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index}
    )
    _TIMING["gx_seconds"] += time.perf_counter() - t0
    _TIMING["validations"] += 1
    return result


def _findings(result: Any, table: str | None) -> list[Finding]:
    out = []
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        meta = cfg.meta or {}
        column = cfg.kwargs.get("column") or cfg.kwargs.get("column_A") or ""
        for entry in res.result.get("unexpected_index_list") or []:
            rule = entry.get("rule") if meta.get("rules_by_index") else meta["rule"]
            out.append(Finding(str(entry["report_id"]), str(rule), gx_severity(str(cfg.severity)), table,
                               str(entry.get("row", entry.get("key", ""))), str(column)))
    return out


def run_suites(reports: list[Report], directory: str | Path = DEFAULT_DIR) -> list[Finding]:
    """Validate every suite once over the stacked frame of all reports; return the unexpected rows."""
    suites = _suites(str(directory))
    findings: list[Finding] = []
    for name, (build, table, index) in SUITE_FRAMES.items():
        t0 = time.perf_counter()
        df = build(reports)
        _TIMING["frame_seconds"] += time.perf_counter() - t0
        if df.empty:
            continue
        findings += _findings(_run(name, suites[name], df, index), table)
    return findings


def validate_batch(extractions: list[dict[str, Any]], previous: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Validated]:
    """Validate many reports in one GX run per suite; report_id → `Validated`.

    Each extraction is the §10 dict plus `report_id` and `agency_id`; `previous` maps a
    report_id to the same agency's previous-year extraction dict (for XY-01..03, PLAUS-02).
    """
    previous = previous or {}
    reports = [prepare(e) for e in extractions]
    findings = run_suites(reports)
    _TIMING["reports"] += len(reports)
    per_report: dict[str, list[Finding]] = {r.report_id: [] for r in reports}
    for f in findings:
        per_report.setdefault(f.report_id, []).append(f)
    out = {}
    for rep in reports:
        prev = previous.get(rep.report_id)
        prev_rep = prepare({**prev, "report_id": f"{rep.report_id}#previous"}) if prev else None
        out[rep.report_id] = assemble(rep, per_report[rep.report_id], prev_rep)
    log.info("validated %d report(s) in %d suite run(s)", len(reports), len(SUITE_FRAMES))
    return out


def by_agency(results: Mapping[str, Validated], extractions: list[dict[str, Any]]) -> dict[str, list[Validated]]:
    """The batch's results split per agency_id."""
    agency = {str(e["report_id"]): str(e.get("agency_id") or "") for e in extractions}
    out: dict[str, list[Validated]] = {}
    for rid, v in results.items():
        out.setdefault(agency.get(rid, ""), []).append(v)
    return out
