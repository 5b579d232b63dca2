"""Pipeline throughput: `xxgk ingest` end to end against pdfminer.six's `extract_pages` on the same PDFs.

    .venv/bin/python bench/pipeline_speed.py [--n 300] [--workers 1,2,0] [--batch-size 200] [--skip-stages]

Prints figures; asserts nothing. Four parts, each in its own fresh process:

1. reference: `pdfminer.high_level.extract_pages` over the N PDFs in one process (wall and CPU of the
   loop, and of the whole process including interpreter start and imports);
2. stages: a bench-only driver calling `tasks/pipeline.py` and `tasks/checks` directly, no Prefect,
   one process: read, extract, validate, write (parquet, quarantine, quality, ledger) and the index,
   per report, for the PDFs and for the other media of the corpus; peak RSS;
3. the real thing, the way a user runs it: `xxgk ingest SRC --output DEST` as a subprocess with
   XXGK_WORKERS=1, 2 and unset (all cores), PREFECT_HOME in a temp dir whose database was created by
   an earlier run (the cold first run is printed separately), wall time from process start to exit,
   RSS of the process tree sampled every 0.5 s, and the task runs the Prefect database recorded;
4. the ratios the issue sets as targets, and the orchestration share
   (CLI wall with one worker − the driver's stage total).

The corpus (N PDFs: the 2 real sample PDFs plus generated ones, and other media) is built once with
LibreOffice by bench/corpus.py and cached in .work/bench-corpus/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from procmon import Sampler, mb, prefect_runs

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
XXGK = str(Path(PY).with_name("xxgk"))
WORK = ROOT / ".work" / "bench-run"

REFERENCE = r"""
import io, json, sys, time, resource
w0, c0 = time.perf_counter(), time.process_time()
from pdfminer.high_level import extract_pages
paths = json.loads(sys.stdin.read())
pages = 0
w1, c1 = time.perf_counter(), time.process_time()
for p in paths:
    with open(p, "rb") as fh:
        data = fh.read()
    for _ in extract_pages(io.BytesIO(data)):
        pages += 1
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"pages": pages, "loop_wall": w2 - w1, "loop_cpu": c2 - c1, "import_wall": w1 - w0,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


# --------------------------------------------------------------------------------------------
# 2. the stage driver (runs in a child process: `pipeline_speed.py --stages SRC BATCH`)
# --------------------------------------------------------------------------------------------


def stages(src_dir: str, batch_size: int) -> dict[str, Any]:
    t = dict.fromkeys(
        (
            "import", "discover", "read", "extract", "extract_cpu", "prepare", "validate", "validate_gx_import",
            "write_parquet", "write_quality", "write_ledger", "index",
        ),
        0.0,
    )
    w0 = time.perf_counter()
    from tasks import pipeline
    from tasks.sandbox import extract_to_dict
    from tasks.settings import get_settings
    from tasks.storage import LocalStore

    t["import"] = time.perf_counter() - w0
    s = get_settings()
    strict, max_bytes = s.pipeline.strict, s.extract.max_bytes
    out_dir = tempfile.mkdtemp(prefix="xxgk-stages-")
    src, dest = LocalStore(src_dir), LocalStore(out_dir)

    def clock(key: str, fn: Any, *a: Any) -> Any:
        t0 = time.perf_counter()
        r = fn(*a)
        t[key] += time.perf_counter() - t0
        return r

    todo = clock("discover", pipeline.pending, src, dest)
    by_media: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    from tasks.checks import gx  # noqa: F401 - the import is a fixed cost of its own

    t["validate_gx_import"] = time.perf_counter() - t0
    for chunk in pipeline.batches(todo, batch_size):
        extracted = []
        for info in chunk:
            data = clock("read", src.get, info.key)
            w, c = time.perf_counter(), time.process_time()
            outcome = extract_to_dict(data, src.url(info.key), max_bytes)
            dw, dc = time.perf_counter() - w, time.process_time() - c
            t["extract"] += dw
            t["extract_cpu"] += dc
            by_media.setdefault(outcome.get("media") or "error", []).append(dw)
            import hashlib

            extracted.append(pipeline.Extracted(info, src.url(info.key), hashlib.sha256(data).hexdigest(), outcome))
        prepared = clock("prepare", pipeline.prepare, extracted, s.pipeline.agency_aliases)
        t0 = time.perf_counter()
        from tasks.checks import validate_batch

        validated = validate_batch([ex for _, ex in prepared.reports])  # cross-year checks: at publish
        t["validate"] += time.perf_counter() - t0
        items = pipeline.publishables(prepared, validated)
        summary = clock("write_parquet", pipeline.publish_batch, dest, items, strict)
        t0 = time.perf_counter()
        records = [q for _, q in prepared.quarantined]
        pipeline.write_quarantine(dest, records)
        agencies = sorted({p.meta.agency_id for p in items if p.meta.agency_id})
        pipeline.write_quality(dest, agencies)
        t["write_quality"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = pipeline.ledger_rows(extracted, prepared, summary, set(summary.withheld))
        pipeline.write_ledger(dest, pipeline.batch_id(e.info for e in extracted), rows)
        t["write_ledger"] += time.perf_counter() - t0
    clock("index", pipeline.write_index, dest)
    total = time.perf_counter() - w0
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"n": len(todo), "seconds": t, "total": total, "by_media": {k: [len(v), sum(v)] for k, v in by_media.items()},
            "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


# --------------------------------------------------------------------------------------------
# 3. the CLI
# --------------------------------------------------------------------------------------------


EXTRA_ENV: dict[str, str] = {}


def _env(home: Path, workers: int | None, batch_size: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XXGK_", "PREFECT_"))}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false"})
    if workers is not None:
        env["XXGK_WORKERS"] = str(workers)
    if batch_size is not None:
        env["XXGK_BATCH_SIZE"] = str(batch_size)
    env.update(EXTRA_ENV)
    return env


def cli_run(src: Path, home: Path, workers: int | None, batch_size: int | None, log: Path) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="xxgk-cli-out-", dir=WORK))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    since = time.time()
    with log.open("wb") as fh:
        w0 = time.perf_counter()
        proc = subprocess.Popen([XXGK, "ingest", str(src), "--output", str(out)], env=_env(home, workers, batch_size),
                                stdout=fh, stderr=subprocess.STDOUT, cwd=WORK)  # fmt: skip
        sampler = Sampler(proc.pid, every=0.5).start()
        code = proc.wait()
        wall = time.perf_counter() - w0
        sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    time.sleep(0.5)
    runs = prefect_runs(home / "prefect.db", since) if (home / "prefect.db").exists() else {}
    published = len(list((out / "state" / "ledger").glob("*.parquet"))) if (out / "state").exists() else 0
    shutil.rmtree(out, ignore_errors=True)
    peak_kind: dict[str, int] = {}
    for smp in sampler.samples:
        for k, v in smp.by_kind.items():
            peak_kind[k] = max(peak_kind.get(k, 0), v)
    return {"code": code, "wall": wall, "cpu": cpu, "peak": sampler.peak(), "peak_kind": peak_kind,
            "peak_proc": sampler.peak_process(), "runs": runs, "ledger_files": published, "cpu_kind": sampler.cpu_by_kind()}


def fresh_home(template: Path, name: str) -> Path:
    home = WORK / f"home-{name}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, ignore=shutil.ignore_patterns("*.log"))
    return home


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def child_json(args: list[str], stdin: str | None = None) -> tuple[dict[str, Any], float]:
    w0 = time.perf_counter()
    r = subprocess.run([PY, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - w0
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"child failed: {args[:2]}")
    return json.loads(r.stdout.strip().splitlines()[-1]), wall


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="PDFs in the corpus run (the 2 samples included)")
    ap.add_argument("--other", type=int, default=60, help="HTML/DOCX/text/Markdown reports for the stage split")
    ap.add_argument("--workers", default="1,2,0", help="XXGK_WORKERS values for the CLI runs (0 = unset: all cores)")
    ap.add_argument("--batch-size", type=int, default=None, help="XXGK_BATCH_SIZE for the CLI runs (default: the setting's default)")
    ap.add_argument("--corpus", type=Path, default=corpus.DEFAULT_DIR, help="corpus cache folder")
    ap.add_argument("--reports-per-task", type=int, default=None, help="XXGK_REPORTS_PER_TASK for the CLI runs")
    ap.add_argument("--skip-stages", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--stages", nargs=2, metavar=("SRC", "BATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stages:
        print(json.dumps(stages(args.stages[0], int(args.stages[1]))))
        return 0

    WORK.mkdir(parents=True, exist_ok=True)
    if args.reports_per_task is not None:
        EXTRA_ENV["XXGK_REPORTS_PER_TASK"] = str(args.reports_per_task)
    cdir = corpus.ensure(args.n, args.other, args.corpus)
    pdfs = corpus.pdfs(cdir, args.n)
    src = WORK / f"src-pdf-{len(pdfs)}"
    if not src.exists() or len(list(src.iterdir())) != len(pdfs):
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        for p in pdfs:
            shutil.copyfile(p, src / p.name)
    other = sorted((cdir / "other").iterdir())[: args.other]
    src_other = WORK / f"src-other-{len(other)}"
    if not src_other.exists() or len(list(src_other.iterdir())) != len(other):
        shutil.rmtree(src_other, ignore_errors=True)
        src_other.mkdir(parents=True)
        for p in other:
            shutil.copyfile(p, src_other / p.name)
    from tasks.settings import get_settings

    default_batch = get_settings().pipeline.batch_size
    batch = args.batch_size or default_batch
    cores = os.cpu_count() or 1
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()} · {cores} cores · Python {platform.python_version()} · "
          f"load average at start {loadavg()}")
    print(f"corpus: {len(pdfs)} PDFs ({cdir}/pdf, 2 real samples + generated via LibreOffice), "
          f"{len(other)} other reports (HTML/DOCX/text/Markdown); batch size {batch}"
          + (f"; XXGK_REPORTS_PER_TASK={args.reports_per_task}" if args.reports_per_task is not None else ""))

    # 1. reference
    ref, ref_proc_wall = child_json(["-c", REFERENCE], json.dumps([str(p) for p in pdfs]))
    pages = ref["pages"]
    print(f"\n## 1. pdfminer.six extract_pages, one process, {len(pdfs)} PDFs, {pages} pages "
          f"({pages / len(pdfs):.1f} pages per PDF)")
    print(f"loop: wall {ref['loop_wall']:.2f} s, CPU {ref['loop_cpu']:.2f} s = {ref['loop_wall'] / pages * 1000:.1f} ms/page wall; "
          f"whole process (start, import, loop, exit) {ref_proc_wall:.2f} s; peak RSS {mb(ref['maxrss'])}")
    ref_wall = ref["loop_wall"]

    # 2. stages
    st = None
    if not args.skip_stages:
        st, _ = child_json([__file__, "--stages", str(src), str(batch)])
        so, _ = child_json([__file__, "--stages", str(src_other), str(batch)])
        print(f"\n## 2. stages, no Prefect, one process (tasks/pipeline.py driven directly), batch size {batch}")
        print(f"{'stage':34} {'PDFs: total s':>13} {'ms/report':>10} {'share':>6}   {'other media: ms/report':>22}")
        n, no = st["n"], so["n"]
        rows = [("import (tasks, pyarrow)", "import"), ("discover (list + ledger)", "discover"), ("read", "read"),
                ("extract (wall)", "extract"), ("extract (CPU)", "extract_cpu"), ("prepare", "prepare"),
                ("import great_expectations", "validate_gx_import"), ("validate (stacked GX + checks)", "validate"),
                ("write parquet", "write_parquet"), ("write quality reports + quarantine", "write_quality"),
                ("write ledger", "write_ledger"), ("quality index", "index")]  # fmt: skip
        for label, k in rows:
            v, vo = st["seconds"][k], so["seconds"][k]
            share = "" if k == "extract_cpu" else f"{v / st['total'] * 100:5.1f}%"
            print(f"{label:34} {v:13.2f} {v / n * 1000:10.1f} {share:>6}   {vo / max(no, 1) * 1000:22.1f}")
        print(f"{'total (in process)':34} {st['total']:13.2f} {st['total'] / n * 1000:10.1f}        "
              f"{so['total'] / max(no, 1) * 1000:22.1f}")
        ext = st["seconds"]["extract_cpu"]
        print(f"extraction CPU vs pdfminer extract_pages CPU on the same PDFs: {ext:.2f} / {ref['loop_cpu']:.2f} s "
              f"= {ext / ref['loop_cpu']:.2f}×; {n / st['total']:.2f} reports/s in one process "
              f"({pages / st['seconds']['extract'] :.1f} pages/s extracting)")
        media = ", ".join(f"{k} {c} × {s / c * 1000:.0f} ms" for k, (c, s) in sorted(so["by_media"].items()))
        print(f"other media, extraction per report: {media}; peak RSS {mb(st['maxrss'])} (PDFs), {mb(so['maxrss'])} (other)")

    if args.skip_cli:
        return 0
    # 3. CLI
    template = WORK / "home-template"
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir()
    one = WORK / "src-one"
    shutil.rmtree(one, ignore_errors=True)
    one.mkdir()
    shutil.copyfile(pdfs[0], one / pdfs[0].name)
    empty = WORK / "src-empty"
    empty.mkdir(exist_ok=True)
    print("\n## 3. `xxgk ingest SRC --output DEST` (PREFECT_HOME in a temp dir, ephemeral Prefect server)")
    cold = cli_run(one, template, 1, None, WORK / "cli-cold.log")
    print(f"first run ever (creates the Prefect database), 1 PDF: {cold['wall']:.2f} s wall (exit {cold['code']})")
    e = cli_run(empty, fresh_home(template, "empty"), 1, None, WORK / "cli-empty.log")
    ck = e["cpu_kind"]
    print(f"nothing to ingest (start-up, server, flow run, index, exit): {e['wall']:.2f} s wall, {e['cpu']:.2f} s CPU "
          f"(flow {ck.get('flow', 0):.1f}, workers {ck.get('workers', 0):.1f}, server {ck.get('server', 0):.1f})")
    results: dict[int, dict[str, Any]] = {}
    print(f"{'XXGK_WORKERS':13} {'wall s':>7} {'CPU s':>7} {'reports/s':>9} {'/core':>6} {'× pdfminer':>10} "
          f"{'peak RSS tree':>13} {'flow':>7} {'workers':>8} {'server':>7}  task runs (flow runs, max per flow run); extract span")
    for w in [int(x) for x in args.workers.split(",")]:
        home = fresh_home(template, f"w{w}")
        r = cli_run(src, home, w or None, args.batch_size, WORK / f"cli-w{w}.log")
        results[w] = r
        eff = w or cores
        rps = len(pdfs) / r["wall"]
        runs = r["runs"]
        ex = runs.get("by_kind", {}).get("extract", {})
        span = (ex["last"] - ex["first"]) if ex.get("first") and ex.get("last") else float("nan")
        pk = r["peak_kind"]
        print(f"{(str(w) if w else 'unset (' + str(cores) + ')'):13} {r['wall']:7.2f} {r['cpu']:7.2f} {rps:9.2f} "
              f"{rps / min(eff, cores):6.2f} {r['wall'] / ref_wall:10.2f} {mb(r['peak']):>13} {mb(pk.get('flow', 0)):>7} "
              f"{mb(pk.get('workers', 0)):>8} {mb(pk.get('server', 0)):>7}  {runs.get('task_runs', '?')} "
              f"({runs.get('flow_runs', '?')}, {runs.get('max_task_runs_per_flow_run', '?')}); {span:.1f} s"
              + ("" if r["code"] in (0, 4) else f"  EXIT {r['code']} (see {WORK}/cli-w{w}.log)"))
        kinds = ", ".join(f"{k} {v['count']}×{v['seconds'] / max(v['count'], 1) * 1000:.0f} ms"
                          for k, v in sorted(runs.get("by_kind", {}).items()))
        print(f"{'':13} task runs recorded: {kinds}")
        ck = r["cpu_kind"]
        print(f"{'':13} CPU by process (last 0.5 s sample): flow {ck.get('flow', 0):.1f} s, extraction workers "
              f"{ck.get('workers', 0):.1f} s, Prefect server {ck.get('server', 0):.1f} s")

    # 4. targets
    print("\n## 4. targets (issue #1/#2), measured here; nothing asserted")
    if 1 in results:
        r1 = results[1]["wall"] / ref_wall
        print(f"one worker: pipeline {results[1]['wall']:.2f} s / pdfminer {ref_wall:.2f} s = {r1:.2f}× (target ≤ 1.15)")
    if 1 in results and 2 in results:
        sc = results[1]["wall"] / results[2]["wall"]
        print(f"two workers vs one: {sc:.2f}× the throughput end to end (target ≥ 1.8)")
    if 0 in results:
        r0 = results[0]["wall"] / ref_wall
        print(f"default (all {cores} cores): {results[0]['wall']:.2f} s / {ref_wall:.2f} s = {r0:.2f}× (target ≤ 0.8)")
    if st is not None and 1 in results:
        orch = results[1]["wall"] - st["total"]
        print(f"orchestration + start-up with one worker: CLI {results[1]['wall']:.2f} s − stages {st['total']:.2f} s = "
              f"{orch:.2f} s ({orch / results[1]['wall'] * 100:.0f}% of the run, {orch / len(pdfs) * 1000:.0f} ms/report)")
    print(f"load average at end {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
