"""Reading the published Delta tables back in tests, with deltalake and pyarrow only (not the
pipeline's own readers), as the data dictionary tells a user to:

- `reports`: one row per report id (two writers publishing the same bytes at once may both write
  it, and a re-check of its cross-year rules appends one: the row checked against the agency's
  current report of the year before is the report's, the smaller `publish_id` among several),
  with `is_current` and `superseded_by` computed: per agency and year, the latest `source_last_modified`, then the greatest `report_id`;
- `checks`: the rows of every version in `reports` (history), joined on (report_id, publish_id);
- `cells` and the wide views: the rows of the current reports only, joined the same way.

Rows a killed writer appended without committing their `reports` row match no `reports` row
and are never returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

DATASETS = ("cells", "reports", "checks", "t2_active_disclosure", "t3_applications", "t4_review_litigation")
CURRENT_ONLY = ("cells", "t2_active_disclosure", "t3_applications", "t4_review_litigation")


def s3_options(settings: Any) -> dict[str, str]:
    """delta-rs storage options for a test `StorageSettings` (moto or SeaweedFS over HTTP)."""
    return {
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": settings.region,
        "AWS_ACCESS_KEY_ID": settings.access_key_id.get_secret_value(),
        "AWS_SECRET_ACCESS_KEY": settings.secret_access_key.get_secret_value(),
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
    }


def raw(root: str | Path, name: str, options: dict[str, str] | None = None) -> pa.Table | None:
    """Every live row of the table (through its log), or None if it was never created."""
    from deltalake import DeltaTable

    uri = f"{str(root).rstrip('/')}/delta/{name}"
    if not DeltaTable.is_deltatable(uri, storage_options=options):
        return None
    return DeltaTable(uri, storage_options=options).to_pyarrow_table(filesystem=_filesystem(uri, options))


def _filesystem(uri: str, options: dict[str, str] | None) -> Any:
    """A native pyarrow filesystem rooted at the table: deltalake's default Python one makes the
    process abort at exit (tasks.storage.arrow_filesystem)."""
    import pyarrow.fs as pafs

    if not options:
        return pafs.SubTreeFileSystem(uri, pafs.LocalFileSystem())
    scheme, _, host = options["AWS_ENDPOINT_URL"].partition("://")
    fs = pafs.S3FileSystem(access_key=options["AWS_ACCESS_KEY_ID"], secret_key=options["AWS_SECRET_ACCESS_KEY"],
                           region=options["AWS_REGION"], endpoint_override=host, scheme=scheme)  # fmt: skip
    return pafs.SubTreeFileSystem(uri.removeprefix("s3://"), fs)


def _key(t: pa.Table) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(t["report_id"], t["publish_id"], "\x00")


def _semi_join(t: pa.Table, keys: pa.Table) -> pa.Table:
    """The rows of `t` whose (report_id, publish_id) is in `keys` (pyarrow's join takes no list columns)."""
    return t.filter(pc.is_in(_key(t), value_set=pa.concat_arrays(_key(keys).chunks) if keys.num_rows else pa.array([], pa.string())))


def _current_ids(rows: list[dict[str, Any]]) -> dict[tuple[int, str], str]:
    best: dict[tuple[int, str], tuple[Any, str]] = {}
    for r in rows:
        k, v = (r["year"], r["agency_id"]), (r["source_last_modified"], r["report_id"])
        if k not in best or v > best[k]:
            best[k] = v
    return {k: v[1] for k, v in best.items()}


def _canonical(reports: pa.Table) -> pa.Table:
    """Per report id, the row checked against the agency's current report of the year before
    (`previous_report_id`, null if none), else any; the smallest `publish_id` among those."""
    rows = reports.to_pylist()
    current = _current_ids(rows)
    chosen: dict[str, tuple[bool, str]] = {}
    for r in rows:
        fits = r.get("previous_report_id") == current.get((r["year"] - 1, r["agency_id"]))
        rank = (not fits, r["publish_id"])
        if r["report_id"] not in chosen or rank < chosen[r["report_id"]]:
            chosen[r["report_id"]] = rank
    keys = pa.table({"report_id": list(chosen), "publish_id": [v[1] for v in chosen.values()]})
    return _semi_join(reports, keys)


def _with_current(reports: pa.Table) -> pa.Table:
    rows = reports.to_pylist()
    best = _current_ids(rows)
    current = [best[(r["year"], r["agency_id"])] for r in rows]
    is_current = [c == r["report_id"] for c, r in zip(current, rows, strict=True)]
    by = [None if cur else c for c, cur in zip(current, is_current, strict=True)]
    return reports.append_column("is_current", pa.array(is_current, pa.bool_())).append_column(
        "superseded_by", pa.array(by, pa.string())
    )


def table(root: str | Path, name: str, options: dict[str, str] | None = None) -> pa.Table | None:
    """The dataset as a reader sees it (see the module docstring); None if never created."""
    reports = raw(root, "reports", options)
    if reports is None:
        return None
    reports = _with_current(_canonical(reports))
    if name == "reports":
        return reports.sort_by([("agency_id", "ascending"), ("report_id", "ascending")])
    got = raw(root, name, options)
    if got is None:
        return None
    keys = reports.filter(pc.field("is_current")) if name in CURRENT_ONLY else reports
    return _semi_join(got, keys.select(["report_id", "publish_id"])).sort_by(
        [("agency_id", "ascending"), ("report_id", "ascending")]
    )


def rows(root: str | Path, name: str, options: dict[str, str] | None = None) -> list[dict[str, Any]]:
    t = table(root, name, options)
    return [] if t is None else t.to_pylist()
