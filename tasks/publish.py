"""Parquet outputs: explicit Arrow schemas, `year=` partitions, bounded files, idempotent writes.

Layout under the output root (a folder or an s3:// prefix, through `tasks.storage`):

    parquet/<dataset>/year=<Y>/bucket-<NN>.parquet

Every agency's rows of a year live in exactly one bucket file (chosen by a hash of its
`agency_id`), so the number of files per partition is bounded by `buckets` and no
compaction is needed. Publishing a batch rewrites each touched bucket file as a whole:
read it, drop what the batch supersedes, add the batch's rows, write it back in one atomic
put. Hence:

- a plain scan (pyarrow, DuckDB) never sees a partial file, and sees each current report
  exactly once: a report and the version it supersedes are in the same file, swapped in
  one replace;
- the same bytes uploaded twice have the same `report_id` and change nothing;
- a corrected report for the same agency and year supersedes the old one; the newer
  upload by the object's LastModified wins, whatever the ingestion order;
- rerunning an interrupted batch finishes it without duplicating a row.

`reports` and `checks` keep superseded versions (flagged `is_current = false` in
`reports`); `cells` and the wide views hold current reports only.

Concurrent writers (several `xxgk ingest` runs, workers, machines) need no lock on S3. Every
bucket file is written with `Store.put_if`, conditional on the ETag of the bytes this writer
read (``If-Match``; ``If-None-Match: *`` for a file it found absent), so an update another writer
made in between is never overwritten: the write fails with `WriteConflict` and the whole bucket
is published again from fresh reads, up to `attempts` times with jittered exponential backoff
(then `PublishConflict`). A writer drops from the current-only files only rows of reports its
`reports` read says are superseded, older or withheld, never rows of report ids it has not seen
(another writer's, not yet committed). The `reports` file is written last and is the commit:
its conditional put succeeds only if no other writer committed that bucket since this attempt
read it, so supersession between two writers of the same agency is decided on a complete view
(the later one to commit redoes its attempt and drops the version it now knows is older).
`publish` returns once every bucket is committed, and the ledger is written after it.

While two writers publish versions of the same agency and year at the same moment, a scan may
see both versions' cells until the second one commits (seconds); rows of a writer killed
before its commit stay in the current-only files, without a `reports` row, until its batch is
rerun (the ledger has no entry for it, so the next ingest or sweep reruns it).

Local folders have no compare-and-swap (a file's ETag is its size and mtime, which can repeat
within one timestamp tick), so local writers also hold a file lock on the output root for the
whole publish (`tasks.steps.publish_lock`; the kernel drops it when its holder dies).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks import schema
from tasks.errors import Unpublishable
from tasks.extract.clean import clean_text
from tasks.fitting import CTRL_RULE, RULE as RANGE_RULE, clean_extraction, ctrl_check, fit_extraction, range_check
from tasks.records import ReportMeta, Validated

if TYPE_CHECKING:
    from tasks.storage import Store

log = logging.getLogger(__name__)

PIPELINE_VERSION = "0.1.0"
PARQUET_ROOT = "parquet"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Publishable:
    """One extracted and validated report, ready to become rows."""

    meta: ReportMeta
    extraction: dict[str, Any]
    validated: Validated
    ingested_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def bucket_of(agency_id: str, buckets: int) -> int:
    return int(hashlib.sha256(agency_id.encode()).hexdigest()[:8], 16) % buckets


def bucket_key(dataset: str, year: int, bucket: int) -> str:
    return f"{PARQUET_ROOT}/{dataset}/year={year}/bucket-{bucket:02d}.parquet"


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
        "is_current": True,
        "superseded_by": None,
    }


def check_rows(p: Publishable) -> list[dict[str, Any]]:
    m = p.meta
    return [
        {
            "report_id": m.report_id,
            "agency": m.agency,
            "agency_id": m.agency_id,
            "rule": ch.rule,
            "severity": ch.severity,
            "passed": ch.passed,
            "message": ch.message,
            "cells": json.dumps(ch.cells, ensure_ascii=False, default=str),
            "origin": ch.origin,
        }
        for ch in p.validated.checks
    ]


def rows_by_dataset(p: Publishable) -> dict[str, list[dict[str, Any]]]:
    return {"cells": cell_rows(p), "checks": check_rows(p), **wide_rows(p)}


# --------------------------------------------------------------------------------------------
# supersession (pure)
# --------------------------------------------------------------------------------------------


def _version_order(r: Mapping[str, Any]) -> tuple[datetime, str]:
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
        versions.sort(key=_version_order)
        current = versions[-1]["report_id"]
        for r in versions:
            r["is_current"] = r["report_id"] == current
            r["superseded_by"] = None if r["is_current"] else current
    return sorted(by_id.values(), key=lambda r: (r["agency_id"], _version_order(r)))


# --------------------------------------------------------------------------------------------
# bucket files (I/O through a Store)
# --------------------------------------------------------------------------------------------


def _to_bytes(rows: list[dict[str, Any]], sch: pa.Schema) -> bytes:
    table = pa.Table.from_pylist(rows, schema=sch)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def read_rows(store: Store, key: str) -> list[dict[str, Any]]:
    if store.head(key) is None:
        return []
    return pq.read_table(io.BytesIO(store.get(key))).to_pylist()


def read_table(store: Store, key: str) -> pa.Table | None:
    if store.head(key) is None:
        return None
    return pq.read_table(io.BytesIO(store.get(key)))


def read_versioned(store: Store, key: str) -> tuple[pa.Table | None, str | None]:
    """The file's table and the ETag of the bytes read (one GET), or (None, None) if absent: what a
    conditional write of the same key is checked against."""
    from tasks.storage import ObjectNotFound

    try:
        got = store.fetch(key)
    except ObjectNotFound:
        return None, None
    return pq.read_table(io.BytesIO(got.data)), got.info.etag


def read_agency_rows(store: Store, key: str, agency_id: str) -> list[dict[str, Any]]:
    """One agency's rows of a bucket file, selected in Arrow: Python objects only for those rows
    (a bucket file holds every agency of its bucket, so it grows with the dataset)."""
    table = read_table(store, key)
    if table is None:
        return []
    return table.filter(pc.equal(table["agency_id"], agency_id)).to_pylist()


@dataclass
class PublishSummary:
    published: list[str] = field(default_factory=list)  # report ids now current
    unchanged: list[str] = field(default_factory=list)  # already published (same bytes)
    superseded: list[str] = field(default_factory=list)  # report ids replaced by a newer upload
    older: list[str] = field(default_factory=list)  # arrived after a newer version: history only
    withheld: list[str] = field(default_factory=list)  # strict mode: failed, kept out of curated datasets
    refused: list[Refused] = field(default_factory=list)  # reports whose rows cannot be written: quarantine them
    files_written: int = 0
    conflicts: int = 0  # bucket publishes redone because another writer changed a file meanwhile

    def absorb(self, other: PublishSummary) -> None:
        """Add a committed bucket's outcome (its lists) to this batch's."""
        for name in ("published", "unchanged", "superseded", "older", "withheld"):
            getattr(self, name).extend(getattr(other, name))


class PublishConflict(RuntimeError):
    """A bucket could not be committed within the attempts: other writers kept changing its files."""


CURRENT_ONLY = ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation")


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
    from dataclasses import replace

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
    return Publishable(replace(p.meta, agency=agency), extraction, validated, p.ingested_at)


def unpublishable(p: Publishable) -> str | None:
    """Why this report's rows cannot be written in the datasets' schemas, or None. Converting one
    report's rows costs milliseconds; a failure costs that report alone, not its batch."""
    try:
        if p.meta.year is None or not -(2**15) <= p.meta.year < 2**15:
            return f"the year {p.meta.year!r} cannot be a year= partition"
        for dataset, rows in {"reports": [report_row(p)], **rows_by_dataset(p)}.items():
            table = pa.Table.from_pylist(rows, schema=schema.DATASETS[dataset])
            nulls = [f.name for f in table.schema if not f.nullable and table[f.name].null_count]
            if nulls:  # the parquet writer would refuse the whole bucket file
                raise ValueError(f"{dataset}: column(s) {', '.join(nulls)} are declared non-nullable but hold nulls")
    except (pa.ArrowException, ArithmeticError, ValueError, TypeError, UnicodeError) as exc:
        return f"its rows do not fit the datasets' schemas ({type(exc).__name__}: {str(exc)[:300]})"
    return None


class DatasetWriter:
    """Publishes batches of reports into the bucketed parquet datasets under a Store, safely
    alongside other writers of the same root (conditional writes, see the module docstring)."""

    def __init__(
        self,
        store: Store,
        buckets: int = 16,
        withhold_failed: bool = False,
        attempts: int = 10,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.store = store
        self.buckets = buckets
        self.withhold_failed = withhold_failed
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s

    def publish(self, items: Iterable[Publishable]) -> PublishSummary:
        summary = PublishSummary()
        groups: dict[tuple[int, int], list[Publishable]] = defaultdict(list)
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
            assert p.meta.year is not None and p.meta.agency_id is not None  # else unpublishable() said why
            groups[(p.meta.year, bucket_of(p.meta.agency_id, self.buckets))].append(p)
        for (year, bucket), group in sorted(groups.items()):
            self._commit_bucket(year, bucket, group, summary)
        return summary

    def _commit_bucket(self, year: int, bucket: int, group: list[Publishable], summary: PublishSummary) -> None:
        """`_publish_bucket` until one attempt commits; each attempt starts from fresh reads."""
        from tasks.storage import WriteConflict

        for attempt in range(1, self.attempts + 1):
            part = PublishSummary()
            try:
                self._publish_bucket(year, bucket, group, part)
            except WriteConflict as exc:
                summary.files_written += part.files_written
                summary.conflicts += 1
                if attempt == self.attempts:
                    raise PublishConflict(
                        f"year {year} bucket {bucket:02d}: still changed by other writers after {attempt} attempts ({exc})"
                    ) from exc
                delay = random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))  # full jitter
                log.info("year %d bucket %02d: %s; publishing it again in %.2f s (attempt %d of %d)",
                         year, bucket, exc, delay, attempt + 1, self.attempts)  # fmt: skip
                time.sleep(delay)
                continue
            summary.files_written += part.files_written
            summary.absorb(part)
            return

    def _publish_bucket(self, year: int, bucket: int, group: list[Publishable], summary: PublishSummary) -> None:
        """One attempt: read the bucket's `reports`, rewrite its data files, then commit `reports`.
        Every write is conditional on what this attempt read; `WriteConflict` ends the attempt."""
        rkey = bucket_key("reports", year, bucket)
        table, reports_etag = read_versioned(self.store, rkey)
        old_reports = [] if table is None else table.to_pylist()
        known = {r["report_id"] for r in old_reports}
        was_current = {r["report_id"] for r in old_reports if r["is_current"]}
        merged = merge_reports(old_reports, [report_row(p) for p in group])
        current = {r["report_id"] for r in merged if r["is_current"]}
        withheld: set[str] = set()
        if self.withhold_failed:  # strict: failed reports stay in reports/checks, out of the curated data
            withheld = {r["report_id"] for r in merged if r["is_current"] and r["status"] == "failed"}
            summary.withheld.extend(sorted(withheld & {p.meta.report_id for p in group}))
            current -= withheld
        # what this writer may remove: versions its read of `reports` supersedes, and withheld ones;
        # report ids it has never seen (another writer's, not yet committed) are left alone
        drop = {r["report_id"] for r in merged if not r["is_current"]} | withheld
        fresh = {p.meta.report_id: p for p in group if p.meta.report_id not in known}

        seen: set[str] = set()
        for p in group:
            rid = p.meta.report_id
            if rid in known or rid in seen:  # published before, or the same bytes twice in this batch
                summary.unchanged.append(rid)
                continue
            seen.add(rid)
            if rid in current or rid in withheld:
                summary.published.append(rid)
            else:
                summary.older.append(rid)
        summary.superseded.extend(sorted(was_current - {r["report_id"] for r in merged if r["is_current"]}))

        # current-only datasets first, history next, `reports` last: its write commits the bucket
        for dataset in CURRENT_ONLY:
            self._rewrite(dataset, year, bucket, drop, [p for rid, p in fresh.items() if rid in current], summary)
        self._rewrite("checks", year, bucket, set(), list(fresh.values()), summary)
        if merged != old_reports:
            self.store.put_if(rkey, _to_bytes(merged, schema.REPORTS), reports_etag)
            summary.files_written += 1

    def _rewrite(
        self,
        dataset: str,
        year: int,
        bucket: int,
        drop: set[str],
        add: list[Publishable],
        summary: PublishSummary,
    ) -> None:
        key = bucket_key(dataset, year, bucket)
        sch = schema.DATASETS[dataset]
        # in Arrow, not as Python rows: the file holds the whole bucket and grows with the dataset
        old, etag = read_versioned(self.store, key)
        if old is None:
            old = sch.empty_table()
        present = set(pc.unique(old["report_id"]).to_pylist())
        gone = drop & present
        kept = old
        if gone:
            kept = old.filter(pc.invert(pc.is_in(old["report_id"], value_set=pa.array(sorted(gone), pa.string()))))
        added = [row for p in add if p.meta.report_id not in present for row in rows_by_dataset(p)[dataset]]
        if not gone and not added:
            return
        try:
            kept = kept.select(sch.names).cast(sch)
        except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError):  # written by an older schema version
            kept = pa.Table.from_pylist(kept.to_pylist(), schema=sch)
        out = pa.concat_tables([kept, pa.Table.from_pylist(added, schema=sch)])
        out = out.sort_by([("agency_id", "ascending"), ("report_id", "ascending")])  # a stable sort
        buf = io.BytesIO()
        pq.write_table(out, buf, compression="zstd")
        self.store.put_if(key, buf.getvalue(), etag)
        summary.files_written += 1


# --------------------------------------------------------------------------------------------
# reading back (for cross-year checks and quality reports)
# --------------------------------------------------------------------------------------------


def agency_reports(store: Store, agency_id: str, years: Iterable[int], buckets: int = 16) -> list[dict[str, Any]]:
    """Every version of an agency's reports in the given years, from the `reports` dataset."""
    b = bucket_of(agency_id, buckets)
    out: list[dict[str, Any]] = []
    for y in years:
        out.extend(dict(r, year=y) for r in read_agency_rows(store, bucket_key("reports", y, b), agency_id))
    return out


def agency_rows(store: Store, dataset: str, agency_id: str, year: int, buckets: int = 16) -> list[dict[str, Any]]:
    b = bucket_of(agency_id, buckets)
    return read_agency_rows(store, bucket_key(dataset, year, b), agency_id)


def published_years(store: Store, dataset: str = "reports") -> list[int]:
    years = set()
    for info in store.list(f"{PARQUET_ROOT}/{dataset}/"):
        part = info.key.split("/")
        for seg in part:
            if seg.startswith("year="):
                years.add(int(seg[5:]))
    return sorted(years)


def previous_extraction(store: Store, agency_id: str, year: int, buckets: int = 16) -> dict[str, Any] | None:
    """The agency's current report of `year`, rebuilt as a §10-like dict from the cells dataset."""
    rows = agency_rows(store, "cells", agency_id, year, buckets)
    if not rows:
        return None
    first = rows[0]
    return {
        "report_id": first["report_id"],
        "agency": first["agency"],
        "agency_id": agency_id,
        "year": year,
        "format_version": first["format_version"],
        "media": first["media"],
        "cells": [
            {
                "table": r["table"],
                "block": r["block"],
                "row": r["row"],
                "col": r["col"],
                "value": _plain(r["value"]),
                "status": r["status"],
                "raw": r["raw"],
                "page": r["page"],
            }
            for r in rows
        ],
        "issues": [],
        "sections": {},
    }


def _plain(v: Decimal | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if v == v.to_integral_value() else float(v)

