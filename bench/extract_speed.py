"""Benchmark: milliseconds per page of the whole extraction vs pdfminer.six's own `extract_pages`.

Prints figures; asserts nothing. For each PDF (default: every PDF under tests/fixtures),
runs both interleaved, `--repeat` times after one warm-up, and reports medians of CPU
time (less sensitive to other load on the machine) and wall time.

    python bench/extract_speed.py [--repeat 5] [PDF ...]
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import time
from collections import deque
from pathlib import Path

from pdfminer.high_level import extract_pages

from tasks.extract import extract_bytes

ROOT = Path(__file__).resolve().parent.parent


def pdfminer_reference(data: bytes) -> int:
    """pdfminer.six's own `extract_pages` with its defaults, every page consumed."""
    pages = extract_pages(io.BytesIO(data))
    n = 0
    for _ in pages:
        n += 1
    return n


def whole_extraction(data: bytes) -> None:
    extract_bytes(data)


def timed(fn, data: bytes) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn(data)
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pdfs", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pdfs = args.pdfs or sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*.pdf"))
    print(f"# {time.strftime('%Y-%m-%d')} · {platform.machine()} · Python {platform.python_version()} · "
          f"{len(pdfs)} PDFs · medians of {args.repeat} interleaved runs (CPU ms per page; wall in brackets)")
    print(f"{'document':44} {'pages':>5} {'extraction':>18} {'extract_pages':>18} {'ratio':>6}")
    ratios = []
    tot = {"x": 0.0, "p": 0.0, "pages": 0}
    for pdf in pdfs:
        data = pdf.read_bytes()
        try:
            pages = pdfminer_reference(data)
            whole_extraction(data)
        except Exception as exc:  # noqa: BLE001 - an error fixture (any error): not a timing subject
            print(f"{pdf.parent.name:44} skipped ({type(exc).__name__})")
            continue
        xs: deque[tuple[float, float]] = deque()
        ps: deque[tuple[float, float]] = deque()
        for _ in range(args.repeat):
            xs.append(timed(whole_extraction, data))
            ps.append(timed(pdfminer_reference, data))
        xc, xw = (statistics.median(t[i] for t in xs) * 1000 / pages for i in (1, 0))
        pc, pw = (statistics.median(t[i] for t in ps) * 1000 / pages for i in (1, 0))
        ratios.append(xc / pc)
        tot["x"] += xc * pages
        tot["p"] += pc * pages
        tot["pages"] += pages
        print(f"{pdf.parent.name:44} {pages:5d} {xc:8.1f} ({xw:6.1f}) {pc:8.1f} ({pw:6.1f}) {xc / pc:6.2f}")
    if ratios:
        print(f"{'all documents (page-weighted)':44} {tot['pages']:5d} {tot['x'] / tot['pages']:8.1f} {'':8} "
              f"{tot['p'] / tot['pages']:8.1f} {'':8} {tot['x'] / tot['p']:6.2f}")
        print(f"ratio: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f} (target ≤ 1.2)")


if __name__ == "__main__":
    main()
