"""Memory and orchestration shape of a 10,000-report run through the real ingest flow.

    .venv/bin/python bench/memory_10k.py [--n 10000] [--pdf-share 0.1] [--batch-size 500]

Prints figures; asserts nothing. The source folder (cached in .work/bench-10k/) holds N reports:
cheap media built by the fixture generator (HTML, text, Markdown, one in eight DOCX) with a
distinct agency and year each (1,500 agencies × 2019–2024, so the dataset grows with the run;
DOCX: 16 distinct documents and copies of them with a zip comment, as python-docx takes seconds
per document), plus `--pdf-share` of them as the corpus PDFs of bench/corpus.py repeated with
distinct bytes (a PDF comment after %%EOF: each copy is a new upload of the same agency and year,
a correction that supersedes the previous one).

`xxgk ingest SRC --output DEST` runs as a subprocess with XXGK_BATCH_SIZE (default 500) and
PREFECT_HOME in a temp dir. The RSS of the flow process, its extraction workers and the temporary
Prefect server is sampled every second (from /proc) and printed when 10 %, 50 % and 100 % of the
reports are durably ingested (counted from the ledger files each batch writes last), with the
number of flow runs and the largest number of task runs in one flow run, from the Prefect database.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from procmon import Sampler, mb, prefect_runs

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".work" / "bench-10k"
XXGK = str(Path(sys.executable).with_name("xxgk"))


DISTRICTS = ["城东区", "城西区", "城南区", "城北区", "新城区", "高新区", "开发区", "滨江区"]


def build_source(n: int, pdf_share: float) -> Path:
    src = WORK / f"src-{n}-{pdf_share:g}-v2"
    done = src / ".complete"
    if done.exists():
        return src
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    n_pdf = int(n * pdf_share)
    cdir = corpus.DEFAULT_DIR if (corpus.DEFAULT_DIR / "pdf").is_dir() else corpus.ensure(min(max(n_pdf, 2), 300), 0)
    pdfs = [p.read_bytes() for p in corpus.pdfs(cdir, 300)]  # whatever the corpus holds (built by pipeline_speed.py)
    gen = corpus._generator()
    t0 = time.perf_counter()
    docx: list[bytes] = []  # python-docx takes seconds per document: 16 distinct ones, copies with a zip comment
    for i in range(n - n_pdf):
        rep = corpus.report(gen, 20_000 + i)
        # a district per 1,800 reports: 1,500 agencies × 6 years, so the dataset grows with the run
        rep.agency = rep.agency.replace("市", "市" + DISTRICTS[(i // 1800) % len(DISTRICTS)], 1)
        kind = i % 8
        if kind == 7:
            if len(docx) < 16:
                gen.build_docx(rep, src / f"m{i:05d}.docx")
                docx.append((src / f"m{i:05d}.docx").read_bytes())
            else:
                (src / f"m{i:05d}.docx").write_bytes(_docx_copy(docx[i % 16], i))
        elif kind in (0, 3, 5):
            (src / f"m{i:05d}.html").write_text(gen.build_html(rep), "utf-8")
        elif kind in (1, 4, 6):
            (src / f"m{i:05d}.txt").write_text(gen.build_text(rep), "utf-8")
        else:
            (src / f"m{i:05d}.md").write_text(gen.build_markdown(rep), "utf-8")
        if i and i % 1000 == 0:
            print(f"source: {i} generated ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    for j in range(n_pdf):
        data = pdfs[j % len(pdfs)]
        (src / f"p{j:05d}.pdf").write_bytes(data + f"\n%xxgk-bench-copy-{j:06d}\n".encode())
    done.write_text("ok")
    return src


def _docx_copy(data: bytes, i: int) -> bytes:
    """The same document with distinct bytes: a zip archive comment (readers ignore it)."""
    import zipfile

    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        z.comment = f"xxgk-bench-copy-{i:06d}".encode()
    return buf.getvalue()


def ledger_reports(out: Path) -> int:
    """Reports durably ingested so far: rows of the ledger files (each batch writes one, last)."""
    import pyarrow.parquet as pq

    n = 0
    for f in (out / "state" / "ledger").glob("*.parquet"):
        with contextlib.suppress(Exception):  # a file being written
            n += pq.read_metadata(io.BytesIO(f.read_bytes())).num_rows
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--pdf-share", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--workers", type=int, default=0, help="XXGK_WORKERS (0 = unset: all cores)")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    src = build_source(args.n, args.pdf_share)
    files = len([p for p in src.iterdir() if not p.name.startswith(".")])
    home = Path(tempfile.mkdtemp(prefix="home-", dir=WORK))
    out = Path(tempfile.mkdtemp(prefix="out-", dir=WORK))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XXGK_", "PREFECT_"))}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
                "XXGK_BATCH_SIZE": str(args.batch_size)})
    if args.workers:
        env["XXGK_WORKERS"] = str(args.workers)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"source: {files} reports ({int(args.n * args.pdf_share)} PDFs, the rest HTML/text/Markdown/DOCX); "
          f"XXGK_BATCH_SIZE={args.batch_size}, XXGK_WORKERS={args.workers or 'unset'}")
    log = WORK / "ingest.log"
    marks = [0.1, 0.5, 1.0]
    print(f"{'ingested':>9} {'elapsed s':>9} {'tree RSS':>9} {'flow':>8} {'workers':>8} {'server':>8}   "
          f"(max so far: tree, flow, workers, server)")
    since = time.time()
    with log.open("wb") as fh:
        w0 = time.perf_counter()
        proc = subprocess.Popen([XXGK, "ingest", str(src), "--output", str(out)], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, cwd=WORK)  # fmt: skip
        sampler = Sampler(proc.pid, every=1.0).start()
        peaks: dict[str, int] = {}
        while True:
            code = proc.poll()
            done = ledger_reports(out)
            last = sampler.samples[-1] if sampler.samples else None
            for smp in sampler.samples[-5:]:
                peaks["tree"] = max(peaks.get("tree", 0), smp.total)
                for k, v in smp.by_kind.items():
                    peaks[k] = max(peaks.get(k, 0), v)
            while marks and (done >= marks[0] * files or (code is not None and marks[0] >= 1.0)):
                m = marks.pop(0)
                by = last.by_kind if last else {}
                print(f"{done:9d} {time.perf_counter() - w0:9.0f} {mb(last.total if last else 0):>9} "
                      f"{mb(by.get('flow', 0)):>8} {mb(by.get('workers', 0)):>8} {mb(by.get('server', 0)):>8}   "
                      f"({mb(peaks.get('tree', 0))}, {mb(peaks.get('flow', 0))}, {mb(peaks.get('workers', 0))}, "
                      f"{mb(peaks.get('server', 0))})  [{int(m * 100)}%]", flush=True)
            if code is not None:
                break
            time.sleep(2)
        wall = time.perf_counter() - w0
        sampler.stop()
    time.sleep(1)
    runs = prefect_runs(home / "prefect.db", since)
    print(f"exit {code} after {wall:.0f} s ({files / wall:.1f} reports/s); ledger rows {ledger_reports(out)}")
    print(f"flow runs {runs['flow_runs']}, task runs {runs['task_runs']}, max task runs per flow run "
          f"{runs['max_task_runs_per_flow_run']}")
    kinds = ", ".join(f"{k} {v['count']}" for k, v in sorted(runs["by_kind"].items()))
    print(f"task runs by kind: {kinds}")
    # growth: the flow process RSS over time, in tenths of the run
    flow = [(s.t, s.by_kind.get("flow", 0)) for s in sampler.samples]
    if flow:
        tenth = [max(v for t, v in flow if t <= (k / 10) * flow[-1][0] + 1e-9) for k in range(1, 11)]
        print("flow process RSS, running max per tenth of the run: " + " ".join(mb(v) for v in tenth))
    print(f"peak RSS: tree {mb(sampler.peak())}; largest single process {mb(sampler.peak_process()[0])} "
          f"({sampler.peak_process()[1][:80]})")
    print(f"log: {log}; output kept in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
