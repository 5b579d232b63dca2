"""Quarantine records: what users read, and the index a batch reads them through.

Each file whose content could not be published gets one JSON record,
``quarantine/<sha256[:2]>/<sha256>.json`` (the record of the data dictionary). Every record is
also a row of a small Delta table, ``state/quarantine/`` (unpartitioned, appended once per
batch), so that a batch reads the records of its own agencies, or of its own sources, with one
filtered scan instead of listing and fetching every record of the output (a national year holds
thousands), and the quality index counts them from the same table.

Rows are keyed by the content hash: a file quarantined again (a rerun, two writers at once)
appends a second row, and readers keep one per hash, the latest (`at`), as the JSON record is.
An output written before the index existed has records and no table: the first batch that
writes one indexes the records already there too.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.agency import agency_id as make_agency_id
from tasks.publish import retryable
from tasks.records import Quarantined

if TYPE_CHECKING:
    from tasks.storage import Store

log = logging.getLogger(__name__)

PREFIX = "quarantine/"
INDEX = "state/quarantine"
ATTEMPTS = 10
SCHEMA = pa.schema(
    [
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("error_type", pa.string()),
        pa.field("message", pa.string()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("pipeline_version", pa.string()),
        pa.field("agency_hint", pa.string()),
        pa.field("agency_id", pa.string()),  # of the hint; null when the file's agency is unknown
    ]
)


def key(sha256: str) -> str:
    return f"{PREFIX}{sha256[:2]}/{sha256}.json"


def agency_of(q: Quarantined) -> str | None:
    """The agency a record belongs to: the id of its hint (the folder the file was uploaded to)."""
    return make_agency_id(q.agency_hint) if q.agency_hint else None


def _row(q: Quarantined) -> dict[str, Any]:
    return {
        "sha256": q.sha256, "source": q.source, "error_type": q.error_type, "message": q.message, "at": q.at,
        "pipeline_version": q.pipeline_version, "agency_hint": q.agency_hint, "agency_id": agency_of(q),
    }  # fmt: skip


def _record(row: dict[str, Any]) -> Quarantined:
    return Quarantined(**{k: v for k, v in row.items() if k != "agency_id"})


def _from_json(data: bytes) -> Quarantined:
    d = json.loads(data)
    d["at"] = datetime.fromisoformat(d["at"])
    return Quarantined(**d)


def read_records(output: Store) -> list[Quarantined]:
    """Every JSON record, by listing the prefix (the index is built from these when it is absent)."""
    return [_from_json(output.get(i.key)) for i in output.list(PREFIX) if i.key.endswith(".json")]


def table(output: Store) -> Any:
    """The index as of its latest version, or None before any record was indexed."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    from tasks.storage import delta_location

    root, options = delta_location(output)
    try:
        return DeltaTable(f"{root}/{INDEX}", storage_options=options or None)
    except TableNotFoundError:
        return None


def _append(output: Store, rows: list[dict[str, Any]]) -> None:
    from deltalake import write_deltalake

    from tasks.storage import delta_location

    root, options = delta_location(output)
    table = pa.Table.from_pylist(rows, schema=SCHEMA).sort_by([("agency_id", "ascending")])
    for attempt in range(1, ATTEMPTS + 1):
        try:
            write_deltalake(f"{root}/{INDEX}", table, mode="append", storage_options=options or None)
            return
        except Exception as exc:
            if not retryable(exc) or attempt == ATTEMPTS:
                raise
            delay = random.uniform(0, min(5.0, 0.1 * 2**attempt))
            log.info("quarantine index: %s; appending again in %.2f s", exc, delay)
            time.sleep(delay)


def write(output: Store, records: Iterable[Quarantined]) -> int:
    """Each record as its JSON document, then all of them as one append to the index."""
    records = list(records)
    for q in records:
        output.put(key(q.sha256), json.dumps(q.to_dict(), ensure_ascii=False, indent=2).encode(), "application/json")
    if not records:
        return 0
    rows = [_row(q) for q in records]
    if table(output) is None:  # an output from before the index: its records join the first append
        mine = {q.sha256 for q in records}
        rows += [_row(q) for q in read_records(output) if q.sha256 not in mine]
    _append(output, rows)
    return len(records)


def read(
    output: Store, agency_ids: Iterable[str] | None = None, sources: Iterable[str] | None = None
) -> list[Quarantined]:
    """The records of these agencies and of these sources (no filter where None), one per content
    hash, oldest first: one scan of the index."""
    import pyarrow.dataset as pds

    from tasks.storage import arrow_filesystem

    dt = table(output)
    if dt is None:
        wanted_a = None if agency_ids is None else set(agency_ids)
        wanted_s = None if sources is None else set(sources)
        return sorted(
            (q for q in read_records(output)
             if (wanted_a is None or agency_of(q) in wanted_a) and (wanted_s is None or q.source in wanted_s)),
            key=lambda q: q.at,
        )  # fmt: skip
    where = None
    if agency_ids is not None:
        where = pc.field("agency_id").isin(sorted(set(agency_ids)))
    if sources is not None:
        by_source = pc.field("source").isin(sorted(set(sources)))
        where = by_source if where is None else where & by_source
    fs, scheme = arrow_filesystem(output)
    files = pds.dataset([u.removeprefix(scheme) for u in dt.file_uris()], filesystem=fs, format="parquet", schema=SCHEMA)
    latest: dict[str, dict[str, Any]] = {}
    for r in files.to_table(filter=where).to_pylist():
        have = latest.get(r["sha256"])
        if have is None or r["at"] > have["at"]:
            latest[r["sha256"]] = r
    return [_record(r) for r in sorted(latest.values(), key=lambda r: (r["at"] or datetime.min.replace(tzinfo=UTC), r["sha256"]))]
