"""Arrow schemas of every dataset, derived from the table spec (never inferred).

Each dataset is a Delta table partitioned by `year` (tasks/publish.py). The schemas below are
the rows a report contributes, without the partition column; `delta_schema(dataset)` is the
table's schema (`year` added, typed by `PARTITIONING`). Every row carries the `publish_id` of
the commit that wrote it: a report's current rows are those whose (report_id, publish_id) is a
current row of `reports`.
"""

from __future__ import annotations

import pyarrow as pa

from tasks.quality import KEY_TOTALS
from tasks.spec import t2, t3, t4
from tasks.spec.model import VALUE_PRECISION, VALUE_SCALE

SCHEMA_VERSION = "1"
PARTITIONING = pa.schema([("year", pa.int16())])
AMOUNT = pa.decimal128(VALUE_PRECISION, VALUE_SCALE)
"""Amounts (万元, 元) and the long `value` column: exact, four decimals."""

_META = {b"xxgk.schema_version": SCHEMA_VERSION.encode()}


PUBLISH_ID = pa.field("publish_id", pa.string(), nullable=False)
"""The publish (one writer's commit of one batch and year) that wrote the row."""


def _schema(fields: list[pa.Field], dataset: str) -> pa.Schema:
    return pa.schema([*fields, PUBLISH_ID], metadata={**_META, b"xxgk.dataset": dataset.encode()})


_REPORT_ID = [
    pa.field("report_id", pa.string(), nullable=False),
    pa.field("agency", pa.string()),
    pa.field("agency_id", pa.string(), nullable=False),
]

CELLS = _schema(
    [
        *_REPORT_ID[:1],
        pa.field("source", pa.string()),
        pa.field("sha256", pa.string()),
        *_REPORT_ID[1:],
        pa.field("format_version", pa.string()),
        pa.field("media", pa.string()),
        pa.field("table", pa.string(), nullable=False),
        pa.field("block", pa.string()),
        pa.field("row", pa.string(), nullable=False),
        pa.field("col", pa.string(), nullable=False),
        pa.field("value", AMOUNT),
        pa.field("status", pa.string(), nullable=False),
        pa.field("blank_reading", pa.string()),
        pa.field("raw", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("page", pa.int16()),
        pa.field("bbox", pa.list_(pa.float32())),  # four numbers; Delta has no fixed-size list
        pa.field("source_kind", pa.string()),
        pa.field("confidence", pa.float32()),
        pa.field("extractor_version", pa.string()),
        pa.field("quality_status", pa.string()),
    ],
    "cells",
)

REPORTS = _schema(
    [
        *_REPORT_ID[:1],
        pa.field("source", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("media", pa.string()),
        *_REPORT_ID[1:],
        pa.field("format_version", pa.string()),
        pa.field("status", pa.string()),
        pa.field("failed_errors", pa.int32()),
        pa.field("failed_warnings", pa.int32()),
        pa.field("failed_infos", pa.int32()),
        pa.field("pages", pa.int16()),
        pa.field("source_last_modified", pa.timestamp("us", tz="UTC")),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
        pa.field("pipeline_version", pa.string()),
        pa.field("previous_report_id", pa.string()),  # what the cross-year checks of this row were run against
        # the report's headline figures and OCR counts, as the quality pages show them (one read of
        # `reports` makes an agency's page; never a read of `cells`): tasks.quality.KEY_TOTALS
        pa.field("ocr_cells", pa.int32()),
        pa.field("ocr_refused", pa.int32()),
        *[pa.field(f"key_{name}", pa.int64()) for name in (kt.name for kt in KEY_TOTALS)],
    ],
    "reports",
)
CURRENT_FIELDS = [pa.field("is_current", pa.bool_()), pa.field("superseded_by", pa.string())]
"""Computed by readers from `reports`, never stored: the current version of an agency's report of
a year is its row with the latest `source_last_modified`, then the greatest `report_id`
(tasks/publish.py `with_current`); `superseded_by` of every other version names it. A report id
has one row per check of its cross-year rules (a re-check appends one, `previous_report_id` naming
the previous-year report it was checked against): the report's row is the one checked against the
agency's current report of the year before (none: null), the smallest `publish_id` among several."""

CHECKS = _schema(
    [
        *_REPORT_ID,
        pa.field("rule", pa.string(), nullable=False),
        pa.field("severity", pa.string()),
        pa.field("passed", pa.bool_()),
        pa.field("message", pa.string()),
        pa.field("cells", pa.string()),  # JSON list of {table,row,col,page,value,suggested}
        pa.field("origin", pa.string()),
    ],
    "checks",
)


def _value_type(kind: str) -> pa.DataType:
    return AMOUNT if kind == "amount" else pa.int64()


_WIDE_HEAD = [*_REPORT_ID, pa.field("format_version", pa.string()), pa.field("quality_status", pa.string())]

T2_COLUMNS: list[tuple[str, str]] = []
"""(col key, kind) of every table-2 value column across both formats, in spec order."""
for _blk in t2.BLOCKS:
    for _cols in _blk.columns.values():
        for _c in _cols:
            if _c.key not in {k for k, _ in T2_COLUMNS}:
                T2_COLUMNS.append((_c.key, _c.kind))

T2_WIDE = _schema(
    [*_WIDE_HEAD, pa.field("block", pa.string()), pa.field("row", pa.string(), nullable=False)]
    + [pa.field(k, _value_type(kind)) for k, kind in T2_COLUMNS],
    "t2_active_disclosure",
)
T3_WIDE = _schema(
    [*_WIDE_HEAD, pa.field("row", pa.string(), nullable=False)]
    + [pa.field(c.key, pa.int64()) for c in t3.COLUMNS],
    "t3_applications",
)
T4_WIDE = _schema(
    [*_WIDE_HEAD, pa.field("row", pa.string(), nullable=False)]
    + [pa.field(c.key, pa.int64()) for c in t4.COLUMNS],
    "t4_review_litigation",
)

DATASETS: dict[str, pa.Schema] = {
    "cells": CELLS,
    "reports": REPORTS,
    "checks": CHECKS,
    "t2_active_disclosure": T2_WIDE,
    "t3_applications": T3_WIDE,
    "t4_review_litigation": T4_WIDE,
}
HISTORY_DATASETS = ("reports", "checks")
"""Datasets whose rows are every version ever published (`reports` flags the current one)."""


def delta_schema(dataset: str) -> pa.Schema:
    """The Delta table's schema: the dataset's columns, then the `year` partition column."""
    sch = DATASETS[dataset]
    return sch.append(pa.field("year", PARTITIONING.field("year").type, nullable=False))

