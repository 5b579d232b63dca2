"""Upkeep of the Delta outputs, on a schedule (flows/maintain.py, the `xxgk-maintain/weekly`
deployment, `xxgk maintain`), never as part of a publish.

Per dataset (tasks/schema.py `DATASETS`), and for the quarantine index (`state/quarantine/`,
tasks/quarantine.py, named `quarantine_index` here), a small Delta table appended once per batch:

1. `optimize.compact()`: the small files of each `year` partition (every publish appends one per
   table and year) rewritten into few large ones. A compaction commits `remove` actions for the files
   it read and `add` actions for their rewrite, `dataChange=false`: readers see the same rows.
2. a checkpoint of the log (readers then replay a few JSON entries, not every commit) and the
   removal of log entries older than the table's log retention (Delta's default, 30 days);
3. `vacuum(retention)`: data files that a commit removed more than `XXGK_MAINTAIN_RETENTION_HOURS`
   ago are deleted (files no commit ever added, left by a writer killed mid-write, are not touched:
   `full=False`). Until then a reader that listed a table version before the compaction still finds
   every file it listed: a publish batch, a snapshot export or a query must not take longer.

With writers, no lock: a publish is a blind append, and delta-rs commits a compaction planned before
an append on top of it (the append added files, the compaction removed others: no conflict); a
conflict it does report (`CommitFailedError`) is retried from a fresh read of the log, up to
`XXGK_MAINTAIN_ATTEMPTS` times, then that dataset is left as it was (its rows untouched) and the
run goes on. Between maintenance runs, a lease: delta-rs 1.6.6 lets two compactions of the same
files both commit (measured: both remove the same files and both add their rewrite, so the rows
are there twice), so one run at a time holds `state/maintenance.lease` (a conditional put, renewed
before each dataset); a run that finds it held by another gives up (`MaintenanceBusy`) having
done nothing.

Between weekly runs, `compact_fragmented`: a batch that leaves a year's `reports` partition (the
table every batch reads by agency) with more than `XXGK_MAINTAIN_COMPACT_AFTER_FILES` files compacts
that partition, under the same lease (held `FRAGMENTED_LEASE_HOURS`; busy: left for the next batch).
One batch in that many pays a compaction of one partition, none a checkpoint or a vacuum.

No Prefect import here: the flow is a thin wrapper.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks import quarantine, schema
from tasks.publish import ROW_GROUP_ROWS, Tables, retryable
from tasks.storage import Store, WriteConflict

log = logging.getLogger(__name__)

LEASE_KEY = "state/maintenance.lease"
QUARANTINE_INDEX = "quarantine_index"
TABLES = (*schema.DATASETS, QUARANTINE_INDEX)
"""What a maintenance run goes through, in order."""
FRAGMENTED_LEASE_HOURS = 0.25
"""The lease a batch's compaction holds: longer than compacting one partition of `reports`
(seconds), short enough that a batch killed while holding it blocks the weekly run only briefly."""
INDEX_TABLES = ("reports",)
"""What a batch reads by agency (cross-year checks, quality pages): compacted when fragmented
(`compact_fragmented`), not only weekly. The other tables of a year being published are read by
report id only for the few agencies that publish twice in it, and by queries and the snapshot."""


class MaintenanceBusy(RuntimeError):
    """Another maintenance run holds the lease: this one did nothing."""


@dataclass
class DatasetUpkeep:
    """What maintenance did to one table."""

    dataset: str
    version_before: int | None = None
    version_after: int | None = None
    files_before: int = 0
    files_after: int = 0
    files_compacted: int = 0  # removed by the compaction (rewritten into files_added)
    files_added: int = 0
    files_vacuumed: int = 0  # data files deleted from storage
    conflicts: int = 0  # compaction commits redone
    gave_up: str | None = None  # why the compaction was left undone (the rows are as they were)
    seconds: float = 0.0


@dataclass
class MaintenanceResult:
    datasets: list[DatasetUpkeep] = field(default_factory=list)
    retention_hours: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"retention_hours": self.retention_hours, "datasets": [asdict(d) for d in self.datasets]}


# ---------------------------------------------------------------- the lease


@dataclass(frozen=True)
class Lease:
    owner: str
    etag: str | None


def _lease_body(owner: str, hours: float, now: datetime) -> bytes:
    body = {"owner": owner, "host": socket.gethostname(), "taken_at": now.isoformat(),
            "expires_at": (now + timedelta(hours=hours)).isoformat()}  # fmt: skip
    return json.dumps(body).encode()


def take_lease(store: Store, hours: float, owner: str | None = None, now: datetime | None = None) -> Lease:
    """The maintenance lease, if no other run holds it unexpired; else `MaintenanceBusy`."""
    from tasks.storage import ObjectNotFound

    owner = owner or uuid.uuid4().hex
    now = now or datetime.now(UTC)
    try:
        got = store.fetch(LEASE_KEY)
    except ObjectNotFound:
        got = None
    if got is not None:
        held = json.loads(got.data)
        if held["owner"] != owner and datetime.fromisoformat(held["expires_at"]) > now:
            raise MaintenanceBusy(f"another maintenance run ({held['host']}, since {held['taken_at']}) holds "
                                  f"{store.url(LEASE_KEY)} until {held['expires_at']}")  # fmt: skip
    try:
        store.put_if(LEASE_KEY, _lease_body(owner, hours, now), got.info.etag if got else None, "application/json")
    except WriteConflict as exc:
        raise MaintenanceBusy(f"another maintenance run took {store.url(LEASE_KEY)} at the same moment") from exc
    info = store.head(LEASE_KEY)
    return Lease(owner, info.etag if info else None)


def renew_lease(store: Store, lease: Lease, hours: float) -> Lease:
    """The lease extended by `hours` from now; `MaintenanceBusy` if another run took it meanwhile."""
    try:
        store.put_if(LEASE_KEY, _lease_body(lease.owner, hours, datetime.now(UTC)), lease.etag, "application/json")
    except WriteConflict as exc:
        raise MaintenanceBusy(f"{store.url(LEASE_KEY)} was taken by another run (this one's had expired)") from exc
    info = store.head(LEASE_KEY)
    return Lease(lease.owner, info.etag if info else None)


def release_lease(store: Store, lease: Lease) -> None:
    info = store.head(LEASE_KEY)
    if info is not None and info.etag == lease.etag:
        store.delete(LEASE_KEY)


# ---------------------------------------------------------------- compaction and vacuum


class Maintainer:
    """Compaction, checkpoint and vacuum of the Delta tables of one output store."""

    def __init__(self, store: Store, retention_hours: int, attempts: int = 5, backoff_s: float = 0.2,
                 max_backoff_s: float = 10.0) -> None:  # fmt: skip
        self.store = store
        self.tables = Tables(store)
        self.retention_hours = retention_hours
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s

    def table(self, name: str) -> Any:
        """The Delta table `name` (a dataset, or the quarantine index) at its latest version, or None."""
        if name != QUARANTINE_INDEX:
            return self.tables.table(name)
        return quarantine.table(self.store)

    def _planned(self, dataset: str) -> None:
        """Called between reading a table's log and compacting it (tests append rows here)."""

    def compact(self, dataset: str, out: DatasetUpkeep, year: int | None = None) -> None:
        """Compact `dataset` (only its `year` partition if given), retrying a conflicting commit."""
        from deltalake import WriterProperties

        props = WriterProperties(compression="ZSTD", max_row_group_size=ROW_GROUP_ROWS)
        for attempt in range(1, self.attempts + 1):
            dt = self.table(dataset)
            if dt is None:
                return
            self._planned(dataset)
            try:
                where = None if year is None else [("year", "=", str(int(year)))]
                metrics = dt.optimize.compact(partition_filters=where, writer_properties=props)
            except Exception as exc:
                if not retryable(exc):
                    raise
                out.conflicts += 1
                if attempt == self.attempts:
                    out.gave_up = f"the compaction conflicted {attempt} times with other commits ({exc})"
                    log.warning("%s: %s; left as it was", dataset, out.gave_up)
                    return
                delay = random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))
                log.info("%s: compaction conflicted (%s); again in %.2f s", dataset, exc, delay)
                time.sleep(delay)
                continue
            out.files_compacted += int(metrics.get("numFilesRemoved", 0))
            out.files_added += int(metrics.get("numFilesAdded", 0))
            return

    def maintain(self, dataset: str) -> DatasetUpkeep:
        started = time.monotonic()
        out = DatasetUpkeep(dataset)
        dt = self.table(dataset)
        if dt is None:
            return out
        out.version_before, out.files_before = dt.version(), len(dt.file_uris())
        self.compact(dataset, out)
        dt = self.table(dataset)
        assert dt is not None
        dt.create_checkpoint()
        dt.cleanup_metadata()
        # the retention is checked here (settings: at least 24 h), not against the table's own property
        vacuumed = dt.vacuum(retention_hours=self.retention_hours, dry_run=False, enforce_retention_duration=False)
        out.files_vacuumed = len({v.rsplit("/", 1)[-1] for v in vacuumed})  # each named twice on a folder
        dt = self.table(dataset)
        assert dt is not None
        out.version_after, out.files_after = dt.version(), len(dt.file_uris())
        out.seconds = round(time.monotonic() - started, 3)
        log.info("%s: %d → %d files (%d compacted into %d), %d vacuumed, version %s → %s, %.1f s", dataset,
                 out.files_before, out.files_after, out.files_compacted, out.files_added, out.files_vacuumed,
                 out.version_before, out.version_after, out.seconds)  # fmt: skip
        return out


def maintain(
    store: Store,
    retention_hours: int,
    lease_hours: float = 6.0,
    attempts: int = 5,
    datasets: Iterable[str] | None = None,
    maintainer: Maintainer | None = None,
) -> MaintenanceResult:
    """Compact, checkpoint and vacuum every table of `store` (`TABLES`) under the maintenance lease."""
    m = maintainer or Maintainer(store, retention_hours, attempts)
    result = MaintenanceResult(retention_hours=m.retention_hours)
    lease = take_lease(store, lease_hours)
    try:
        for dataset in datasets or TABLES:
            lease = renew_lease(store, lease, lease_hours)
            result.datasets.append(m.maintain(dataset))
    finally:
        release_lease(store, lease)
    return result


def files_in(store: Store, dataset: str, year: int) -> int:
    """How many data files the log lists in `dataset`'s `year` partition (0 if no table)."""
    dt = Tables(store).table(dataset)
    return 0 if dt is None else len(dt.file_uris(file_pruning_predicate=[("year", "in", [str(int(year))])]))


def compact_fragmented(
    store: Store,
    years: Iterable[int],
    max_files: int,
    lease_hours: float = FRAGMENTED_LEASE_HOURS,
    attempts: int = 5,
    datasets: Iterable[str] = INDEX_TABLES,
) -> list[DatasetUpkeep]:
    """The `year` partitions of `datasets` holding more than `max_files` files compacted now, each
    under the maintenance lease; a lease held by another run (the weekly one, or another batch at
    the same) means nothing is done. Called by a batch after its publish: every batch reads these
    tables by agency, a scan of every file of the partition, so between weekly runs a partition
    fed by hundreds of batches would make each batch slower than the last. No checkpoint and no
    vacuum here (the replaced files stay for readers until the weekly run's vacuum)."""
    if max_files <= 0:
        return []
    todo = [(d, int(y)) for d in datasets for y in sorted(set(years)) if files_in(store, d, y) > max_files]
    if not todo:
        return []
    try:
        lease = take_lease(store, lease_hours)
    except MaintenanceBusy as exc:
        log.info("fragmented partitions %s left for now: %s", todo, exc)
        return []
    m = Maintainer(store, retention_hours=24, attempts=attempts)  # retention unused: no vacuum here
    done = []
    try:
        for dataset, year in todo:
            started = time.monotonic()
            out = DatasetUpkeep(f"{dataset} year={year}", files_before=files_in(store, dataset, year))
            m.compact(dataset, out, year)
            out.files_after = files_in(store, dataset, year)
            out.seconds = round(time.monotonic() - started, 3)
            log.info("%s: %d → %d files (%d compacted into %d), %.1f s", out.dataset, out.files_before, out.files_after,
                     out.files_compacted, out.files_added, out.seconds)  # fmt: skip
            done.append(out)
    finally:
        release_lease(store, lease)
    return done
