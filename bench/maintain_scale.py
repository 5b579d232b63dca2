"""The scheduled upkeep on a year of many small files: `tasks.maintain.maintain` (compaction,
checkpoint, vacuum) and `tasks.snapshot.export` after N reports published in batches.

    .venv/bin/python bench/maintain_scale.py [--reports 5000] [--batch 100] [--out DIR]

Publishes `--reports` synthetic reports (the 2021 text sample's extraction, 200-odd cells, under
distinct agencies and hashes) into one year through `tasks.publish.DatasetWriter`, one commit per
table and batch, so every table has reports/batch small files; then prints, for the maintenance run
(vacuum with retention 0: the replaced files deleted) and for the snapshot export, the wall and CPU
seconds, the files per table before and after, the rows, and the process's peak RSS. Asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks import maintain, snapshot  # noqa: E402
from tasks.publish import DatasetWriter, Publishable  # noqa: E402
from tasks.records import CheckResult, ReportMeta, Validated  # noqa: E402
from tasks.storage import LocalStore  # noqa: E402

SAMPLE = ROOT / "tests" / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"


def _item(extraction: dict, n: int) -> Publishable:
    sha = hashlib.sha256(f"report {n}".encode()).hexdigest()
    meta = ReportMeta("r" + sha[:24], f"s3://src/{n}.txt", sha, "text", f"第{n:06d}号县人民政府", f"ag{n:012x}", 2021,
                      extraction["format_version"], datetime(2025, 3, 1, tzinfo=UTC) + timedelta(seconds=n))  # fmt: skip
    check = CheckResult("ID-01", "error", True, "identity", [], None)
    return Publishable(meta, extraction, Validated(meta.report_id, "passed", [check]))


def _timed(what: str, fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{what}: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from tasks.extract import extract_path

    extraction = extract_path(SAMPLE).to_dict()
    out = Path(args.out or tempfile.mkdtemp(prefix="maintain-scale-"))
    store = LocalStore(out)
    writer = DatasetWriter(store)

    def publish() -> None:
        for start in range(0, args.reports, args.batch):
            writer.publish([_item(extraction, n) for n in range(start, min(args.reports, start + args.batch))])

    _timed(f"publish {args.reports} reports in batches of {args.batch}", publish)
    got = _timed("maintain (compact, checkpoint, vacuum with retention 0)", lambda: maintain.maintain(store, 0))
    for d in got.datasets:
        print(f"  {d.dataset:22} {d.files_before:4} → {d.files_after} files, {d.files_vacuumed} vacuumed, {d.seconds:.1f} s")
    made = _timed("snapshot export", lambda: snapshot.export(store))
    print(f"  rows {made.rows}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if not args.out:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
