"""CPU seconds per batch of 500 synthetic reports published into one year, at 1k / 10k / 50k reports
already in the year (issue 11: the bucket-file writer took 1.8 / 4.2 / 17.2).

Every report is the 2021 text sample (200 cells) under its own agency and bytes. The year is filled
in batches of 500 through `tasks.publish.DatasetWriter` (so the tables have the files a real year
has: one per batch and table); at each checkpoint the next batch is measured three ways:

- publish: `DatasetWriter.publish` (the reads of `reports` for the batch's agencies and the appends);
- quality: `pipeline.agency_documents` for the batch's 500 agencies (reports, checks, current cells);
- previous: `publish.previous_extractions` of 500 agencies already in the year (what the next
  year's cross-year checks read).

    .venv/bin/python bench/publish_scale.py [--out DIR] [--levels 1000,10000,50000] [--s3]

Prints a table of CPU and wall seconds per batch, with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks import pipeline, publish
from tasks.extract import extract_path
from tasks.records import CheckResult, ReportMeta, Validated
from tasks.storage import LocalStore

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
BATCH = 500
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def cpu() -> float:
    """CPU seconds of this process and its threads (delta-rs writes on its own threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def batch(extraction: dict, start: int) -> list[publish.Publishable]:
    out = []
    for n in range(start, start + BATCH):
        sha = f"{n:064x}"
        meta = ReportMeta("r" + sha[:24], f"s3://src/{n}.txt", sha, "text", f"机关{n}", f"ag{n:012x}", 2021,
                          extraction["format_version"], T0 + timedelta(seconds=n))  # fmt: skip
        checks = [CheckResult(f"ID-0{i}", "error", True, "ok", [], None) for i in range(1, 6)]
        out.append(publish.Publishable(meta, extraction, Validated(meta.report_id, "passed", checks)))
    return out


def measure(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    c, w = cpu(), time.perf_counter()
    fn()
    return cpu() - c, time.perf_counter() - w


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="output folder (default: a temporary one, removed after)")
    ap.add_argument("--levels", default="1000,10000,50000")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    root = Path(args.out or tempfile.mkdtemp(prefix="xxgk-publish-scale-"))
    extraction = extract_path(SAMPLE).to_dict()
    store = LocalStore(root)
    writer = publish.DatasetWriter(store)
    tables = publish.Tables(store)
    have, rows = 0, []
    fill_cpu = 0.0
    for level in levels:
        while have < level:
            c, _ = measure(lambda: writer.publish(batch(extraction, have)))  # noqa: B023
            fill_cpu += c
            have += BATCH
        items = batch(extraction, have)
        agencies = sorted({p.meta.agency_id for p in items})
        pub = measure(lambda: writer.publish(items))  # noqa: B023
        have += BATCH
        qual = measure(lambda: pipeline.agency_documents(store, agencies, []))  # noqa: B023
        old = [(f"ag{n:012x}", 2021) for n in range(0, have, max(1, have // BATCH))][:BATCH]
        prev = measure(lambda: publish.previous_extractions(tables, old))  # noqa: B023
        rows.append((level, pub, qual, prev, os.getloadavg()[0]))
        print(f"{level:>7,} in the year: publish {pub[0]:.2f} s CPU ({pub[1]:.2f} wall), quality pages {qual[0]:.2f} "
              f"({qual[1]:.2f}), previous-year reads {prev[0]:.2f} ({prev[1]:.2f}); load {os.getloadavg()[0]:.1f}",
              flush=True)  # fmt: skip
    print(f"\nfilling the year: {fill_cpu:.1f} s CPU for {have - BATCH * len(levels):,} reports")
    print("\n| reports in the year | publish CPU s (wall) | quality pages CPU s (wall) | previous-year reads CPU s (wall) | load |")
    print("|---:|---:|---:|---:|---:|")
    for level, pub, qual, prev, load in rows:
        print(f"| {level:,} | {pub[0]:.2f} ({pub[1]:.2f}) | {qual[0]:.2f} ({qual[1]:.2f}) | {prev[0]:.2f} ({prev[1]:.2f}) | {load:.1f} |")
    if not args.out:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
