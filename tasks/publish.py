"""The outputs as Delta Lake tables (delta-rs): explicit Arrow schemas, `year` partitions,
commits whose cost does not depend on the year's size, any number of concurrent writers.

Layout under the output root (a folder or an s3:// prefix, through `tasks.storage`):

    delta/<dataset>/_delta_log/…                     the table's transaction log
    delta/<dataset>/year=<Y>/part-….parquet           its data files (read them through the log)

Datasets (tasks/schema.py): `cells`, the wide views `t2_active_disclosure`, `t3_applications`,
`t4_review_litigation`, `checks` and `reports`. Every table is append-only and every row carries
the `publish_id` of the commit that wrote it. Publishing a batch, per year:

1. read the `reports` rows of the batch's agencies of year−2 … year+1 (partitions `year` +
   `agency_id IN`, row groups pruned by statistics), to tell new reports from the same bytes again
   (a `report_id` already there changes nothing) and which version of each agency's report is
   current, and the `cells` of their current reports of year−1 and year (one read);
2. run the new reports' cross-year checks (XY-01..03, PLAUS-02) against the agency's current
   report of year−1 as published (rebuilt from its cells, as every report is for these checks),
   and check the agency's current report of year+1 again wherever the current report of the year
   changed (four reads more, of its cells, checks and wide rows, only when there is one);
3. append the new reports' rows to `cells` and the wide views (only those current in that read and
   not withheld: an upload older than a published version never gets cells) and to `checks`, with
   the re-checked reports' new rows (its checks, a copy of its cells and wide rows with the new
   `quality_status`);
4. append their `reports` rows and the re-checked reports' new ones: this commit publishes them;
5. read `reports` again (one read) and check again, in a publish of its own, any current report of
   year or year+1 that was checked against another report of the year before than the current one.

Each is a blind append of the batch's rows: its cost does not depend on what the year holds, and
concurrent appends never conflict (delta-rs retries a lost version race by itself).

Cross-year checks, and so statuses, are a function of the data, not of the order the years
arrive in. Each `reports` row names in `previous_report_id` the report of the year before its
cross-year checks ran against (null: none), and a report's row is the one naming the agency's
current report of the year before (`canonical_reports`), the smallest `publish_id` among several:
a re-check appends a row, it never rewrites one, and which row counts is computed from the data,
not from clocks or commit order. Two writers publishing neighbouring years (or versions) at once:
each reads `reports` again after its commit (step 5), and of the two the second to read sees the
other's commit (the log orders them), so it checks the report that needs it again: once both have
returned, the current reports are checked against the current years before. A writer killed
between its commit and step 5 can leave a report checked against an older year-before report
(readers then see its first row, the smallest `publish_id`) until a publish of that agency's
neighbouring years runs again. Withheld reports (strict mode) have no cells: they are never used
as the year before and are not checked again (their status is `failed` either way).

Which version is current is never stored: it is computed from `reports` (`with_current`): per
agency and year, the newer upload by the object's LastModified, then the greater report id,
whatever the ingestion order, so no later writer has to correct an earlier one, and two writers
publishing versions of one agency at once need no coordination. A report id with two rows (two
writers published the same bytes at once, neither seeing the other) counts once: the row with the
smaller `publish_id`. A report's rows in the other tables are those with its (`report_id`,
`publish_id`): `current_rows` reads them by partition and report id ("current cells" is this join
with the current `reports` rows, a view, not a rewrite; docs/data-dictionary.md shows it in
DuckDB, Polars and pandas). Rows of superseded versions stay (history), and so do rows appended by
a writer killed between steps 2 and 3: no `reports` row names their `publish_id`, so no join
returns them, and the batch's rerun publishes the report again under a new one. Hence a rerun of
an interrupted batch duplicates nothing, however it is batched: idempotence is by `report_id`
present in `reports` (step 1) and by the join on `publish_id`, not by Delta transaction ids.

Not a MERGE on `reports`: delta-rs runs MERGE, UPDATE and DELETE through DataFusion, whose parquet
reads never completed against moto (ranged GETs retried for 150 s, then "error sending request"),
and whose files carry Utf8View columns that pyarrow 26 cannot filter with a string predicate.

Commit conflicts (`CommitFailedError`, a version written by another writer first, a table created
by two writers at once) are retried with full-jitter exponential backoff, up to `attempts` times
per commit (`XXGK_PUBLISH_ATTEMPTS`), then `PublishConflict`; appends that lose a version race
are redone by delta-rs itself first (its commit retries). No lock: delta-rs commits a log
entry on a local folder by an atomic hard link / rename that fails if the entry exists, and on S3
by a put with ``If-None-Match: *`` (``conditional_put=etag``, `tasks.storage.delta_location`).
`publish` returns once every commit is done; the ledger is written after it.

A plain scan of a table's folder (``**/*.parquet``) counts files the log has removed (after a
compaction, until `vacuum`), rows of every version and rows no commit published: read through the
log (deltalake, Polars `scan_delta`, DuckDB's `delta_scan`) and join on `reports`.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks import quality, schema
from tasks.errors import Unpublishable
from tasks.extract.clean import clean_text
from tasks.fitting import CTRL_RULE, RULE as RANGE_RULE, clean_extraction, ctrl_check, fit_extraction, range_check
from tasks.records import CheckResult, ReportMeta, Validated

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from tasks.storage import Store

log = logging.getLogger(__name__)

PIPELINE_VERSION = "0.1.0"
DELTA_ROOT = "delta"
ROW_GROUP_ROWS = 8192
"""Rows per parquet row group: files are sorted by report id, so a read by report id skips the
row groups (of about 20 reports' cells each) that cannot hold it."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Publishable:
    """One extracted and validated report, ready to become rows."""

    meta: ReportMeta
    extraction: dict[str, Any]
    validated: Validated
    ingested_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    previous_report_id: str | None = None  # the previous-year report its cross-year checks ran against


# --------------------------------------------------------------------------------------------
# rows (pure)
# --------------------------------------------------------------------------------------------


def _decimal(v: Any) -> Decimal | None:
    if v is None:
        return None
    return Decimal(str(v)).quantize(Decimal("0.0001"))


def _int(v: Any) -> int | None:
    if v is None:
        return None
    d = Decimal(str(v))
    return int(d) if d == d.to_integral_value() else None


def cell_rows(p: Publishable) -> list[dict[str, Any]]:
    m, ex, v = p.meta, p.extraction, p.validated
    out = []
    for c in ex["cells"]:
        key = (c["table"], c["row"], c["col"])
        out.append(
            {
                "report_id": m.report_id,
                "source": m.source,
                "sha256": m.sha256,
                "agency": m.agency,
                "agency_id": m.agency_id,
                "format_version": m.format_version,
                "media": m.media,
                "table": c["table"],
                "block": c.get("block"),
                "row": c["row"],
                "col": c["col"],
                "value": _decimal(c["value"]),
                "status": c["status"],
                "blank_reading": v.blank_readings.get(key) if c["status"] == "blank" else None,
                "raw": c.get("raw"),
                "unit": c.get("unit"),
                "page": c.get("page"),
                "bbox": c.get("bbox"),
                "source_kind": c.get("source_kind"),
                "confidence": c.get("confidence"),
                "extractor_version": ex.get("extractor_version"),
                "quality_status": v.status,
            }
        )
    return out


def _wide_head(p: Publishable) -> dict[str, Any]:
    m = p.meta
    return {
        "report_id": m.report_id,
        "agency": m.agency,
        "agency_id": m.agency_id,
        "format_version": m.format_version,
        "quality_status": p.validated.status,
    }


def wide_rows(p: Publishable) -> dict[str, list[dict[str, Any]]]:
    """The three wide views: t2 one row per (block, row), t3 and t4 one row per row key."""
    head = _wide_head(p)
    kinds = dict(schema.T2_COLUMNS)
    rows: dict[str, dict[tuple[str, str], dict[str, Any]]] = {"t2": {}, "t3": {}, "t4": {}}
    for c in p.extraction["cells"]:
        table = c["table"]
        r = rows[table].setdefault((c.get("block") or "", c["row"]), {**head, "row": c["row"]})
        if table == "t2":
            r["block"] = c.get("block")
            r[c["col"]] = _decimal(c["value"]) if kinds.get(c["col"]) == "amount" else _int(c["value"])
        else:
            r[c["col"]] = _int(c["value"])
    return {
        "t2_active_disclosure": list(rows["t2"].values()),
        "t3_applications": list(rows["t3"].values()),
        "t4_review_litigation": list(rows["t4"].values()),
    }


def report_row(p: Publishable) -> dict[str, Any]:
    m, v = p.meta, p.validated
    failed: defaultdict[str, int] = defaultdict(int)
    for ch in v.checks:
        if not ch.passed:
            failed[ch.severity] += 1
    return {
        "report_id": m.report_id,
        "source": m.source,
        "sha256": m.sha256,
        "media": m.media,
        "agency": m.agency,
        "agency_id": m.agency_id,
        "format_version": m.format_version,
        "status": v.status,
        "failed_errors": failed["error"],
        "failed_warnings": failed["warn"],
        "failed_infos": failed["info"],
        "pages": p.extraction.get("pages"),
        "source_last_modified": m.last_modified,
        "ingested_at": p.ingested_at,
        "pipeline_version": PIPELINE_VERSION,
        "previous_report_id": p.previous_report_id,
        **report_summary(p.extraction["cells"]),
        "is_current": True,
        "superseded_by": None,
    }


def report_summary(cells: Iterable[Mapping[str, Any]]) -> dict[str, int | None]:
    """A report's `ocr_cells`, `ocr_refused` and `key_*` columns (quality.ocr_counts and
    quality.key_totals of its cells; a key total not printed as a whole number is null)."""
    cells = list(cells)
    ocr = quality.ocr_counts(cells)
    totals = quality.key_totals(cells)
    return {"ocr_cells": ocr["cells"], "ocr_refused": ocr["refused"],
            **{f"key_{k}": int(v) if v is not None and float(v).is_integer() else None for k, v in totals.items()}}  # fmt: skip


_NO_TOTALS = {f"key_{kt.name}": None for kt in quality.KEY_TOTALS}
"""A report published without cells (withheld, or older than a version already published) shows
no figures in `reports` either."""


def report_totals(row: Mapping[str, Any]) -> tuple[dict[str, float | None], dict[str, int]] | None:
    """The key totals and OCR counts a `reports` row carries, as the quality pages take them;
    None for a row written before those columns (its cells tell them)."""
    if row.get("ocr_cells") is None:
        return None
    totals = {kt.name: None if row.get(f"key_{kt.name}") is None else float(row[f"key_{kt.name}"]) for kt in quality.KEY_TOTALS}
    return totals, {"cells": int(row["ocr_cells"]), "refused": int(row.get("ocr_refused") or 0)}


def check_rows(p: Publishable) -> list[dict[str, Any]]:
    m = p.meta
    head = {"report_id": m.report_id, "agency": m.agency, "agency_id": m.agency_id}
    return [{**head, **row} for row in _check_dicts(p.validated.checks)]


def rows_by_dataset(p: Publishable) -> dict[str, list[dict[str, Any]]]:
    return {"cells": cell_rows(p), "checks": check_rows(p), **wide_rows(p)}


# --------------------------------------------------------------------------------------------
# supersession (pure)
# --------------------------------------------------------------------------------------------


def version_order(r: Mapping[str, Any]) -> tuple[datetime, str]:
    """Newer upload wins: the source object's LastModified, then the report id as a tiebreak."""
    lm = r.get("source_last_modified") or _EPOCH
    return (lm, r["report_id"])


def merge_reports(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All versions of every agency's report, once each, with `is_current` and `superseded_by` set."""
    by_id = {r["report_id"]: dict(r) for r in existing}
    for r in new:
        by_id.setdefault(r["report_id"], dict(r))  # the same bytes again change nothing
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in by_id.values():
        by_agency[r["agency_id"]].append(r)
    for versions in by_agency.values():
        versions.sort(key=version_order)
        current = versions[-1]["report_id"]
        for r in versions:
            r["is_current"] = r["report_id"] == current
            r["superseded_by"] = None if r["is_current"] else current
    return sorted(by_id.values(), key=lambda r: (r["agency_id"], version_order(r)))


@dataclass
class PublishSummary:
    published: list[str] = field(default_factory=list)  # report ids now current
    unchanged: list[str] = field(default_factory=list)  # already published (same bytes)
    superseded: list[str] = field(default_factory=list)  # report ids replaced by a newer upload
    older: list[str] = field(default_factory=list)  # arrived after a newer version: history only
    withheld: list[str] = field(default_factory=list)  # strict mode: failed, kept out of curated datasets
    rechecked: list[str] = field(default_factory=list)  # published reports of other batches checked again (next year)
    statuses: dict[str, str] = field(default_factory=dict)  # report id → status as published (cross-year checks included)
    refused: list[Refused] = field(default_factory=list)  # reports whose rows cannot be written: quarantine them
    files_written: int = 0
    conflicts: int = 0  # commits redone because another writer committed first
    checks: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """The `checks` rows this publish committed, by (report_id, publish_id) of each `reports` row
    it committed (an empty list for a report with none): the quality pages need not read them back."""

    def absorb(self, other: PublishSummary) -> None:
        """Add a committed part's outcome (its lists) to this batch's."""
        for name in ("published", "unchanged", "superseded", "older", "withheld", "rechecked"):
            getattr(self, name).extend(getattr(other, name))
        self.statuses.update(other.statuses)
        self.checks.update(other.checks)


class PublishConflict(RuntimeError):
    """A commit could not be made within the attempts: other writers kept winning the race."""


CURRENT_ONLY = ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation")
"""Datasets that get rows only of reports current (and not withheld) when they are published."""


@dataclass(frozen=True)
class Refused:
    """A report left out of a batch because its rows cannot be written (the rest of the batch is)."""

    report_id: str
    source: str
    sha256: str
    error_type: str
    message: str


def fitted(p: Publishable) -> Publishable:
    """The report with every value fitted to its column and every string cleaned of control
    characters (tasks/fitting.py), its RANGE-01 and CTRL-01 checks naming what was refused or
    removed; the quality status follows the checks."""
    from tasks.checks.status import quality_status

    extraction, removed = clean_extraction(p.extraction)
    agency, gone = clean_text(p.meta.agency) if p.meta.agency is not None else (None, Counter())
    removed.update(gone)
    extraction, refused = fit_extraction(extraction)
    if not refused and not removed:
        return p  # validation already named the out_of_range cells and the removed characters
    checks = {c.rule: c for c in p.validated.checks}
    checks[RANGE_RULE] = range_check(extraction, refused)
    checks[CTRL_RULE] = ctrl_check(extraction, removed)
    listed = list(checks.values())
    validated = Validated(p.validated.report_id, quality_status(listed), listed, p.validated.blank_readings)
    return replace(p, meta=replace(p.meta, agency=agency), extraction=extraction, validated=validated)


def unpublishable(p: Publishable) -> str | None:
    """Why this report's rows cannot be written in the datasets' schemas, or None. Converting one
    report's rows costs milliseconds; a failure costs that report alone, not its batch."""
    try:
        if p.meta.year is None or not -(2**15) <= p.meta.year < 2**15:
            return f"the year {p.meta.year!r} cannot be a year= partition"
        for dataset, rows in {"reports": [report_row(p)], **rows_by_dataset(p)}.items():
            rows = [{**r, "publish_id": "-"} for r in rows]  # the writer's, set at commit
            table = pa.Table.from_pylist(rows, schema=schema.DATASETS[dataset])
            nulls = [f.name for f in table.schema if not f.nullable and table[f.name].null_count]
            if nulls:  # the parquet writer would refuse the whole file
                raise ValueError(f"{dataset}: column(s) {', '.join(nulls)} are declared non-nullable but hold nulls")
    except (pa.ArrowException, ArithmeticError, ValueError, TypeError, UnicodeError) as exc:
        return f"its rows do not fit the datasets' schemas ({type(exc).__name__}: {str(exc)[:300]})"
    return None


def new_publish_id() -> str:
    """Unique per commit, and in time order on one clock (the reconcile keeps the smaller)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}"


def retryable(exc: BaseException) -> bool:
    """A commit that lost a race: redone from a fresh read of the log."""
    from deltalake.exceptions import CommitFailedError, DeltaError

    if isinstance(exc, CommitFailedError):
        return True
    text = str(exc).lower()
    return isinstance(exc, DeltaError) and any(w in text for w in ("conflict", "already exists", "version"))


class Tables:
    """The Delta tables of one output store (local folder or S3 prefix)."""

    def __init__(self, store: Store) -> None:
        from tasks.storage import delta_location

        self.store = store
        self.root, self.options = delta_location(store)
        self._fs: tuple[Any, str] | None = None

    def filesystem(self) -> tuple[Any, str]:
        """The native pyarrow filesystem the data files are scanned with (tasks.storage.arrow_filesystem)."""
        from tasks.storage import arrow_filesystem

        if self._fs is None:
            self._fs = arrow_filesystem(self.store)
        return self._fs

    def uri(self, dataset: str) -> str:
        return f"{self.root}/{DELTA_ROOT}/{dataset}"

    def table(self, dataset: str) -> DeltaTable | None:
        """The table as of its latest version, or None if no writer created it yet."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            return DeltaTable(self.uri(dataset), storage_options=self.options or None)
        except TableNotFoundError:
            return None

    def read(
        self,
        dataset: str,
        years: Iterable[int] | None = None,
        where: pc.Expression | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Rows of `dataset` in `years` (all years if None) matching `where`, from the files the
        log holds: partitions pruned by `year`, row groups by their statistics (files are sorted
        by report id).

        The files the log lists are scanned as a plain pyarrow dataset on a native filesystem: the
        dataset deltalake builds carries its statistics as string_view literals that pyarrow 26
        cannot compare with a string filter, its Python filesystem makes the process abort at exit
        (tasks.storage.arrow_filesystem), and delta-rs's DataFusion reader hangs on moto's ranged
        GETs."""
        sch = schema.delta_schema(dataset)
        out_sch = sch if columns is None else pa.schema([sch.field(c) for c in columns])
        ys = None if years is None else sorted({int(y) for y in years})
        files = None if ys == [] else self.dataset(dataset, ys)
        if files is None:
            return out_sch.empty_table()
        expr = None if ys is None else pc.field("year").isin(ys)
        if where is not None:
            expr = where if expr is None else expr & where
        return _conform(files.to_table(filter=expr, columns=columns), out_sch)

    def dataset(self, dataset: str, years: Iterable[int] | None = None) -> Any:
        """The data files the log lists (of `years`, all if None) as a pyarrow dataset on the native
        filesystem (see `read`), or None if no writer created the table yet."""
        import pyarrow.dataset as pds

        dt = self.table(dataset)
        if dt is None:
            return None
        fs, scheme = self.filesystem()
        pruning = None if years is None else [("year", "in", [str(int(y)) for y in years])]
        uris = dt.file_uris(file_pruning_predicate=pruning)
        return pds.dataset([u.removeprefix(scheme) for u in uris], filesystem=fs, format="parquet",
                           schema=schema.delta_schema(dataset),
                           partitioning=pds.partitioning(schema.PARTITIONING, flavor="hive"))  # fmt: skip

    def years(self) -> list[int]:
        """The years with a `reports` partition."""
        dt = self.table("reports")
        if dt is None:
            return []
        return sorted({int(p["year"]) for p in dt.partitions()})


def _conform(table: pa.Table, sch: pa.Schema) -> pa.Table:
    """The table in the dataset's Arrow types (Delta has no fixed-size list: `bbox` comes back as a
    plain list)."""
    try:
        return table.select(sch.names).cast(sch)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError):
        return pa.Table.from_pylist(table.to_pylist(), schema=sch)


def is_in(column: str, values: Iterable[str]) -> pc.Expression:
    return pc.field(column).isin(sorted(set(values)))


def current_ids(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, int], str]:
    """(agency_id, year) → the id of the agency's current report of that year (`version_order`)."""
    best: dict[tuple[str, int], Mapping[str, Any]] = {}
    for r in rows:
        k = (r["agency_id"], int(r["year"]))
        if k not in best or version_order(r) > version_order(best[k]):
            best[k] = r
    return {k: r["report_id"] for k, r in best.items()}


def canonical_reports(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per report id: the one whose cross-year checks ran against the agency's current
    report of the year before (`previous_report_id`, null when there is none), the smallest
    `publish_id` among several (two writers published the same bytes, or checked the report
    again, at once) or when none did. `rows` must hold the year before's rows of the same agencies."""
    rows = list(rows)
    current = current_ids(rows)
    by_id: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_id[r["report_id"]].append(r)
    out = []
    for revs in by_id.values():
        want = current.get((revs[0]["agency_id"], int(revs[0]["year"]) - 1))
        fits = [r for r in revs if r.get("previous_report_id") == want]
        out.append(dict(min(fits or revs, key=lambda r: str(r["publish_id"]))))
    return out


class DatasetWriter:
    """Publishes batches of reports into the Delta tables of a Store, safely alongside any number
    of other writers of the same root (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        withhold_failed: bool = False,
        attempts: int = 10,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.store = store
        self.tables = Tables(store)
        self.withhold_failed = withhold_failed
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s

    def publish(self, items: Iterable[Publishable]) -> PublishSummary:
        summary = PublishSummary()
        groups: dict[int, list[Publishable]] = defaultdict(list)
        for p in items:
            if p.meta.year is None or p.meta.agency_id is None:
                raise ValueError(f"report {p.meta.report_id} has no year or agency: quarantine it instead")
            p = fitted(p)
            reason = unpublishable(p)
            if reason is not None:  # this report alone is refused; the rest of the batch is published
                log.warning("report %s (%s) cannot be published: %s", p.meta.report_id, p.meta.source, reason)
                summary.refused.append(Refused(p.meta.report_id, p.meta.source, p.meta.sha256, Unpublishable.__name__,
                                               f"the report cannot be published: {reason}"))
                continue
            assert p.meta.year is not None  # else unpublishable() said why
            groups[p.meta.year].append(p)
        for year, group in sorted(groups.items()):
            self._publish_year(year, group, summary)
        return summary

    # ---------------------------------------------------------------- commits

    def _retry(self, what: str, commit: Callable[[], Any], summary: PublishSummary) -> Any:
        for attempt in range(1, self.attempts + 1):
            try:
                return commit()
            except Exception as exc:
                if not retryable(exc):
                    raise
                summary.conflicts += 1
                if attempt == self.attempts:
                    raise PublishConflict(f"{what}: still conflicting with other writers after {attempt} attempts ({exc})") from exc
                delay = random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))  # full jitter
                log.info("%s: %s; committing again in %.2f s (attempt %d of %d)", what, exc, delay, attempt + 1, self.attempts)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _append(self, dataset: str, rows: list[dict[str, Any]], summary: PublishSummary) -> None:
        if not rows:
            return
        from deltalake import CommitProperties, WriterProperties, write_deltalake

        sch = schema.delta_schema(dataset)
        table = pa.Table.from_pylist(rows, schema=sch).sort_by([("report_id", "ascending")])
        props = WriterProperties(compression="ZSTD", max_row_group_size=ROW_GROUP_ROWS)
        meta = CommitProperties(custom_metadata={"xxgk.schema_version": schema.SCHEMA_VERSION, "xxgk.dataset": dataset,
                                                 "xxgk.publish_id": str(rows[0]["publish_id"])})  # fmt: skip

        def commit() -> None:
            from deltalake.exceptions import SchemaMismatchError

            self._before_commit(f"append {dataset}")
            write = partial(write_deltalake, self.tables.uri(dataset), table, mode="append", partition_by=["year"],
                            storage_options=self.tables.options or None, writer_properties=props,
                            commit_properties=meta)  # fmt: skip
            try:
                write()
            except SchemaMismatchError:
                # a table written before this version's columns (all nullable, added at the end):
                # this append adds them to the table's schema; older files read them as null
                write(schema_mode="merge")

        self._retry(f"append to {dataset}", commit, summary)
        summary.files_written += 1

    def _neighbourhood(self, year: int, agencies: set[str]) -> list[dict[str, Any]]:
        """Every version of these agencies' reports of year−2 … year+1, each as its checked row,
        with `is_current`: one read of `reports` (year−2 only to tell which row of year−1 is its)."""
        rows = self.tables.read("reports", range(year - 2, year + 2), is_in("agency_id", agencies)).to_pylist()
        return with_current(rows)

    def _before_commit(self, what: str) -> None:
        """Called before every commit (tests interleave other writers here)."""

    def _publish_year(self, year: int, group: list[Publishable], summary: PublishSummary) -> None:
        agencies = {p.meta.agency_id for p in group if p.meta.agency_id}
        state = self._neighbourhood(year, agencies)
        stored = [r for r in state if r["is_current"] and r["year"] in (year - 1, year)]
        extractions = report_extractions(self.tables, stored)  # one read of `cells`
        before = {r["agency_id"]: r for r in stored if r["year"] == year - 1}
        group = [checked_against(p, before.get(str(p.meta.agency_id)), extractions) for p in group]
        old_reports = [r for r in state if r["year"] == year]
        known = {r["report_id"] for r in old_reports}
        was_current = {r["report_id"] for r in old_reports if r["is_current"]}
        merged = merge_reports(old_reports, [report_row(p) for p in group])
        current = {r["report_id"] for r in merged if r["is_current"]}
        withheld: set[str] = set()
        if self.withhold_failed:  # strict: failed reports stay in reports/checks, out of the curated data
            withheld = {r["report_id"] for r in merged if r["is_current"] and r["status"] == "failed"}
            summary.withheld.extend(sorted(withheld & {p.meta.report_id for p in group}))
        fresh: dict[str, Publishable] = {}
        for p in group:
            rid = p.meta.report_id
            if rid in known or rid in fresh:  # published before, or the same bytes twice in this batch
                summary.unchanged.append(rid)
                continue
            fresh[rid] = p
            summary.statuses[rid] = p.validated.status
            if rid in current:
                summary.published.append(rid)
            else:
                summary.older.append(rid)
        summary.superseded.extend(sorted(was_current - current))
        if not fresh:
            return
        pid = new_publish_id()
        curated = [p for rid, p in fresh.items() if rid in current and rid not in withheld]
        extractions.update({rid: own_extraction(p) for rid, p in fresh.items() if rid not in withheld})
        now = {r["agency_id"]: r for r in merged if r["is_current"]}
        targets = [(r, now.get(r["agency_id"])) for r in state if r["year"] == year + 1 and r["is_current"]]
        revised = self._revisions([(r, b) for r, b in targets if r.get("previous_report_id") != _id(b)], extractions, pid)
        stored_cols = set(schema.REPORTS.names)
        by_id = {r["report_id"]: {k: v for k, v in r.items() if k in stored_cols} for r in merged}
        built = [rows_by_dataset(p) for p in curated]  # once per report: each costs a walk of its cells
        rows = {dataset: [row for b in built for row in b[dataset]] for dataset in CURRENT_ONLY}
        rows["checks"] = [row for p in fresh.values() for row in check_rows(p)]
        with_cells = {p.meta.report_id for p in curated}
        rows["reports"] = [by_id[rid] if rid in with_cells else {**by_id[rid], **_NO_TOTALS} for rid in fresh]
        self._commit(year, pid, rows, revised, summary)
        self._converge(year, agencies, summary)

    def _commit(self, year: int, pid: str, rows: dict[str, list[dict[str, Any]]], revised: dict[str, list[dict[str, Any]]],
                summary: PublishSummary) -> None:  # fmt: skip
        """Append a publish's rows (of `year`) and its re-checked reports' (their own years), `reports` last."""
        appended: dict[str, list[dict[str, Any]]] = {}
        for dataset in (*CURRENT_ONLY, "checks", "reports"):
            out = [{**row, "publish_id": pid, "year": year} for row in rows.get(dataset, [])]
            appended[dataset] = out + [{**row, "publish_id": pid} for row in revised.get(dataset, [])]
            self._append(dataset, appended[dataset], summary)
        summary.rechecked.extend(r["report_id"] for r in revised.get("reports", []))
        committed: dict[tuple[str, str], list[dict[str, Any]]] = {(r["report_id"], pid): [] for r in appended["reports"]}
        for row in appended["checks"]:
            committed.setdefault((row["report_id"], pid), []).append(row)
        summary.checks.update(committed)

    def _converge(self, year: int, agencies: set[str], summary: PublishSummary) -> None:
        """After the commit, read the agencies' reports again: a current report of `year` or the next
        whose row was checked against another previous-year report than the current one (another
        writer published a neighbour meanwhile, neither seeing the other) is checked again, in a
        publish of its own. Of two writers publishing neighbours at once, the second to read sees both."""
        for _ in range(self.attempts):
            state = self._neighbourhood(year, agencies)
            current = {(r["agency_id"], r["year"]): r for r in state if r["is_current"]}
            pairs = [(r, current.get((r["agency_id"], r["year"] - 1))) for r in current.values() if r["year"] in (year, year + 1)]
            stale = [(r, before) for r, before in pairs if r.get("previous_report_id") != _id(before)]
            if not stale:
                return
            pid = new_publish_id()
            revised = self._revisions(stale, report_extractions(self.tables, [b for _, b in stale if b]), pid)
            if not revised.get("reports"):
                return  # nothing left that can be checked again (withheld reports have no cells)
            self._commit(year, pid, {}, revised, summary)
        log.warning("cross-year checks of %s around %d still moving after %d rounds", sorted(agencies), year, self.attempts)

    def _revisions(self, targets: list[tuple[dict[str, Any], dict[str, Any] | None]], extractions: Mapping[str, dict[str, Any]],
                   pid: str) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
        """The rows, under `pid`, of each target (a current `reports` row) checked again against its
        previous-year report (a `reports` row, or None): its `reports` row, its checks with the
        cross-year ones redone, a copy of its cells and wide rows with the new `quality_status`.
        Four reads more (cells, checks, the wide views), only when there are targets. Withheld
        reports (strict mode: no cells) are left as they are."""
        if not targets:
            return {}
        from tasks.checks.crossyear import rechecked
        from tasks.checks.frames import prepare

        data = {ds: current_rows(self.tables, ds, [t for t, _ in targets]).to_pylist() for ds in (*CURRENT_ONLY, "checks")}
        by: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for ds, rows in data.items():
            for row in rows:
                by[ds][row["report_id"]].append(row)
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for target, before in targets:
            rid = target["report_id"]
            if not by["cells"].get(rid):
                continue
            cur = prepare(report_extraction(target, by["cells"][rid]))
            prev = extractions.get(_id(before) or "")
            checks, status = rechecked(check_results(by["checks"][rid]), cur, prepare(prev) if prev else None)
            for ds in CURRENT_ONLY:
                out[ds] += [{**row, "quality_status": status} for row in by[ds][rid]]
            head = {k: target[k] for k in ("report_id", "agency", "agency_id", "year")}
            out["checks"] += [{**head, **row} for row in _check_dicts(checks)]
            failed = Counter(c.severity for c in checks if not c.passed)
            out["reports"].append({**{k: target[k] for k in schema.delta_schema("reports").names}, "status": status,
                                   "failed_errors": failed["error"], "failed_warnings": failed["warn"],
                                   "failed_infos": failed["info"], "previous_report_id": _id(before)})  # fmt: skip
        return {ds: [{**row, "publish_id": pid} for row in rows] for ds, rows in out.items()}


def _id(row: Mapping[str, Any] | None) -> str | None:
    return None if row is None else str(row["report_id"])


def checked_against(p: Publishable, before: Mapping[str, Any] | None, extractions: Mapping[str, dict[str, Any]]) -> Publishable:
    """The report with its cross-year checks run against `before`, the agency's current report of
    the year before as published (none without one, or if it has no cells: withheld), whatever the
    validation step found: the same rows as a later re-check would give."""
    from tasks.checks.crossyear import rechecked
    from tasks.checks.frames import prepare

    prev = extractions.get(_id(before) or "")
    checks, status = rechecked(p.validated.checks, prepare(own_extraction(p)), prepare(prev) if prev else None)
    if checks == p.validated.checks:  # the validation step ran them against the same report
        return replace(p, previous_report_id=_id(before))
    validated = Validated(p.validated.report_id, status, checks, p.validated.blank_readings)
    return replace(p, validated=validated, previous_report_id=_id(before))


def check_results(rows: Iterable[Mapping[str, Any]]) -> list[CheckResult]:
    """`checks` rows back as `CheckResult`s."""
    return [CheckResult(r["rule"], r["severity"], bool(r["passed"]), r["message"], json.loads(r["cells"] or "[]"), r["origin"])
            for r in rows]  # fmt: skip


def _check_dicts(checks: Iterable[CheckResult]) -> list[dict[str, Any]]:
    return [{"rule": c.rule, "severity": c.severity, "passed": c.passed, "message": c.message,
             "cells": json.dumps(c.cells, ensure_ascii=False, default=str), "origin": c.origin} for c in checks]  # fmt: skip


# --------------------------------------------------------------------------------------------
# reading back: a batch's agencies at once (for cross-year checks and quality reports)
# --------------------------------------------------------------------------------------------


def with_current(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`reports` rows, one per report id (`canonical_reports`: give it the year before's rows too),
    with `is_current` and `superseded_by` computed per agency and year (the newer upload by
    LastModified, then the report id: `merge_reports`)."""
    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in canonical_reports(rows):
        by_year[int(r["year"])].append(r)
    return [r for _, group in sorted(by_year.items()) for r in merge_reports(group, [])]


def agency_reports(tables: Tables, agency_ids: Iterable[str], years: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Every version of these agencies' reports in `years` (all if None), with `year`,
    `is_current` and `superseded_by`: one read of `reports` for the whole batch (of `years` and
    the year before each, which tells which row of a report is its)."""
    ids = set(agency_ids)
    if not ids:
        return []
    wanted = None if years is None else {int(y) for y in years}
    read = None if wanted is None else wanted | {y - 1 for y in wanted}
    rows = with_current(tables.read("reports", read, is_in("agency_id", ids)).to_pylist())
    return rows if wanted is None else [r for r in rows if r["year"] in wanted]


def current_rows(tables: Tables, dataset: str, reports: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> pa.Table:
    """The rows of `dataset` that belong to these `reports` rows (report id and publish id), read
    by partition and report id: the join that makes "current cells" of current `reports` rows.
    `columns` (all if None; report_id and publish_id are always read) limits what is decoded: a
    read by report id scans every file of the partition, so its cost is that of the columns read."""
    if columns is not None:
        columns = list(dict.fromkeys(["report_id", "publish_id", *columns]))
    by_year: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for r in reports:
        by_year[int(r["year"])].add((r["report_id"], r["publish_id"]))
    parts = []
    for year, keys in sorted(by_year.items()):
        got = tables.read(dataset, [year], is_in("report_id", {k[0] for k in keys}), columns)
        if got.num_rows:
            parts.append(of_versions(got, version_keys(keys)))
    if not parts:
        sch = schema.delta_schema(dataset)
        return (sch if columns is None else pa.schema([sch.field(c) for c in columns])).empty_table()
    return pa.concat_tables(parts)


def version_keys(keys: Iterable[tuple[str, str]]) -> pa.Array:
    """(report_id, publish_id) pairs as the value set `of_versions` filters by."""
    return pa.array(sorted(f"{a}\x00{b}" for a, b in keys))


def of_versions(rows: pa.Table, pairs: pa.Array) -> pa.Table:
    """The rows whose (report_id, publish_id) is in `pairs` (`version_keys`)."""
    joined = pc.binary_join_element_wise(rows["report_id"], rows["publish_id"], "\x00")
    return rows.filter(pc.is_in(joined, value_set=pairs))


def published_years(tables: Tables) -> list[int]:
    return tables.years()


EXTRACTION_COLUMNS = ["table", "block", "row", "col", "value", "status", "raw", "page"]
"""The `cells` columns `report_extraction` takes (half the CPU of reading every column)."""


def report_extraction(report: Mapping[str, Any], cells: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A report as a §10-like dict rebuilt from its `cells` rows (published, or about to be), for
    the cross-year checks: the same dict whichever way the report reached them."""
    return {
        **{k: report[k] for k in ("report_id", "agency", "agency_id", "year", "format_version", "media")},
        "cells": [
            {
                "table": c["table"],
                "block": c["block"],
                "row": c["row"],
                "col": c["col"],
                "value": _plain(c["value"]),
                "status": c["status"],
                "raw": c["raw"],
                "page": c["page"],
            }
            for c in cells
        ],
        "issues": [],
        "sections": {},
    }


def own_extraction(p: Publishable) -> dict[str, Any]:
    """The report about to be published, as `report_extraction` rebuilds it from its cells."""
    m = p.meta
    head = {"report_id": m.report_id, "agency": m.agency, "agency_id": m.agency_id, "year": m.year,
            "format_version": m.format_version, "media": m.media}  # fmt: skip
    return report_extraction(head, cell_rows(p))


def report_extractions(tables: Tables, reports: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """report_id → the report rebuilt from its cells (`report_extraction`), for these `reports`
    rows: one read of `cells`; withheld reports (strict mode: no cells) are left out."""
    reports = list(reports)
    by_report: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in current_rows(tables, "cells", reports, EXTRACTION_COLUMNS).to_pylist():
        by_report[c["report_id"]].append(c)
    return {r["report_id"]: report_extraction(r, by_report[r["report_id"]]) for r in reports if by_report.get(r["report_id"])}


def previous_extractions(tables: Tables, wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """(agency_id, year) → the agency's current report of that year, rebuilt as a §10-like dict from
    `cells`: two reads (reports, then cells by report id) for all of a batch's agencies."""
    wanted = set(wanted)
    if not wanted:
        return {}
    reports = [r for r in agency_reports(tables, {a for a, _ in wanted}, {y for _, y in wanted})
               if r["is_current"] and (r["agency_id"], r["year"]) in wanted]  # fmt: skip
    found = report_extractions(tables, reports)
    return {(r["agency_id"], r["year"]): found[r["report_id"]] for r in reports if r["report_id"] in found}


def _plain(v: Decimal | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if v == v.to_integral_value() else float(v)
