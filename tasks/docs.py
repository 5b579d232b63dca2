"""The data dictionary, generated from the table spec and the Arrow schemas.

    python -m tasks.docs            # writes docs/data-dictionary.md

A test regenerates it in memory and fails, naming this command, when the committed file drifts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa

from tasks import schema
from tasks.quality import KEY_TOTALS
from tasks.spec import RULES, t2, t3, t4

ROOT = "xxgk-output/out"
"""The output root of `make run` (XXGK_OUTPUT's default): the examples run from the repository root."""

OUT = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"

COLUMN_DOCS: dict[str, str] = {
    "report_id": "Id of one report version: `r` + the first 24 hex digits of the file's SHA-256. Same bytes, same id.",
    "source": "Where the report was read from: the object URL (`s3://bucket/key`) or file path.",
    "sha256": "SHA-256 of the uploaded bytes.",
    "agency": "The issuing agency as printed in the report's title.",
    "agency_id": "Stable ASCII id of the agency (`ag` + 12 hex digits of the canonical name's SHA-256; aliases mapped first).",
    "year": "Statistics year (the year the report is about, not when it was published). The tables' partition column.",
    "format_version": "`2021`, `2019` or `2021_mixed` (the 2021 layout with （六）其他处理 printed as one row).",
    "media": "`pdf`, `html`, `docx`, `text` or `image` (a PNG/JPEG upload, read by OCR), sniffed from the bytes.",
    "table": "`t2` (section 二), `t3` (section 三) or `t4` (section 四).",
    "block": "Table 2 block (`art20_1`, `art20_5`, `art20_6`, `art20_8`, `art20_9`); null for t3/t4.",
    "row": "Canonical row key (see the key tables below).",
    "col": "Canonical column key (see the key tables below).",
    "value": "The number as printed (decimal, 4 places); null when nothing numeric is printed (see `status`).",
    "status": "`reported`, `blank` (printed empty: not 0), `dash`, `text`, `not_found`, `image_only`, `out_of_range` "
              "(a number printed beyond what `value` holds exactly — over 14 digits before the point or 4 after it: "
              "`value` is null, the printed text is in `raw`, RANGE-01 names the cell; never rounded or clipped), "
              "`ocr_unconfirmed` (read from a picture but confirmed neither by an identity nor by a second reading: "
              "value null, the candidate reading in the OCR-01 check).",
    "source_kind": "How the cell was read: `text` (a text layer or markup) or `ocr` (a scanned page or a picture of a "
    "table); null for cells not found.",
    "confidence": "For `ocr` cells: the engine's confidence in [0, 1] (lowest over the cell's text; 1 for an empty "
    "cell with no ink). A published OCR number is also confirmed by arithmetic or a second reading.",
    "blank_reading": "For blank cells: `zero_confirmed` when every identity holds reading it as 0, else `unknown` (BLANK-01).",
    "raw": "The cell's text exactly as read.",
    "unit": "`件`, `项`, `万元` or `元`.",
    "page": "1-based page of the cell (PDF); null for HTML, DOCX and text, and past page 32767 (RANGE-01).",
    "bbox": (
        "[x0, y0, x1, y1] of the cell in PDF points (y up); null where the medium has no geometry "
        "(or a coordinate is not a finite float32, RANGE-01)."
    ),
    "extractor_version": "Version of the extraction code that read the cell.",
    "quality_status": "The report's quality status: `passed`, `warned` or `failed` (failed error-severity rule).",
    "status@reports": "The report's quality status: `passed`, `warned`, `failed`.",
    "failed_errors": "Number of failed checks of severity `error`.",
    "failed_warnings": "Number of failed checks of severity `warn`.",
    "failed_infos": "Number of failed checks of severity `info`.",
    "pages": "Pages in the document (1 for HTML, DOCX, text); null beyond 32767 (RANGE-01).",
    "source_last_modified": "The uploaded object's LastModified: the newer upload of an agency and year is current.",
    "ingested_at": "When this version was published.",
    "pipeline_version": "Version of the pipeline that published the row.",
    "previous_report_id": "The agency's report of the year before that this row's cross-year checks (XY-01..03, PLAUS-02) "
    "were run against (they ran only if it has cells: not withheld); null: there was none. The report's row is the one "
    "naming the current report of the year before (see above).",
    "ocr_cells": "Cells of the report read by OCR and published (their `source_kind` is `ocr`); null in rows written "
    "before this column (their cells tell it).",
    "ocr_refused": "Cells of the report OCR read but the arithmetic did not confirm (`ocr_unconfirmed`).",
    **{
        f"key_{kt.name}": f"{kt.caption} (`{kt.table}` `{kt.row}` `{kt.col}`"
        + (", the sum of its parts where it is not printed" if kt.row in t4.DERIVED_ROWS else "")
        + "): the headline figure the quality pages chart, as its cells print it; null where it is not printed as a "
        "whole number, where the report has no cells (withheld, or an upload older than a published version), and in "
        "rows written before this column."
        for kt in KEY_TOTALS
    },
    "publish_id": "The commit (one writer's publish of one batch and year) that wrote the row: a report's rows in every "
    "table are those with its `reports` row's `publish_id`.",
    "is_current": "Computed, not stored (see above): true for the agency's current report of the year.",
    "superseded_by": "Computed, not stored: for a superseded version, the current report_id of its agency and year.",
    "rule": "Rule id of the format spec §6 (e.g. `T3-H1`).",
    "severity": "`error`, `warn` or `info`.",
    "passed": "Whether the rule held for the report.",
    "message": "What the check found, in words.",
    "cells": "JSON list of the cells concerned: {table, row, col, page, value, suggested?}. A suggestion is never applied.",
    "origin": "For a failure: `source` (the document disagrees with itself) or `extraction` (a reading problem is likelier).",
}

DATASET_DOCS = {
    "cells": "One row per cell of each report published while current (join on `reports` for the current ones): "
    "the long fact table, the source of truth.",
    "reports": "One row per report version, current and superseded (history); `is_current` is computed by readers.",
    "checks": "One row per (report version, rule): every rule applied, passed or not.",
    "t2_active_disclosure": "Wide view of table 2: one row per (report, block row), one column per value key.",
    "t3_applications": "Wide view of table 3: one row per (report, row key), the seven applicant columns.",
    "t4_review_litigation": "Wide view of table 4: one row per (report, block), the five result columns.",
}


def _type(t: pa.DataType) -> str:
    return str(t)


def _dataset_section(name: str, sch: pa.Schema) -> list[str]:
    lines = [f"### `{name}/`", "", DATASET_DOCS[name], "", "| column | type | meaning |", "|---|---|---|"]
    lines.append("| `year` | int16 (partition) | " + COLUMN_DOCS["year"] + " |")
    for f in sch:
        doc = COLUMN_DOCS.get(f"{f.name}@{name}") or COLUMN_DOCS.get(f.name)
        if doc is None and name.startswith("t"):
            doc = _value_doc(name, f.name)
        lines.append(f"| `{f.name}` | {_type(f.type)} | {doc or ''} |")
    if name == "reports":
        lines += [f"| `{f.name}` | {_type(f.type)} (computed) | {COLUMN_DOCS[f.name]} |" for f in schema.CURRENT_FIELDS]
    return [*lines, ""]


def _value_doc(dataset: str, col: str) -> str:
    labels = {c.key: c.label for blk in t2.BLOCKS for cols in blk.columns.values() for c in cols}
    labels.update({c.key: c.label for c in t3.COLUMNS} if dataset == "t3_applications" else {})
    labels.update({c.key: c.label for c in t4.COLUMNS} if dataset == "t4_review_litigation" else {})
    return f"Printed value of column {labels.get(col, col)}; null when not a number (see `cells.status`)."


def render() -> str:
    out = [
        "# Data dictionary",
        "",
        "Generated from `tasks/spec/` and `tasks/schema.py` by `python -m tasks.docs`; do not edit by hand.",
        "",
        "Outputs under the output root (a folder or an `s3://` prefix): `delta/<dataset>/`, one Delta Lake table per",
        "dataset (its log in `_delta_log/`, its data in `year=<Y>/part-*.parquet`, partitioned by `year`),",
        "`quality/<agency_id>.json|.html`, `quality/index.html`, `quarantine/<sha256[:2]>/<sha256>.json`,",
        "`dead-letter/<sha256[:2]>/<sha256>.json` (uploads whose hand-off failed the same way twice, alone),",
        "`snapshot/current.json` and `snapshot/<id>/<dataset>/<year>.parquet` (the plain-parquet snapshot, below).",
        f"Every commit carries `xxgk.schema_version` = `{schema.SCHEMA_VERSION}` in its commit metadata.",
        "",
        "The tables are append-only and every row carries the `publish_id` of the commit that wrote it:",
        "",
        "- `reports` has a row per report version and per check of its cross-year rules (XY-01..03, PLAUS-02): when a",
        "  report of year y is published, the agency's current report of y+1 is checked again against it, and its new",
        "  `reports`, `checks`, `cells` and wide rows are appended in the same commits, under the same `publish_id`.",
        "  **The report's row** is the one whose `previous_report_id` is the agency's current report of the year before",
        "  (null when there is none), the smallest `publish_id` among several (the same bytes published, or checked",
        "  again, by two writers at once) or when none is: so a status is a function of the data, whatever the order",
        "  the years arrived in. Which version is **current** is computed, never stored: per `year` and `agency_id`,",
        "  the latest `source_last_modified` (the newer upload, whatever the ingestion order), then the greatest",
        "  `report_id`.",
        "- a report's rows in `cells`, `checks` and the wide views are those with its `report_id` **and** its",
        "  `publish_id`; \"current cells\" are the cells of the current reports. `checks` rows exist for every version;",
        "  `cells` and the wide views for versions that were current when published.",
        "",
        "Read the tables through their Delta log (deltalake, Polars, DuckDB's `delta` extension, Spark), and join as",
        "below. **Never glob a table's parquet files** (`read_parquet('…/cells/**/*.parquet')`): that counts files the",
        "log has removed (after a compaction, until vacuum), the rows of superseded versions and rows that no commit",
        "published (a writer killed mid-batch). To read plain parquet, read the snapshot (below), made to be read so.",
        "",
        "## Reading the data",
        "",
        f"From the repository root after `make run` (its output root is `{ROOT}`; elsewhere put yours).",
        "",
        "DuckDB reads Delta through its `delta` extension, which it cannot download here: install the PyPI wheel of the",
        "extension built for your DuckDB version (`pip install duckdb==1.5.5 duckdb-extension-delta==1.5.5`; builds are",
        "tied to DuckDB's exact version) and `LOAD` it from its path, printed by",
        "`python -c \"import duckdb_extension_delta as d, pathlib; print(*pathlib.Path(d.__file__).parent.glob('extensions/*/*'))\"`.",
        "",
        "```sql",
        "-- the reports, one row per report (the one checked against the year before's current report), is_current computed",
        "CREATE VIEW reports AS",
        f"WITH r AS (SELECT * FROM delta_scan('{ROOT}/delta/reports')),",
        "cur AS (SELECT DISTINCT year, agency_id, first_value(report_id) OVER (",
        "    PARTITION BY year, agency_id ORDER BY source_last_modified DESC NULLS LAST, report_id DESC) AS current_id FROM r)",
        "SELECT x.* EXCLUDE (n), x.report_id = c.current_id AS is_current",
        "FROM (SELECT r.*, row_number() OVER (PARTITION BY r.report_id",
        "          ORDER BY r.previous_report_id IS NOT DISTINCT FROM p.current_id DESC, r.publish_id) AS n",
        "      FROM r LEFT JOIN cur p ON p.agency_id = r.agency_id AND p.year = r.year - 1) x",
        "JOIN cur c USING (year, agency_id) WHERE n = 1;",
        "",
        "-- the current reports' rows of a table: join on report_id and publish_id",
        "CREATE VIEW cells AS SELECT c.* FROM delta_scan('" + ROOT + "/delta/cells') c",
        "JOIN reports r USING (report_id, publish_id) WHERE r.is_current;",
        "CREATE VIEW t3_applications AS SELECT t.* FROM delta_scan('" + ROOT + "/delta/t3_applications') t",
        "JOIN reports r USING (report_id, publish_id) WHERE r.is_current;",
        "",
        "-- every current report's table 3 totals, one row per report",
        "SELECT year, agency, \"row\", total FROM t3_applications",
        "WHERE \"row\" IN ('new_received', 'total_processed') ORDER BY year, agency;",
        "",
        "-- printed blanks are not zeros: count them by how validation read them",
        "SELECT blank_reading, count(*) FROM cells WHERE status = 'blank' GROUP BY ALL;",
        "```",
        "",
        "Polars and pandas (pandas through Polars' `to_pandas`: deltalake's own `DeltaTable.to_pandas()` reads through",
        "a Python filesystem that can abort the interpreter at exit, unless given `filesystem=` a native pyarrow one):",
        "",
        "```python",
        "import polars as pl",
        f"root = '{ROOT}/delta'",
        "rows = pl.read_delta(f'{root}/reports')",
        "current = rows.group_by('year', 'agency_id').agg(",
        "    current_id=pl.col('report_id').sort_by(['source_last_modified', 'report_id'], nulls_last=False).last())",
        "before = current.with_columns((pl.col('year') + 1).cast(pl.Int16))  # each year's current report of the year before",
        "reports = (",
        "    rows.join(before, on=['year', 'agency_id'], how='left')",
        "    .sort(pl.col('previous_report_id').eq_missing(pl.col('current_id')), 'publish_id', descending=[True, False])",
        "    .unique('report_id', keep='first', maintain_order=True).drop('current_id')",
        "    .join(current, on=['year', 'agency_id']).with_columns(is_current=pl.col('report_id') == pl.col('current_id'))",
        "    .drop('current_id')",
        ")",
        "current = reports.filter('is_current').select('report_id', 'publish_id').lazy()",
        "cells = (pl.scan_delta(f'{root}/cells').filter((pl.col('year') == 2024) & (pl.col('table') == 't4'))",
        "         .join(current, on=['report_id', 'publish_id']).collect())",
        "",
        "checks = pl.read_delta(f'{root}/checks').to_pandas()  # pandas, every version's checks",
        "failed = reports.filter(pl.col('is_current') & (pl.col('status') == 'failed')).to_pandas()",
        "```",
        "",
        "Spark reads the Delta tables with the delta-spark package (`spark.read.format('delta').load('" + ROOT + "/delta/cells')`,",
        "joined the same way), but its jars (`io.delta:delta-spark_2.13`) come from Maven Central, which the machines",
        "this project is built and tested on cannot reach: that path is untested here. Spark reads the snapshot below",
        "(tested).",
        "",
        "## The plain-parquet snapshot",
        "",
        "For tools that cannot read Delta, and so that no one globs a Delta folder: a scheduled export",
        "(`xxgk snapshot`, the `xxgk-snapshot/daily` deployment, and the end of `make run`) writes every year's",
        "current rows as plain parquet, one file per dataset and year with `year` a column in it:",
        "",
        "- `reports`: every version, one row per report, with `is_current` and `superseded_by` computed;",
        "- `cells`, `checks`, `t2_active_disclosure`, `t3_applications`, `t4_review_litigation`: the rows of the current",
        "  reports only (the join above is done), so a plain read is the current data.",
        "",
        "A snapshot is replaced atomically, on a folder and on S3 alike: each export writes a new `snapshot/<id>/`,",
        "then replaces the small `snapshot/current.json` in one write; read the pointer first, then the files of the",
        "snapshot it names (complete, never changed). A replaced snapshot is deleted",
        "`XXGK_MAINTAIN_SNAPSHOT_GRACE_HOURS` (24) after the next one became current: a reader has that long to finish.",
        "`current.json` also lists every file with its row count (`datasets.<name>.<year>.key`, `.rows`).",
        "",
        "DuckDB (no extension needed):",
        "",
        "```sql",
        "-- the current snapshot's folder, from its pointer",
        f"SET VARIABLE snapshot = (SELECT '{ROOT}/snapshot/' || id FROM read_json('{ROOT}/snapshot/current.json'));",
        "",
        "-- every current report's table 3 totals, one row per report: no join needed",
        "SELECT year, agency, \"row\", total FROM read_parquet(getvariable('snapshot') || '/t3_applications/*.parquet')",
        "WHERE \"row\" IN ('new_received', 'total_processed') ORDER BY year, agency;",
        "",
        "-- the reports, every version, with is_current",
        "SELECT year, is_current, count(*) AS reports FROM read_parquet(getvariable('snapshot') || '/reports/*.parquet')",
        "GROUP BY ALL ORDER BY ALL;",
        "```",
        "",
        "Polars and pandas (on S3, read `current.json` with your S3 client and the files with `s3://` paths):",
        "",
        "```python",
        "import json",
        "",
        "import pandas as pd",
        "import polars as pl",
        "",
        f"root = '{ROOT}'",
        "with open(f'{root}/snapshot/current.json') as f:",
        "    snap = f\"{root}/snapshot/{json.load(f)['id']}\"",
        "cells = pl.read_parquet(f'{snap}/cells/*.parquet').filter((pl.col('year') == 2024) & (pl.col('table') == 't4'))",
        "reports = pd.read_parquet(f'{snap}/reports')  # pandas: every version, is_current computed",
        "current = reports[reports['is_current']]",
        "```",
        "",
        "Spark (`pip install pyspark`, Java 17 or later):",
        "",
        "```python",
        "import json",
        "",
        "from pyspark.sql import SparkSession",
        "",
        f"root = '{ROOT}'",
        "with open(f'{root}/snapshot/current.json') as f:",
        "    snap = f\"{root}/snapshot/{json.load(f)['id']}\"",
        "spark = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false').getOrCreate()",
        "t3 = spark.read.parquet(f'{snap}/t3_applications')",
        "totals = t3.filter(t3['row'].isin('new_received', 'total_processed')).select('year', 'agency', 'row', 'total').collect()",
        "spark.stop()",
        "```",
        "",
        "## Datasets",
        "",
    ]
    for name, sch in schema.DATASETS.items():
        out += _dataset_section(name, sch)
    out += _keys()
    out += ["## Validation rules", "", "The quality pages show each rule by its Chinese name and statement, the English below.", ""]
    out += ["| rule | severity | meaning | 名称 | 说明 |", "|---|---|---|---|---|"]
    out += [f"| `{r.id}` | {r.severity} | {r.description} | {r.title} | {r.text} |" for r in RULES]
    return "\n".join(out) + "\n"


def _keys() -> list[str]:
    out = ["## Canonical keys", "", "### Table 2 (section 二, 主动公开)", ""]
    out += ["| block | caption | row | label | format | columns (key: label, unit) |", "|---|---|---|---|---|---|"]
    for blk in t2.BLOCKS:
        for row in blk.rows:
            for fmt in row.formats:
                cols = ", ".join(f"`{c.key}`: {c.label} ({c.unit})" for c in blk.columns.get(fmt, ()))
                if cols:
                    labels = " / ".join(row.labels)
                    out.append(f"| `{blk.key}` | {blk.caption} | `{row.key}` | {labels} | {fmt} | {cols} |")
    out += ["", "### Table 3 (section 三, 收到和处理申请)", "", "| row | label | group | formats |", "|---|---|---|---|"]
    out += [f"| `{r.key}` | {r.label} | {r.group or ''} | {', '.join(r.formats)} |" for r in t3.ROWS]
    out += ["", "Columns: " + ", ".join(f"`{c.key}` {c.label}" for c in t3.COLUMNS) + " (件).", ""]
    out += ["In `2021_mixed` reports `other_total` is printed and the three `other_*` leaves are `not_found`.", ""]
    out += ["### Table 4 (section 四, 行政复议、行政诉讼)", "", "| row | label |", "|---|---|"]
    out += [f"| `{r.key}` | {(r.group + ' / ') if r.group else ''}{r.label} |" for r in t4.ROWS]
    out += ["", "Columns: " + ", ".join(f"`{c.key}` {c.label}" for c in t4.COLUMNS) + " (件).", ""]
    return out


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), "utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
