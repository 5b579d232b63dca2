"""Publishing a national year: synthetic reports into one year in batches, through the pipeline's own
publish interface, cross-year checks and quality pages included; seconds per batch as the year grows.

    .venv/bin/python bench/publish_year.py [--reports 150000] [--batch 500] [--previous-every 10]
                                           [--out DIR] [--keep]

Prints figures; asserts nothing. No Prefect, no extraction: every batch does what the publish side
of `flows/ingest.py` does for a batch of already extracted reports, calling `tasks/pipeline.py`:
`prepare`, the validation suites (`tasks.checks`, the stacked Great Expectations run),
`publish_batch` (the cross-year reads and rules where a previous year exists, and the rows of every
dataset), `write_quality` (the quality page of each agency of the batch, given the checks rows the
publish committed), `write_ledger` and `compact_fragmented` (the compaction of the year's `reports`
partition by the batch that finds it fragmented). Whatever `tasks/publish.py` writes on this checkout is what is measured.

The reports are one real extraction (the 2021 text sample, 200-odd cells) under a distinct agency
name and content hash each, with its numbers varied. First `--previous` reports (default: one
agency in `--previous-every`, spread over the whole year) are published into the year before, so
that the cross-year reads and rules (XY-*) have something to find all through the run; then
`--reports` into the year itself. Per batch: CPU seconds of each step (this process, its threads
included), and the batch's CPU and wall seconds; then, per tenth of the year, the mean seconds per
batch, and the last tenth against the first (the target of issue 11: no slower than 1.5×).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks import pipeline  # noqa: E402
from tasks.records import ObjectInfo  # noqa: E402
from tasks.storage import LocalStore  # noqa: E402

TEMPLATE = ROOT / "tests" / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
STEPS = ("prepare", "validate", "publish", "quality", "ledger", "compact")


def template() -> dict[str, Any]:
    from tasks.extract import extract_bytes

    return extract_bytes(TEMPLATE.read_bytes(), source=str(TEMPLATE)).to_dict()


def synthetic(base: dict[str, Any], n: int, year: int) -> pipeline.Extracted:
    """Report n of `year`: its own agency (a stable name per n) and content hash, numbers varied a little."""
    ex = copy.deepcopy(base)
    ex["agency"] = f"第{n:06d}号县人民政府"
    ex["year"] = year
    bump = n % 7
    for c in ex["cells"]:
        if c.get("status") == "reported" and isinstance(c.get("value"), int | float) and c["table"] == "t2":
            c["value"] = c["value"] + bump
            c["raw"] = str(c["value"])
    key = f"uploads/{year}/{n:06d}.txt"
    digest = hashlib.sha256(f"synthetic {year} {n}".encode()).hexdigest()
    info = ObjectInfo(key=key, size=10_000, last_modified=datetime(year + 1, 3, 1, tzinfo=UTC) + timedelta(seconds=n),
                      etag=digest[:32])  # fmt: skip
    return pipeline.Extracted(info, f"/bench/{key}", digest, ex)


def publish_one(dest: LocalStore, extracted: list[pipeline.Extracted]) -> dict[str, float]:
    from tasks.checks import validate_batch as run_suites

    t: dict[str, float] = {}
    c0 = time.process_time()

    def step(name: str, fn: Any, *a: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        out = fn(*a)
        t[name] = time.perf_counter() - w
        t[f"{name}_cpu"] = time.process_time() - c
        return out

    prepared = step("prepare", pipeline.prepare, extracted)
    validated = step("validate", run_suites, [ex for _, ex in prepared.reports])
    items = pipeline.publishables(prepared, validated)
    summary = step("publish", pipeline.publish_batch, dest, items, False)
    agencies = sorted({p.meta.agency_id for p in items if p.meta.agency_id})
    step("quality", pipeline.write_quality, dest, agencies, None, summary.checks)
    rows = pipeline.ledger_rows(extracted, prepared, summary, set(summary.withheld))
    step("ledger", pipeline.write_ledger, dest, pipeline.batch_id(e.info for e in extracted), rows)
    step("compact", pipeline.compact_fragmented, dest, items)  # one batch in XXGK_MAINTAIN_COMPACT_AFTER_FILES
    t["cpu"] = time.process_time() - c0
    t["published"] = len(summary.published)
    return t


def run_year(dest: LocalStore, base: dict[str, Any], numbers: list[int], year: int, batch: int,
             label: str) -> list[dict[str, float]]:  # fmt: skip
    out = []
    total = (len(numbers) + batch - 1) // batch
    print(f"\n## {label}: {len(numbers):,} reports into {year}, {total} batches of {batch} "
          f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    print("CPU seconds per step (the machine is shared: wall is printed in total only)")
    print(f"{'batch':>6} {'in year':>8} " + " ".join(f"{s:>9}" for s in STEPS) + f" {'CPU s':>7} {'wall s':>7}")
    for b in range(total):
        chunk = [synthetic(base, n, year) for n in numbers[b * batch : (b + 1) * batch]]
        w = time.perf_counter()
        t = publish_one(dest, chunk)
        t["total"] = time.perf_counter() - w
        t["in_year"] = b * batch
        out.append(t)
        print(f"{b + 1:6d} {b * batch:8,d} " + " ".join(f"{t[s + '_cpu']:9.2f}" for s in STEPS)
              + f" {t['cpu']:7.2f} {t['total']:7.2f}", flush=True)  # fmt: skip
    return out


def tenths(rows: list[dict[str, float]]) -> None:
    n = len(rows)
    parts = min(10, n)  # tenths; a run of fewer than 10 batches is shown batch by batch
    means = []
    print(f"{'part':>5} {'batches':>8} " + " ".join(f"{s:>9}" for s in STEPS) + f" {'CPU s':>7} {'wall s':>7}")
    keys = (*(f"{s}_cpu" for s in STEPS), "total", "cpu")
    for k in range(parts):
        part = rows[k * n // parts : (k + 1) * n // parts]
        mean = {s: sum(r[s] for r in part) / len(part) for s in keys}
        means.append(mean)
        print(f"{k + 1:5d} {len(part):8d} " + " ".join(f"{mean[s + '_cpu']:9.2f}" for s in STEPS)
              + f" {mean['cpu']:7.2f} {mean['total']:7.2f}")  # fmt: skip
    ratio = means[-1]["total"] / means[0]["total"]
    cpu_ratio = means[-1]["cpu"] / means[0]["cpu"]
    print(f"last / first {'tenth' if parts == 10 else 'batch'}, seconds per batch: {cpu_ratio:.2f}× CPU, "
          f"{ratio:.2f}× wall (target ≤ 1.5×)")


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=150_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--previous-every", type=int, default=10, help="one agency in N has a report the year before")
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one, removed)")
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="xxgk-publish-year-"))
    out.mkdir(parents=True, exist_ok=True)
    dest = LocalStore(str(out))
    import platform

    print(f"# {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · Python {platform.python_version()} · "
          f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())} · output {out}")
    w0 = time.perf_counter()
    base = template()
    print(f"template: {TEMPLATE.relative_to(ROOT)}, {len(base['cells'])} cells per report; tasks/publish.py as on this checkout")
    previous = list(range(0, a.reports, a.previous_every)) if a.previous_every else []
    try:
        if previous:
            seed = run_year(dest, base, previous, a.year - 1, a.batch, "the year before (seed)")
            print(f"seed: {sum(r['total'] for r in seed):.1f} s wall, {sum(r['cpu'] for r in seed):.1f} s CPU")
        rows = run_year(dest, base, list(range(a.reports)), a.year, a.batch, "the year")
        print("\n## per tenth of the year (mean CPU and wall seconds per batch)")
        tenths(rows)
        wall, cpu = sum(r["total"] for r in rows), sum(r["cpu"] for r in rows)
        per_step = ", ".join(f"{s} {sum(r[s + '_cpu'] for r in rows):.0f} s" for s in STEPS)
        print(f"the year: {len(rows)} batches, {sum(int(r['published']) for r in rows):,} reports published, "
              f"{wall:.1f} s wall ({wall / 60:.1f} min), {cpu:.1f} s CPU; "
              f"CPU: {per_step}")
        print(f"output on disk: {du(out) / 2**20:,.0f} MB; whole run {time.perf_counter() - w0:.0f} s; "
              f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if not a.keep and a.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"batches": len(rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
