"""One writer of the many-writers test (tests/storage/test_many_writers.py), as a process of its own:

    python tests/storage/writer_process.py OUTPUT WRITER WRITERS BATCHES PER_BATCH

publishes its share of a deterministic workload into OUTPUT (a folder or s3://…, storage settings
from the XXGK_S3_* environment) through `tasks.publish.DatasetWriter`, one batch at a time, and
prints "publishing" once set up and "batch K" after each commit. `workload()` is the whole
workload, for the test to know what must be there.

Agencies are shared between writers (each agency has two versions, uploaded an hour apart, published
by different writers) and every writer also publishes the same bytes (`shared`) in its first batch.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def workload(writers: int, batches: int, per_batch: int) -> list[list[list[tuple[str, str, datetime]]]]:
    """[writer][batch] → (sha, agency_id, LastModified) of each report."""
    total = writers * batches * per_batch
    agencies = max(1, total // 2)
    out: list[list[list[tuple[str, str, datetime]]]] = []
    for w in range(writers):
        mine = []
        for b in range(batches):
            batch = []
            for j in range(per_batch):
                n = (w * batches + b) * per_batch + j
                # the two versions of agency a are reports a and a + agencies: different writers
                batch.append((f"{n:06x}", f"ag-{n % agencies:04d}", T0 + timedelta(hours=n)))
            if b == 0:
                batch.append(("shared", "ag-shared", T0))
            mine.append(batch)
        out.append(mine)
    return out


def item(extraction: dict[str, Any], sha: str, agency_id: str, modified: datetime) -> Any:
    from tasks.publish import Publishable
    from tasks.records import CheckResult, ReportMeta, Validated

    meta = ReportMeta("r" + sha, f"s3://src/{sha}.txt", sha, "text", f"机关{agency_id}", agency_id, 2021,
                      extraction["format_version"], modified)  # fmt: skip
    check = CheckResult("ID-01", "error", True, f"identity of {sha}", [], None)
    return Publishable(meta, extraction, Validated(meta.report_id, "passed", [check]))


def main(output: str, writer: int, writers: int, batches: int, per_batch: int) -> None:
    from tasks.extract import extract_path
    from tasks.publish import DatasetWriter
    from tasks.settings import get_settings
    from tasks.storage import open_store

    extraction = extract_path(SAMPLE).to_dict()
    dest = DatasetWriter(open_store(output, get_settings().storage), attempts=get_settings().pipeline.publish_attempts)
    print("publishing", flush=True)
    for k, batch in enumerate(workload(writers, batches, per_batch)[writer]):
        dest.publish([item(extraction, *r) for r in batch])
        print(f"batch {k}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], *map(int, sys.argv[2:]))
