"""OCR engines measured on scans made from this project's reports (tests/fixtures/producers/scans.py).

For each report, engine and scan variant (resolution, rotation, noise, JPEG quality, red seal, all at
once), one extraction with OCR on runs in a child process and prints:

- right: cells exactly as printed (status and value) and published;
- wrong: published cells that differ from the print (the figure that must be 0);
- refused: `ocr_unconfirmed` cells, and how many of their candidate readings were wrong (what
  the referee caught: wrong numbers the engine read and arithmetic refused);
- missing: cells whose row OCR could not place (not_found);
- agency/year right; seconds per page (wall and CPU of the child, OCR and referee included); peak
  memory (the child's max RSS).

    .venv/bin/python bench/ocr_engines.py                         # the default set (about 30 min on 2 cores)
    .venv/bin/python bench/ocr_engines.py --engines rapidocr --variants clean_200 office_200 --reports hongze
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "fixtures" / "producers")]

import scans  # noqa: E402
from helpers import load_expected  # noqa: E402

REPORTS = {
    "synthetic": ROOT / "tests" / "fixtures" / "samples" / "synthetic_2021_pdf",
    "hongze": ROOT / "tests" / "fixtures" / "samples" / "hongze_2024_pdf",
    "shanghai": ROOT / "tests" / "fixtures" / "samples" / "shanghai_office_2019_html",
    "blanks": ROOT / "tests" / "fixtures" / "generated" / "pdf_2021_blanks_dashes",
}
"""Reports scanned: a PDF is scanned as it is; a web page is first printed to PDF by headless
Chromium (a browser's "Save as PDF", `tests/fixtures/producers/browser_copy.py`), as an office prints
the page it then signs, stamps and scans."""
PRINTED = ROOT / ".work" / "ocr_bench"


def source_pdf(folder: Path) -> Path:
    """The report as a PDF to scan: its own, or its web page printed by Chromium (cached in .work/)."""
    if (folder / "source.pdf").exists():
        return folder / "source.pdf"
    import hashlib
    import importlib.util

    # by path: this folder's own producers.py (bench) shadows the tests' producers package
    spec = importlib.util.spec_from_file_location(
        "browser_copy", ROOT / "tests" / "fixtures" / "producers" / "browser_copy.py"
    )
    assert spec is not None and spec.loader is not None
    browser_copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browser_copy)

    page = (folder / "source.html").read_text("utf-8")
    if "charset" not in page[:1000].lower():  # a fragment, as the site's script holds it: say its encoding
        page = '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>' + page + "</body></html>"
    PRINTED.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(page.encode("utf-8")).hexdigest()[:16]
    out = PRINTED / f"{folder.name}.{key}.chromium.pdf"
    if not out.exists():
        html = PRINTED / f"{folder.name}.{key}.html"
        html.write_text(page, encoding="utf-8")
        browser_copy.print_pdf(html, out)
    return out


_CHILD = r"""
import json, resource, sys, time
from tasks.extract import extract_bytes, OcrOptions
from tasks.extract.ocr_images import Limits
engine, confirm, dpi, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
t, c = time.monotonic(), time.process_time()
opts = OcrOptions(engine=engine, confirm_engine=None if confirm == "same" else confirm, limits=Limits(dpi=dpi))
try:
    out = extract_bytes(data, ocr=opts).to_dict()
except Exception as exc:
    out = {"error": {"type": type(exc).__name__, "message": str(exc)}}
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
out["_wall"] = time.monotonic() - t
out["_cpu"] = time.process_time() - c + kids.ru_utime + kids.ru_stime
out["_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def run_one(pdf_bytes: bytes, engine: str, confirm: str, dpi: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf_bytes)
        f.flush()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, engine, confirm, str(dpi), f.name],
            capture_output=True, text=True, cwd=ROOT, timeout=3600,
        )  # fmt: skip
    if proc.returncode != 0:
        return {"error": {"type": "crash", "message": proc.stderr[-500:]}}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", nargs="*", default=["rapidocr", "tesseract"])
    ap.add_argument("--variants", nargs="*", default=[v.name for v in scans.VARIANTS])
    ap.add_argument("--reports", nargs="*", default=["synthetic"])
    ap.add_argument("--dpi", type=int, default=200, help="render resolution of the OCR reader")
    ap.add_argument("--confirm", default="auto", help="second-reading engine: auto (the other one), same, or a name")
    ap.add_argument("--json", help="also write every row to this JSON-lines file")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests" / "ocr"))
    from ocr_support import judge as judge_cells  # the tests' own comparison

    variants = {v.name: v for v in scans.VARIANTS}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; render {args.dpi} dpi", flush=True)
    head = (
        f"{'report':10} {'variant':11} {'engine':9} {'pages':>5} {'right':>6} {'wrong':>5} {'refused':>7} {'caught':>6} "
        f"{'missing':>7} {'ag/yr':>5} {'s/page':>7} {'cpu/page':>8} {'peak MB':>7}"
    )
    print(head, flush=True)
    for rname in args.reports:
        folder = REPORTS[rname]
        expected = load_expected(folder)
        for vname in args.variants:
            v = variants[vname]
            pdf = scans.scan_pdf(source_pdf(folder), v)
            for engine in args.engines:
                confirm = (
                    args.confirm if args.confirm != "auto" else ("tesseract" if engine == "rapidocr" else "rapidocr")
                )
                r = run_one(pdf, engine, confirm, args.dpi)
                if "error" in r:
                    print(
                        f"{rname:10} {vname:11} {engine:9} error {r['error']['type']}: {r['error']['message'][:100]}",
                        flush=True,
                    )
                    continue
                verdict = judge_cells(r, expected)
                readings = {}
                for issue in r["issues"]:
                    if issue["rule"] == "OCR-01":
                        readings.update(
                            {(c["table"], c["row"], c["col"]): c.get("reading") for c in issue.get("cells", [])}
                        )
                exp = {(c["table"], c["row"], c["col"]): c for c in expected["cells"]}
                caught = 0
                for k, reading in readings.items():
                    e = exp.get(k)
                    if e is None:
                        continue
                    want = "" if e.get("status") == "blank" else str(e.get("value"))
                    if str(reading) != want:
                        caught += 1
                agyr = "ok" if (r["agency"], r["year"]) == (expected["agency"], expected["year"]) else "NO"
                pages = r["pages"]
                row = {
                    "report": rname, "variant": vname, "engine": engine, "pages": pages,
                    "right": len(verdict["right"]), "wrong": len(verdict["wrong"]), "refused": len(verdict["refused"]),
                    "caught": caught, "missing": len(verdict["missing"]), "agency_year": agyr,
                    "s_per_page": r["_wall"] / pages, "cpu_per_page": r["_cpu"] / pages, "peak_mb": r["_rss_mb"],
                    "cells": len(expected["cells"]), "wrong_cells": verdict["wrong"][:10],
                }  # fmt: skip
                print(
                    f"{rname:10} {vname:11} {engine:9} {pages:5d} {row['right']:6d} {row['wrong']:5d} {row['refused']:7d} "
                    f"{caught:6d} {row['missing']:7d} {agyr:>5} {row['s_per_page']:7.1f} {row['cpu_per_page']:8.1f} "
                    f"{row['peak_mb']:7.0f}",
                    flush=True,
                )
                if verdict["wrong"]:
                    print("    wrong:", "; ".join(verdict["wrong"][:5]), flush=True)
                if args.json:  # appended row by row: a long run keeps what it measured
                    with open(args.json, "a", encoding="utf-8") as out:
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"done; load {os.getloadavg()[0]:.1f}; {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB peak child"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
