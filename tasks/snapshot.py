"""The plain-parquet snapshot: every year's current rows, for tools that cannot read Delta.

A scheduled export (flows/snapshot.py, the `xxgk-snapshot/daily` deployment, `xxgk snapshot`, and
the end of `xxgk run`), replaced atomically. Layout under the output root:

    snapshot/current.json                          the pointer: which snapshot is current, its files
    snapshot/<id>/<dataset>/<year>.parquet         one file per dataset and year, `year` a column in it

Datasets and rows, as of one read of `reports` per year (the tables are append-only, so the rows
joined to that read are there whatever was committed since):

- `reports`: every version, one row per report id, with `is_current` and `superseded_by`
  computed (tasks/publish.py `with_current`);
- `cells`, `t2_active_disclosure`, `t3_applications`, `t4_review_litigation`, `checks`: the rows of
  the current reports only (joined on report_id and publish_id), so a plain
  `read_parquet('…/<id>/cells/*.parquet')` is the current cells, with no join to write.

Atomic on a folder and on S3 alike, with no rename of a folder: an export writes a new `<id>/`
(ids sort by the time the export started), then replaces the small `current.json` in one write (a
rename on a folder, one PUT on S3), conditional on it being the version it read (`Store.put_if`),
and only if it does not name a newer export (a slower export started earlier gives up). A reader
reads `current.json` first, then the files of the snapshot it names: complete (written before the
pointer) and never changed. A snapshot that is no longer current is deleted
`XXGK_MAINTAIN_SNAPSHOT_GRACE_HOURS` after the current one replaced it, so a reader that read the
previous pointer has that long to finish; an export that died half-way left a `<id>/` no pointer
names, deleted once it is that old.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks import schema
from tasks.publish import CURRENT_ONLY, ROW_GROUP_ROWS, Tables, of_versions, version_keys, version_order, with_current
from tasks.storage import LocalStore, ObjectNotFound, Store, WriteConflict

log = logging.getLogger(__name__)

ROOT = "snapshot"
POINTER = f"{ROOT}/current.json"
DATASETS = ("reports", "checks", *CURRENT_ONLY)
_ID_TIME = "%Y%m%dT%H%M%S%fZ"


def reports_schema() -> pa.Schema:
    """`reports` as exported: the stored columns, then `is_current` and `superseded_by`, then `year`."""
    sch = schema.delta_schema("reports")
    year = sch.field("year")
    return pa.schema([*sch.remove(sch.get_field_index("year")), *schema.CURRENT_FIELDS, year], metadata=sch.metadata)


def dataset_schema(dataset: str) -> pa.Schema:
    return reports_schema() if dataset == "reports" else schema.delta_schema(dataset)


def new_id(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)).astimezone(UTC):{_ID_TIME}}-{uuid.uuid4().hex[:8]}"


def id_time(snapshot_id: str) -> datetime:
    return datetime.strptime(snapshot_id.split("-")[0], _ID_TIME).replace(tzinfo=UTC)


@dataclass
class SnapshotResult:
    id: str
    switched: bool = False  # False: a newer export was already current; this one is removed later
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    removed: list[str] = field(default_factory=list)  # snapshot ids deleted after their grace period
    pointer: str = POINTER

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "switched": self.switched, "rows": self.rows, "files": self.files,
                "removed": self.removed, "pointer": self.pointer}  # fmt: skip


def year_reports(tables: Tables, year: int) -> pa.Table:
    """Every version of the year's reports, one row per report id, `is_current` computed (read
    with the year before's: a report's row is the one checked against its current report)."""
    rows = [r for r in with_current(tables.read("reports", [year - 1, year]).to_pylist()) if r["year"] == year]
    reports = sorted(rows, key=lambda r: (r["agency_id"], version_order(r)))
    return pa.Table.from_pylist(reports, schema=reports_schema())


def current_batches(tables: Tables, dataset: str, year: int, current: list[dict[str, Any]]) -> Iterator[pa.Table]:
    """The rows of `dataset` in `year` that belong to the `current` reports rows (report id and
    publish id), a record batch at a time: a year's cells are never all in memory."""
    files = tables.dataset(dataset, [year]) if current else None
    if files is None:
        return
    ids = sorted({r["report_id"] for r in current})
    pairs = version_keys((r["report_id"], r["publish_id"]) for r in current)
    expr = (pc.field("year") == year) & pc.field("report_id").isin(ids)
    for batch in files.scanner(filter=expr, batch_size=ROW_GROUP_ROWS).to_batches():
        if batch.num_rows:
            yield of_versions(pa.Table.from_batches([batch]), pairs)


def read_pointer(store: Store) -> tuple[dict[str, Any] | None, str | None]:
    """The current pointer and its ETag (None, None if no snapshot was ever switched to)."""
    try:
        got = store.fetch(POINTER)
    except ObjectNotFound:
        return None, None
    return json.loads(got.data), got.info.etag


class Exporter:
    def __init__(self, store: Store, grace_hours: float = 24.0, attempts: int = 5) -> None:
        self.store = store
        self.tables = Tables(store)
        self.grace = timedelta(hours=grace_hours)
        self.attempts = attempts

    def _write(self, key: str, sch: pa.Schema, parts: Iterable[pa.Table]) -> int:
        """Write one file of a snapshot, streamed through the native filesystem (an S3 object
        appears whole when it is closed; a file cut short is in a snapshot no pointer names);
        its rows. Tests make a write fail here."""
        fs, scheme = self.tables.filesystem()
        path = f"{self.tables.root.removeprefix(scheme)}/{key}"
        if isinstance(self.store, LocalStore):
            fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        rows, pending, held = 0, [], 0
        with fs.open_output_stream(path) as sink, pq.ParquetWriter(sink, sch, compression="zstd") as writer:
            for part in parts:
                pending.append(part.select(sch.names).cast(sch))
                held += part.num_rows
                if held >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                    rows, pending, held = rows + held, [], 0
            if pending or rows == 0:
                writer.write_table(pa.concat_tables(pending) if pending else sch.empty_table())
                rows += held
        return rows

    def export(self, now: datetime | None = None) -> SnapshotResult:
        sid = new_id(now)
        result = SnapshotResult(sid)
        files: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in DATASETS}
        years = self.tables.years()
        for year in years:
            reports = year_reports(self.tables, year)
            current = [r for r in reports.select(["report_id", "publish_id", "is_current"]).to_pylist() if r["is_current"]]
            for dataset in DATASETS:
                key = f"{ROOT}/{sid}/{dataset}/{year}.parquet"
                parts = [reports] if dataset == "reports" else current_batches(self.tables, dataset, year, current)
                rows = self._write(key, dataset_schema(dataset), parts)
                files[dataset][str(year)] = {"key": key, "rows": rows}
                result.rows[dataset] = result.rows.get(dataset, 0) + rows
                result.files += 1
        pointer = {
            "id": sid,
            "path": f"{ROOT}/{sid}",
            "started_at": id_time(sid).isoformat(),
            "schema_version": schema.SCHEMA_VERSION,
            "years": years,
            "datasets": files,
        }
        result.switched = self._switch(pointer)
        result.removed = self.clean()
        return result

    def _switch(self, pointer: dict[str, Any]) -> bool:
        for _ in range(self.attempts):
            current, etag = read_pointer(self.store)
            if current is not None and current["id"] > pointer["id"]:
                log.info("snapshot %s is newer than this export's %s: left as current", current["id"], pointer["id"])
                return False
            body = {**pointer, "switched_at": datetime.now(UTC).isoformat()}
            try:
                self.store.put_if(POINTER, json.dumps(body, indent=1).encode(), etag, "application/json")
            except WriteConflict:
                continue  # another export switched meanwhile: read it again
            return True
        raise WriteConflict(f"{self.store.url(POINTER)} kept changing under {self.attempts} attempts to switch it")

    def snapshot_ids(self) -> list[str]:
        ids = {info.key.split("/")[1] for info in self.store.list(f"{ROOT}/") if info.key.count("/") >= 2}
        return sorted(ids)

    def clean(self, now: datetime | None = None) -> list[str]:
        """Delete the snapshots past their grace period (the module docstring); their ids."""
        now = now or datetime.now(UTC)
        current, _ = read_pointer(self.store)
        if current is None:
            return []
        switched = datetime.fromisoformat(current["switched_at"])
        removed = []
        for sid in self.snapshot_ids():
            if sid == current["id"]:
                continue
            replaced = sid < current["id"] and now - switched >= self.grace
            abandoned = sid > current["id"] and now - id_time(sid) >= self.grace
            if replaced or abandoned:
                self._delete(sid)
                removed.append(sid)
        return removed

    def _delete(self, sid: str) -> None:
        for info in list(self.store.list(f"{ROOT}/{sid}/")):
            self.store.delete(info.key)
        log.info("removed snapshot %s", sid)


def export(store: Store, grace_hours: float = 24.0, attempts: int = 5) -> SnapshotResult:
    """Write a new snapshot of every year, make it current, remove those past their grace period."""
    return Exporter(store, grace_hours, attempts).export()


def read(store: Store, dataset: str, years: Iterable[int] | None = None) -> pa.Table:
    """A dataset of the current snapshot (an empty table if there is none), as a reader sees it."""
    pointer, _ = read_pointer(store)
    sch = dataset_schema(dataset)
    if pointer is None:
        return sch.empty_table()
    wanted = None if years is None else {str(y) for y in years}
    parts = [pq.read_table(io.BytesIO(store.get(f["key"]))) for y, f in sorted(pointer["datasets"][dataset].items())
             if wanted is None or y in wanted]  # fmt: skip
    if not parts:
        return sch.empty_table()
    return pa.concat_tables(parts)

