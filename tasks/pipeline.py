"""The pipeline's steps as plain functions over stores: discover, extract, prepare, publish,
quarantine, quality, ledger. No Prefect here (the @task wrappers are in `tasks/steps.py`),
so every step runs and is tested without an orchestrator.

Outputs under the output store:

    delta/<dataset>/                                 Delta tables partitioned by year, see tasks/publish.py
    quality/<agency_id>.json|.html, quality/index.html
    quarantine/<sha256[:2]>/<sha256>.json            one record per file content that could not be published
    state/ledger/<batch>.parquet                     which (source url, etag) were ingested, and how
    state/quarantine/                                a Delta index of the quarantine records (tasks/quarantine.py)

The ledger is written last in a batch: an upload is "ingested" only once its rows, its
quarantine record and its quality report are durable. The sweep ingests every listed object
whose (url, etag) is not in the ledger, so a lost event costs latency, never data.

A ledger row records what was read: the sha256 of the bytes fetched, with the ETag, VersionId,
size and LastModified that the read returned (an object replaced between listing and reading is
recorded as the version read, so the version listed is still new). An upload that could not be
read (access denied, connection refused, after the store's retries) gets a row with outcome
``pending`` and the error in `error_type`: it is not ingested, and the next `xxgk ingest`, sweep
or watcher poll reads it again (`due_reads`). An object gone before it was read is quarantined
(``ObjectNotFound``) with no ETag: nothing was read, so the same bytes uploaded again are new.
An upload over the size limit by its listing is refused before a byte is fetched, recorded with
the listing's ETag.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks import maintain, publish, quality, quality_pages, quarantine
from tasks.agency import agency_id as make_agency_id, load_aliases, report_id as make_report_id
from tasks.records import CheckResult, ObjectInfo, Quarantined, ReportMeta, Validated
from tasks.redact import redact_location, redact_text
from tasks.settings import get_settings

if TYPE_CHECKING:
    from tasks.sandbox import ExtractorPool
    from tasks.storage import Store

log = logging.getLogger(__name__)

LEDGER_PREFIX = "state/ledger/"
QUARANTINE_PREFIX = quarantine.PREFIX
QUALITY_PREFIX = "quality/"
LEDGER_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("key", pa.string()),  # the object's key in its source store (pending reads are retried by key)
        ("etag", pa.string()),  # of the read (empty: nothing was read), see the module docstring
        ("version_id", pa.string()),
        ("size", pa.int64()),
        ("last_modified", pa.timestamp("us", tz="UTC")),
        ("sha256", pa.string()),
        ("report_id", pa.string()),
        ("agency_id", pa.string()),
        ("outcome", pa.string()),  # published|unchanged|superseded|older|quarantined|withheld|dead_letter|pending
        ("error_type", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
    ]
)


# --------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------


PENDING = "pending"
UNSAFE_KEY = "UnsafeKey"


def ledger_entries(output: Store, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Every ledger row, oldest batch file first (columns missing from older files are None)."""
    rows: list[dict[str, Any]] = []
    for info in output.list(LEDGER_PREFIX):
        if not info.key.endswith(".parquet"):
            continue
        f = pq.ParquetFile(io.BytesIO(output.get(info.key)))
        names = f.schema_arrow.names
        have = [c for c in (columns or names) if c in names]
        rows.extend({**dict.fromkeys(columns or ()), **r} for r in f.read(columns=have).to_pylist())
    rows.sort(key=lambda r: r["at"] or _EPOCH)
    return rows


def settles(row: Mapping[str, Any]) -> bool:
    """Whether a ledger row makes its (url, etag) ingested: anything but a pending read, and only
    for an identified version (an ETag), except unsafe keys, which are settled by the key alone."""
    return row["outcome"] != PENDING and (row["etag"] is not None or row["error_type"] == UNSAFE_KEY)


def read_ledger(output: Store) -> set[tuple[str, str | None]]:
    """The (url, etag) pairs already ingested."""
    rows = ledger_entries(output, ["url", "etag", "outcome", "error_type", "at"])
    return {(r["url"], r["etag"]) for r in rows if settles(r)}


def unread(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """url → its pending rows since the last row that settled it, for uploads whose latest row
    is a failed read (rows in time order)."""
    trail: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if r["outcome"] == PENDING:
            trail.setdefault(r["url"], []).append(r)
        else:
            trail.pop(r["url"], None)
    return trail


def due_reads(
    output: Store, source: Store, first_delay_s: float, max_delay_s: float, prefix: str = "",
    now: datetime | None = None,
) -> list[str]:  # fmt: skip
    """Keys under `prefix` of `source` whose last read failed, once their retry is due (at `now`):
    the n-th failure in a row waits first_delay_s × 2^(n-1), at most max_delay_s, after that attempt."""
    now = now or datetime.now(UTC)
    keys = []
    for url, rows in unread(ledger_entries(output, ["url", "key", "outcome", "at"])).items():
        key = rows[-1]["key"]
        if key is None or not key.startswith(prefix) or _url(source, key) != url:
            continue
        delay = min(first_delay_s * 2 ** (len(rows) - 1), max_delay_s)
        if (now - rows[-1]["at"]).total_seconds() >= delay:
            keys.append(key)
    return keys


def accounted_for(output: Store, source: Store, infos: Iterable[ObjectInfo]) -> list[ObjectInfo]:
    """The listed `infos` whose latest ledger row accounts for them, as the version it recorded:
    an upload ingested or quarantined comes back with the ETag that was read (an object replaced
    mid-run was read as its new version); a failed read (pending, retried from the ledger) and an
    unsafe key come back as listed. An object that was gone when read, or has no row, is left out:
    the poll checkpoint must not mark that version as seen."""
    infos = list(infos)
    latest: dict[str, Mapping[str, Any]] = {}
    for r in ledger_entries(output, ["url", "etag", "outcome", "error_type", "at"]):
        latest[r["url"]] = r
    out = []
    for info in infos:
        row = latest.get(_url(source, info.key))
        if row is None:
            continue
        if row["outcome"] == PENDING or row["error_type"] == UNSAFE_KEY:
            out.append(info)
        elif row["etag"] is not None:
            out.append(replace(info, etag=row["etag"]))
    return out


def pending(source: Store, output: Store, keys: Iterable[str] | None = None, prefix: str = "") -> list[ObjectInfo]:
    """Uploads not yet ingested: the given keys (looked up), or everything listed under `prefix`.

    A requested key that could escape the store (``../``) is never looked up: it is returned as
    is, for `extract_one` to quarantine, instead of failing the whole run."""
    if keys is None:
        listed = list(source.list(prefix))
    else:
        listed = [i for i in (_head(source, k) for k in dict.fromkeys(keys)) if i is not None]
    done = read_ledger(output)
    return [i for i in listed if (_url(source, i.key), i.etag) not in done]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _head(source: Store, key: str) -> ObjectInfo | None:
    """The object's listing; an unsafe key, or one whose HEAD failed, stands for itself (size 0,
    no ETag): `extract_one` quarantines the first and tries to read the second (recording why not)."""
    from tasks.storage import UnsafeKey, error_type

    try:
        return source.head(key)
    except UnsafeKey:
        log.warning("unsafe object key %r: not read, quarantined", key)
    except Exception as exc:  # noqa: BLE001 - one object's failure is recorded for that object
        log.warning("could not look up %r (%s): reading it anyway", key, error_type(exc))
    return ObjectInfo(key=key, size=0, last_modified=_EPOCH, etag=None)


def _url(source: Store, key: str) -> str:
    """The object's URL; an unsafe key stands for itself (as in its quarantine record)."""
    from tasks.storage import UnsafeKey

    try:
        return redact_location(source.url(key))
    except UnsafeKey:
        return redact_location(key)


def batches(items: list[ObjectInfo], size: int) -> list[list[ObjectInfo]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


TASK_RUNS_PER_WORKER = 16


def reports_per_task(batch: int, workers: int, setting: int = 0) -> int:
    """Reports one extraction task run handles: `setting`, or enough that a batch makes about
    `TASK_RUNS_PER_WORKER` task runs per extraction process. A task run costs the flow process
    and the Prefect server tens of milliseconds of CPU (bench/pipeline_speed.py), as much as
    extracting a small HTML report; grouping keeps that a small share and the run's task count
    bounded, while the last groups still spread over every worker."""
    if setting:
        return setting
    return max(1, -(-batch // (TASK_RUNS_PER_WORKER * max(1, workers))))


PIPELINE_STAGES = 1
"""1 until publishing is an append: each stage is one more publish, and with bucket files a stage
rewrites every file the stages before it wrote. Measured on 2 cores (docs/scaling.md, 2026-12-02
04:09-04:16, load 1.6-5): four stages 61.1 s (one worker) and 51.6 s (two), flow process 29 s of
CPU; one stage 56.9 s and 46.8 s, flow process 19-21 s."""
MIN_STAGE_REPORTS = 50


def stages(groups: list[list[ObjectInfo]], stages: int | None = None, min_reports: int | None = None) -> list[list[list[ObjectInfo]]]:
    """A batch's extraction groups cut, in order, into up to `stages` (PIPELINE_STAGES) consecutive
    stages of whole groups, about `min_reports` (MIN_STAGE_REPORTS) reports or more each (a small
    batch is one stage; the last stage is never larger than an earlier one). Each stage is validated
    and published on its own as soon as its extractions are done, while the extraction processes
    already work on the next stage's files, so only the last stage's validation and publishing
    (not the whole batch's) is left after the last file is parsed."""
    stages = PIPELINE_STAGES if stages is None else stages
    min_reports = MIN_STAGE_REPORTS if min_reports is None else min_reports
    total = sum(len(g) for g in groups)
    count = max(1, min(stages, total // max(1, min_reports), len(groups)))
    q, r = divmod(len(groups), count)  # the earlier stages take the extra groups: the last is the smallest
    out, at = [], 0
    for k in range(count):
        n = q + (1 if k < r else 0)
        out.append(groups[at : at + n])
        at += n
    return out


def batch_id(infos: Iterable[ObjectInfo]) -> str:
    h = hashlib.sha256()
    for i in sorted(infos, key=lambda i: i.key):
        h.update(f"{i.key}\0{i.etag}\n".encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------------


@dataclass
class Extracted:
    info: ObjectInfo  # as read (the GET's ETag, VersionId, size, LastModified), else as listed
    url: str
    sha256: str
    outcome: dict[str, Any]  # the §10 dict, or {"error": {...}}
    retry_later: bool = False  # the object could not be read: a pending ledger row, read again later

    @property
    def error(self) -> dict[str, str] | None:
        return self.outcome.get("error")


def _failed(info: ObjectInfo, url: str, error_type: str, message: str, *, retry_later: bool = False) -> Extracted:
    digest = "" if retry_later else _key_digest(info.key)
    return Extracted(info, url, digest, {"error": {"type": error_type, "message": message}}, retry_later=retry_later)


def extract_one(source: Store, info: ObjectInfo, pool: ExtractorPool, max_bytes: int | None = None) -> Extracted:
    """Fetch and extract one upload. Never raises for a bad object: an unsafe key, a vanished
    object or one over the size limit (by its listed size, before a byte is fetched; or by what
    the read returned) gets a typed error (quarantined); a read that still fails after the store's
    retries is recorded pending with its error, and read again by the next run or watcher poll.
    The size limit is `max_bytes` (default: the pool's)."""
    from tasks.storage import ObjectNotFound, ObjectTooLarge, UnsafeKey, error_type

    try:
        url = redact_location(source.url(info.key))  # what every output, record and log line says
    except UnsafeKey as exc:
        return _failed(info, redact_location(info.key), UNSAFE_KEY, str(exc))
    limit = pool.max_bytes if max_bytes is None else max_bytes
    if info.size > limit:
        msg = f"{url} is listed at {info.size:,} bytes, over the limit of {limit:,} bytes: not read"
        return _failed(info, url, "DocumentTooLarge", msg)
    try:
        got = source.fetch(info.key, limit)
    except UnsafeKey as exc:
        return _failed(info, url, UNSAFE_KEY, str(exc))
    except ObjectNotFound:
        gone = replace(info, etag=None, version_id=None)  # nothing was read: the same bytes again are new
        return _failed(gone, url, "ObjectNotFound", "the object was deleted after it was listed")
    except ObjectTooLarge as exc:
        return _failed(exc.info, url, "DocumentTooLarge", f"{exc}: not read")
    except Exception as exc:  # noqa: BLE001 - after the store's retries: recorded pending, read again later
        kind = error_type(exc)
        log.warning("could not read %s (%s): recorded as pending, read again later", url, kind)
        message = redact_text(f"the object could not be read: {exc}")[:500]
        return _failed(info, url, kind, message, retry_later=True)
    outcome = pool.run(got.data, source=url)
    return Extracted(got.info, url, hashlib.sha256(got.data).hexdigest(), outcome)


def _key_digest(key: str) -> str:
    """Stands in for the content hash of an object that could not be read (quarantine records need one)."""
    return hashlib.sha256(b"key:" + key.encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------------------------
# preparing reports for validation, and quarantine
# --------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    reports: list[tuple[ReportMeta, dict[str, Any]]] = field(default_factory=list)
    quarantined: list[tuple[Extracted, Quarantined]] = field(default_factory=list)


def _agency_hint(key: str) -> str | None:
    """A folder name in the key that is not a year, e.g. incoming/2024/洪泽区人民政府/report.pdf."""
    parts = key.split("/")[:-1]
    names = [p for p in parts if p and not p.isdigit() and not p.startswith(("incoming", "uploads", "reports"))]
    return names[-1] if names else None


def quarantine_record(e: Extracted, error_type: str, message: str) -> Quarantined:
    return Quarantined(
        source=e.url,
        sha256=e.sha256,
        error_type=error_type,
        message=redact_text(message),
        at=datetime.now(UTC),
        pipeline_version=publish.PIPELINE_VERSION,
        agency_hint=_agency_hint(redact_location(e.info.key)),
    )


def prepare(extracted: Iterable[Extracted], alias_file: str | None = None) -> Prepared:
    aliases = load_aliases(alias_file)
    out = Prepared()
    for e in extracted:
        if e.retry_later:
            continue
        if e.error is not None:
            out.quarantined.append((e, quarantine_record(e, e.error["type"], e.error["message"])))
            continue
        ex = e.outcome
        if ex.get("year") is None or not ex.get("agency"):
            missing = "year" if ex.get("year") is None else "agency"
            out.quarantined.append(
                (e, quarantine_record(e, "MetadataNotFound", f"the report's {missing} could not be read from its title"))
            )
            continue
        aid = make_agency_id(ex["agency"], aliases)
        meta = ReportMeta(
            report_id=make_report_id(e.sha256),
            source=e.url,
            sha256=e.sha256,
            media=ex["media"],
            agency=ex["agency"],
            agency_id=aid,
            year=int(ex["year"]),
            format_version=ex["format_version"],
            last_modified=e.info.last_modified,
        )
        out.reports.append((meta, {**ex, "report_id": meta.report_id, "agency_id": aid}))
    return out


# --------------------------------------------------------------------------------------------
# writing: quarantine, parquet, quality, ledger
# --------------------------------------------------------------------------------------------


def write_quarantine(output: Store, records: Iterable[Quarantined]) -> int:
    """Each record's JSON document and its row of the quarantine index (tasks/quarantine.py)."""
    return quarantine.write(output, records)


def read_quarantine(
    output: Store, agency_ids: Iterable[str] | None = None, sources: Iterable[str] | None = None
) -> list[Quarantined]:
    """The records of these agencies and these sources (all where None), through the index."""
    return quarantine.read(output, agency_ids, sources)


def publish_batch(
    output: Store, items: list[publish.Publishable], strict: bool, attempts: int = 10
) -> publish.PublishSummary:
    """The batch's rows, committed to the Delta tables (see tasks/publish.py)."""
    return publish.DatasetWriter(output, withhold_failed=strict, attempts=attempts).publish(items)


def compact_fragmented(output: Store, items: Iterable[publish.Publishable]) -> list[Any]:
    """After a batch's commits: the `reports` partitions of its years compacted if they hold more
    than `XXGK_MAINTAIN_COMPACT_AFTER_FILES` files (`tasks.maintain.compact_fragmented`)."""
    s = get_settings().maintain
    years = {p.meta.year for p in items if p.meta.year is not None}
    try:
        return maintain.compact_fragmented(output, years, s.compact_after_files, attempts=s.attempts)
    except Exception as exc:  # noqa: BLE001 -- the batch is committed and in the ledger: an upkeep that fails is left to the weekly run
        log.warning("compaction of the fragmented reports partitions %s left to the weekly run: %s: %s",
                    sorted(years), type(exc).__name__, exc)  # fmt: skip
        return []


def _checks_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[CheckResult]]:
    """`checks` rows as `CheckResult`s (`publish.check_results`), by report id."""
    by_report: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_report[r["report_id"]].append(r)
    return {rid: publish.check_results(rs) for rid, rs in by_report.items()}


def agency_documents(
    output: Store,
    agency_ids: Iterable[str],
    quarantined: list[Quarantined] | None = None,
    committed: Mapping[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """The quality documents of these agencies, rebuilt from the published tables with one read
    of each table for all of them (`reports` by agency id, whose rows carry each report's key
    totals and OCR counts; `checks` by report id; their quarantine records, from the index, unless
    given), never a read per agency. `committed` (`PublishSummary.checks`: the checks rows a batch
    has just committed, by report and publish id) spares reading those back: a read of `checks` by
    report id scans the year's files, so only the agencies' other versions (other years, older
    publishes) are read. `cells` is read only for current reports whose rows predate those columns:
    its cost grows with the year, the others' with the batch."""
    ids = sorted(set(agency_ids))
    if not ids:
        return []
    if quarantined is None:
        quarantined = read_quarantine(output, ids)
    tables = publish.Tables(output)
    versions = publish.agency_reports(tables, ids)
    committed = committed or {}
    known = [committed[k] for k in ((v["report_id"], v["publish_id"]) for v in versions) if k in committed]
    unknown = [v for v in versions if (v["report_id"], v["publish_id"]) not in committed]
    read = publish.current_rows(tables, "checks", unknown).to_pylist() if unknown else []
    checks = _checks_from_rows([*read, *(row for rows in known for row in rows)])
    summaries = {v["report_id"]: publish.report_totals(v) for v in versions if v["is_current"]}
    cells: dict[str, list[dict[str, Any]]] = defaultdict(list)
    legacy = [v for v in versions if v["is_current"] and summaries[v["report_id"]] is None]
    wanted = ["table", "row", "col", "value", "status", "source_kind"]  # what key_totals and ocr_counts take
    for c in publish.current_rows(tables, "cells", legacy, wanted).to_pylist():  # rows written before the summary columns
        cells[c["report_id"]].append(c)
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in versions:
        by_agency[v["agency_id"]].append(v)
    now = datetime.now(UTC)
    docs = []
    for aid in ids:
        entries: list[quality.ReportEntry] = []
        agency = None
        for v in sorted(by_agency.get(aid, []), key=lambda x: (x["year"], publish.version_order(x))):
            agency = v["agency"] or agency
            own = cells.get(v["report_id"], []) if v["is_current"] else []
            totals, ocr = summaries.get(v["report_id"]) or (quality.key_totals(_plain_cells(own)), quality.ocr_counts(own))
            entries.append(
                quality.ReportEntry(
                    year=v["year"],
                    report_id=v["report_id"],
                    source=v["source"],
                    status=v["status"],
                    format_version=v["format_version"],
                    media=v["media"],
                    agency=v["agency"],
                    last_modified=v["source_last_modified"],
                    superseded=not v["is_current"],
                    checks=checks.get(v["report_id"], []),
                    key_totals=totals,
                    ocr=ocr,
                )
            )
        own_q = [q for q in quarantined if quarantine.agency_of(q) == aid]
        docs.append(quality.agency_quality(agency, aid, entries, own_q, now))
    return docs


def agency_document(output: Store, agency_id: str, quarantined: list[Quarantined] | None = None) -> dict[str, Any]:
    """The quality document of one agency (see `agency_documents`)."""
    return agency_documents(output, [agency_id], quarantined)[0]


def _plain_cells(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "value": None if r["value"] is None else float(r["value"])} for r in rows]


def write_quality(
    output: Store,
    agency_ids: Iterable[str],
    quarantined: list[Quarantined] | None = None,
    committed: Mapping[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """quality/<agency_id>.json and .html of these agencies (`agency_documents`: one read of each
    table and of the quarantine index for all of them; `committed`: the batch's own checks rows)."""
    docs = agency_documents(output, agency_ids, quarantined, committed)
    zone = get_settings().pipeline.timezone  # once per batch: Settings() reads the environment (6 % of a batch's CPU)
    for doc in docs:
        aid = doc["agency_id"]
        output.put(f"{QUALITY_PREFIX}{aid}.json", json.dumps(doc, ensure_ascii=False, indent=2).encode(), "application/json")
        output.put(f"{QUALITY_PREFIX}{aid}.html", quality_pages.agency_html(doc, zone).encode(), "text/html; charset=utf-8")
    return docs


def read_quality(output: Store, agency_id: str) -> dict[str, Any] | None:
    try:
        return json.loads(output.get(f"{QUALITY_PREFIX}{agency_id}.json"))
    except FileNotFoundError:
        return None


def index_stats(output: Store) -> tuple[list[quality.AgencyStats], list[Quarantined]]:
    """What quality/index.html says of every agency, from the tables, never from the agencies'
    documents: one read of `reports` (every version: the current one per agency and year, and the
    agency's name as its latest version prints it), one of the failed checks, one of the
    quarantine index. Quarantined files of an agency with no published report are returned apart,
    with those of no known agency (the index lists them; they are no agency's)."""
    tables = publish.Tables(output)
    versions = publish.with_current(tables.read("reports").to_pylist())
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in versions:
        by_agency[v["agency_id"]].append(v)
    current = {(v["report_id"], v["publish_id"]) for v in versions if v["is_current"]}
    failed = tables.read("checks", where=~pc.field("passed") | pc.field("passed").is_null(),
                         columns=["report_id", "publish_id", "severity"])  # fmt: skip
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in failed.to_pylist():
        if (r["report_id"], r["publish_id"]) in current:
            counts[r["report_id"]][r["severity"]] += 1
    records = read_quarantine(output)
    own: Counter[str] = Counter()
    orphans = []
    for q in records:
        aid = quarantine.agency_of(q)
        if aid in by_agency:
            own[aid] += 1
        else:
            orphans.append(q)
    stats = []
    for aid, vs in by_agency.items():
        vs.sort(key=lambda x: (x["year"], publish.version_order(x)))
        names = [v["agency"] for v in vs if v["agency"]]
        cur = [v for v in vs if v["is_current"]]
        by_year = {int(v["year"]): str(v["status"]) for v in cur}
        stats.append(
            quality.AgencyStats(
                agency=names[-1] if names else "（未识别的机关）",
                agency_id=aid,
                years=sorted(by_year),
                statuses={s: sum(v["status"] == s for v in cur) for s in ("passed", "warned", "failed")},
                failed_errors=sum(counts[v["report_id"]]["error"] for v in cur),
                warnings=sum(counts[v["report_id"]]["warn"] for v in cur),
                quarantined=own[aid],
                by_year=by_year,
            )
        )
    return stats, orphans


def write_index(output: Store) -> list[quality.AgencyStats]:
    """quality/index.html across every agency with a published report (`index_stats`), and the
    page of the quarantined files no agency is known for."""
    stats, orphans = index_stats(output)
    orphan_doc = _orphan_doc(orphans) if orphans else None
    page = quality_pages.index_page(
        stats, orphan_doc["quarantine"] if orphan_doc else (), orphan_doc is not None, generated_at=datetime.now(UTC)
    )
    if orphan_doc:  # the page the index links the pseudo-agency to
        orphan_page = quality_pages.agency_html(orphan_doc).encode()
        output.put(f"{QUALITY_PREFIX}quarantine.html", orphan_page, "text/html; charset=utf-8")
    output.put(f"{QUALITY_PREFIX}index.html", page.encode(), "text/html; charset=utf-8")
    return stats


def _orphan_doc(records: list[Quarantined]) -> dict[str, Any]:
    """Quarantined files listed in the index under one pseudo-agency (their agency is unknown)."""
    return quality.agency_quality("（未能识别机关的隔离文件）", quality.QUARANTINE_ID, [], records, datetime.now(UTC))


DEAD_LETTER_PREFIX = "dead-letter/"


def dead_letter_key(url: str) -> str:
    h = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{DEAD_LETTER_PREFIX}{h[:2]}/{h}.json"


def write_dead_letter(output: Store, source: Store, key: str, exc: BaseException, attempts: int) -> str:
    """Record an upload whose hand-off failed the same way every time, alone: a JSON record under
    `dead-letter/`, and a ledger row (outcome `dead_letter`) so no sweep or ingest retries it until
    it is uploaded again (a new ETag). Returns the record's key."""
    url = _url(source, key)
    try:
        info = _head(source, key)
    except Exception:  # noqa: BLE001 - the record is written without the object's ETag
        info = None
    record = {
        "source": url,
        "error_type": type(exc).__name__,
        "message": redact_text(str(exc))[:2000] or type(exc).__name__,
        "attempts": attempts,
        "at": datetime.now(UTC).isoformat(),
        "pipeline_version": publish.PIPELINE_VERSION,
        "etag": info.etag if info else None,
    }
    rkey = dead_letter_key(url)
    output.put(rkey, json.dumps(record, ensure_ascii=False, indent=2).encode(), "application/json")
    row = dict.fromkeys(LEDGER_SCHEMA.names)
    row.update(url=url, key=key, etag=info.etag if info else None, size=info.size if info else None,
               last_modified=info.last_modified if info else None, outcome="dead_letter",
               error_type=record["error_type"], at=datetime.now(UTC))  # fmt: skip
    write_ledger(output, "dead-letter-" + rkey.rsplit("/", 1)[1][:16], [row])
    return rkey


def read_dead_letters(output: Store) -> list[dict[str, Any]]:
    return [json.loads(output.get(i.key)) for i in output.list(DEAD_LETTER_PREFIX) if i.key.endswith(".json")]


def write_ledger(output: Store, bid: str, rows: list[dict[str, Any]]) -> str:
    key = f"{LEDGER_PREFIX}{ledger_key(bid, rows)}.parquet"
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA), buf)
    output.put(key, buf.getvalue())
    return key


def ledger_rows(
    extracted: list[Extracted], prepared: Prepared, summary: publish.PublishSummary, withheld: set[str]
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    by_sha = {m.sha256: m for m, _ in prepared.reports}
    quarantined = {e.url: q for e, q in prepared.quarantined}
    refused = {r.report_id: r for r in summary.refused}
    outcome_of = {
        **dict.fromkeys(summary.published, "published"),
        **dict.fromkeys(summary.unchanged, "unchanged"),
        **dict.fromkeys(summary.older, "older"),
        **dict.fromkeys(withheld, "withheld"),
    }
    rows = []
    first_of: set[str] = set()
    for e in extracted:
        if e.retry_later:
            rows.append(_pending_row(e, now))
            continue
        meta = by_sha.get(e.sha256)
        if meta is not None and meta.report_id in first_of:  # the same bytes again in this batch
            outcome_of_dup = "unchanged"
        else:
            outcome_of_dup = None
            if meta is not None:
                first_of.add(meta.report_id)
        q = quarantined.get(e.url)
        r = refused.get(meta.report_id) if meta is not None else None
        if r is not None:
            q = quarantine_record(e, r.error_type, r.message)
        rows.append(
            {
                "url": e.url,
                "key": recorded_key(e.info.key),
                "etag": e.info.etag,
                "version_id": e.info.version_id,
                "size": e.info.size,
                "last_modified": e.info.last_modified,
                "sha256": e.sha256,
                "report_id": meta.report_id if meta else None,
                "agency_id": meta.agency_id if meta else None,
                "outcome": "quarantined" if q or meta is None else outcome_of_dup or outcome_of.get(meta.report_id, "published"),
                "error_type": q.error_type if q else None,
                "at": now,
            }
        )
    return rows


def refused_records(prepared: Prepared, extracted: list[Extracted], summary: publish.PublishSummary) -> list[Quarantined]:
    """Quarantine records of the reports the publisher refused (their rows cannot be written)."""
    by_sha = {e.sha256: e for e in extracted if not e.retry_later}
    out = []
    for r in summary.refused:
        e = by_sha.get(r.sha256)
        if e is not None:
            out.append(quarantine_record(e, r.error_type, r.message))
    return out


def transient_failure(exc: BaseException) -> bool:
    """Transient I/O anywhere in the exception's chain (an S3 outage under a failed task, the
    Prefect API unreachable): retried with backoff, never taken for a poison report or batch."""
    import httpx

    from tasks.storage import is_transient

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if is_transient(e) or isinstance(e, httpx.TransportError):
            return True
        e = e.__cause__ or e.__context__
    return False


def failure_signature(exc: BaseException) -> str:
    """How a step failed, to tell "the same way twice" (the type and the first line of the message)."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def split_batch(extracted: list[Extracted], prepared: Prepared) -> list[tuple[list[Extracted], Prepared]]:
    """A batch's two halves, to publish apart: its reports split in two (the same bytes twice stay
    together), each with its own extractions; the quarantined files go with the first half."""
    half = max(1, len(prepared.reports) // 2)
    second = prepared.reports[half:]
    shas = {m.sha256 for m, _ in second}
    later = [e for e in extracted if e.sha256 in shas and e.error is None and not e.retry_later]
    first = [e for e in extracted if e not in later]
    return [(first, Prepared(prepared.reports[:half], prepared.quarantined)), (later, Prepared(second, []))]


def refuse_alone(extracted: list[Extracted], prepared: Prepared, exc: BaseException) -> Prepared:
    """The batch of one report whose publishing failed the same way twice, with the report quarantined
    instead (`Unpublishable`, the failure as its reason): its ledger row and record are written."""
    shas = {m.sha256 for m, _ in prepared.reports}
    msg = f"publishing this report failed the same way twice, alone: {failure_signature(exc)}"
    refused = [(e, quarantine_record(e, "Unpublishable", msg)) for e in extracted if e.sha256 in shas and e.error is None]
    return Prepared([], prepared.quarantined + refused)


def recorded_key(key: str) -> str | None:
    """The key as the ledger keeps it: as is, or None when the key itself holds a credentialed URL
    (nothing written may hold one; such a pending read is retried by the next listing, not by key)."""
    return key if redact_location(key, escape=False) == key else None


def _pending_row(e: Extracted, now: datetime) -> dict[str, Any]:
    """A failed read: what was listed, no ETag or hash (nothing was read), and the error."""
    return {
        "url": e.url, "key": recorded_key(e.info.key), "etag": None, "version_id": None, "size": e.info.size,
        "last_modified": e.info.last_modified, "sha256": None, "report_id": None, "agency_id": None,
        "outcome": PENDING, "error_type": e.error["type"] if e.error else None, "at": now,
    }  # fmt: skip


def not_read(extracted: Iterable[Extracted]) -> list[dict[str, str]]:
    """The uploads of a batch that could not be read (recorded pending), for the run's summary."""
    return [
        {"source": e.url, "error": e.error["type"], "message": e.error["message"]}
        for e in extracted if e.retry_later and e.error
    ]  # fmt: skip


def ledger_key(bid: str, rows: list[dict[str, Any]]) -> str:
    """A batch's ledger file; a batch with failed reads gets one per attempt (the retry history)."""
    if any(r["outcome"] == PENDING for r in rows):
        return f"{bid}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    return bid


def publishables(prepared: Prepared, validated: Mapping[str, Validated]) -> list[publish.Publishable]:
    return [publish.Publishable(meta, ex, validated[meta.report_id]) for meta, ex in prepared.reports]


def coverage(output: Store, year: int) -> dict[str, Any]:
    """Which agencies known to the dataset (a report in any year) have no current report for `year`."""
    known: dict[str, str | None] = {}
    have: set[str] = set()
    versions = publish.with_current(publish.Tables(output).read("reports").to_pylist())  # is_current is computed
    for r in sorted(versions, key=lambda v: v["year"]):
        known.setdefault(r["agency_id"], r["agency"])
        if r["year"] == year and r["is_current"]:
            have.add(r["agency_id"])
    missing = sorted((aid for aid in known if aid not in have), key=lambda a: (known[a] or "", a))
    doc = {
        "year": year,
        "agencies_known": len(known),
        "with_report": len(have),
        "missing": [{"agency_id": a, "agency": known[a]} for a in missing],
        "generated_at": datetime.now(UTC).isoformat(),
    }
    output.put(f"{QUALITY_PREFIX}coverage-{year}.json", json.dumps(doc, ensure_ascii=False, indent=2).encode(), "application/json")
    return doc


def coverage_markdown(doc: dict[str, Any]) -> str:
    lines = [
        f"# Coverage {doc['year']}",
        "",
        (
            f"{doc['with_report']} of {doc['agencies_known']} known agencies have a report for {doc['year']}; "
            f"{len(doc['missing'])} missing."
        ),
    ]
    if doc["missing"]:
        lines += ["", "| agency | agency_id |", "|---|---|"]
        lines += [f"| {m['agency'] or '?'} | `{m['agency_id']}` |" for m in doc["missing"][:200]]
    return "\n".join(lines)


def ledger_summary(output: Store, urls: set[str]) -> dict[str, Any]:
    """What became of these uploads, from the ledger (used when batches ran in other processes)."""
    out: dict[str, Any] = {"batches": 0, "statuses": {}, "quarantined": [], "not_read": []}
    for k in ("published", "unchanged", "superseded", "older", "withheld"):
        out[k] = 0
    records = {q.source: q for q in read_quarantine(output, sources=urls)}
    rows = [r for r in ledger_entries(output) if r["url"] in urls]
    for url, trail in unread(rows).items():
        error = trail[-1]["error_type"]
        out["not_read"].append({"source": url, "error": error, "message": "the object could not be read"})
    for row in rows:
        if row["outcome"] == "quarantined":
            q = records.get(row["url"])
            message = q.message if q else ""
            out["quarantined"].append({"source": row["url"], "error": row["error_type"], "message": message})
        elif row["outcome"] in out:
            out[row["outcome"]] += 1
    return out
