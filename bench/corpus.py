"""A benchmark corpus of varied reports, built with the fixture generator and cached.

    python bench/corpus.py [--pdf 300] [--other 60] [--dir .work/bench-corpus]

Reports are drawn from `tests/fixtures/generate.py`'s data model: agencies from a list of cities ×
departments, statistics years 2019–2024 (the 2019 format for 2019–2020, the 2021 format, and one
in twelve `2021_mixed` after that), numbers from `gen_values` with a seed per report, and varied
layouts (column widths, 5–6 digit numbers, 0–45 filler lines in section 一 so documents run 4–8
pages, body font size). PDFs are made the way agencies make them: DOCX → PDF with LibreOffice
(one in five from HTML instead, which embeds CFF fonts), in calls of 40 files. The two real sample
PDFs are copied in as well. Other media (HTML, DOCX, text, Markdown) go to `other/`.

Layout of the cache (reused when the manifest asks for at least as many files):

    <dir>/pdf/NNNN.pdf        <dir>/other/NNNN.{html,docx,txt,md}
    <dir>/expected/NNNN.json  the generator's expected cells (agency, year, format_version, cells)
    <dir>/manifest.json

Nothing here is a test; the benchmarks import `ensure(...)`.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_DIR = ROOT / ".work" / "bench-corpus"
BATCH = 40

CITIES = ["南京市", "苏州市", "无锡市", "常州市", "徐州市", "淮安市", "扬州市", "镇江市", "泰州市", "宿迁市",
          "盐城市", "连云港市", "南通市", "济宁市", "临沂市", "洛阳市", "襄阳市", "绵阳市", "赣州市", "桂林市"]
DEPARTMENTS = ["人民政府办公室", "自然资源和规划局", "市场监督管理局", "生态环境局", "教育局", "财政局",
               "卫生健康委员会", "交通运输局", "住房和城乡建设局", "民政局", "人力资源和社会保障局", "司法局",
               "农业农村局", "水务局", "文化广电和旅游局"]
WIDTHS = [
    None,
    [1.0, 1.4, 4.0, 1.35, 1.35, 1.35, 1.35, 1.35, 1.35, 1.35],
    [1.2, 1.6, 3.6, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1],
    [0.9, 1.5, 3.8, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.6],
]


def _generator() -> Any:
    # bench/producers.py (a module) would shadow tests/fixtures/producers (a namespace package)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    sys.modules.pop("producers", None)
    sys.path.insert(0, str(FIXTURES))
    import generate  # tests/fixtures/generate.py

    generate.LO_PROFILE = "file:///tmp/lo-profile-xxgk-bench"  # not the test generator's profile (concurrent soffice)
    return generate


def report(gen: Any, i: int) -> Any:
    """Report number i: a distinct (agency, year) for the first 1,800 numbers, varied numbers and layout."""
    rng = random.Random(10_000 + i)
    a = i // 6  # six consecutive numbers are one agency's years 2019–2024 (cross-year checks apply)
    agency = CITIES[a % len(CITIES)] + DEPARTMENTS[(a // len(CITIES)) % len(DEPARTMENTS)]
    year = 2019 + i % 6
    layout = "2019" if year <= 2020 else ("2021_mixed" if rng.random() < 1 / 12 else "2021")
    rep = gen.Report(
        name=f"r{i:05d}", agency=agency, year=year, layout=layout, seed=i,
        scale="large" if rng.random() < 0.15 else "normal",
        t3_widths=rng.choice(WIDTHS), pad_lines=rng.choice([0, 0, 5, 12, 20, 30, 45]),
        body_size=rng.choice([16, 16, 15, 14]),
    )  # fmt: skip
    gen.gen_values(rep)
    return rep


def _expected(gen: Any, rep: Any) -> dict[str, Any]:
    return {"agency": rep.agency, "year": rep.year, "format_version": rep.layout, "cells": rep.expected_cells()}


def _build_pdfs(gen: Any, numbers: list[int], out: Path, exp: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="xxgk-corpus-") as tmp:
        work = Path(tmp)
        docx, html = [], []
        for i in numbers:
            rep = report(gen, i)
            (exp / f"{i:04d}.json").write_text(json.dumps(_expected(gen, rep), ensure_ascii=False), "utf-8")
            if i % 5 == 4:
                p = work / f"{i:04d}.html"
                p.write_text(gen.build_html(rep), "utf-8")
                html.append(p)
            else:
                p = work / f"{i:04d}.docx"
                gen.build_docx(rep, p)
                docx.append(p)
        gen.soffice_pdf(docx, work)
        gen.soffice_pdf(html, work, html=True)
        for p in docx + html:
            shutil.move(str(work / f"{p.stem}.pdf"), out / f"{p.stem}.pdf")


def _build_other(gen: Any, numbers: list[int], out: Path, exp: Path) -> None:
    for i in numbers:
        rep = report(gen, i)
        (exp / f"{i:04d}.json").write_text(json.dumps(_expected(gen, rep), ensure_ascii=False), "utf-8")
        kind = i % 4
        if kind == 0:
            (out / f"{i:04d}.html").write_text(gen.build_html(rep), "utf-8")
        elif kind == 1:
            gen.build_docx(rep, out / f"{i:04d}.docx")
        elif kind == 2:
            (out / f"{i:04d}.txt").write_text(gen.build_text(rep), "utf-8")
        else:
            (out / f"{i:04d}.md").write_text(gen.build_markdown(rep), "utf-8")


def ensure(n_pdf: int, n_other: int = 0, directory: Path = DEFAULT_DIR, quiet: bool = False) -> Path:
    """The corpus folder holding at least `n_pdf` PDFs (the 2 real samples included) and `n_other` other files."""
    pdf, other, exp = directory / "pdf", directory / "other", directory / "expected"
    for d in (pdf, other, exp):
        d.mkdir(parents=True, exist_ok=True)
    for k, sample in enumerate(("hongze_2024_pdf", "synthetic_2021_pdf")):
        dst = pdf / f"s{k}.pdf"
        if not dst.exists():
            shutil.copyfile(FIXTURES / "samples" / sample / "source.pdf", dst)
    gen = None
    want = [i for i in range(max(0, n_pdf - 2)) if not (pdf / f"{i:04d}.pdf").exists()]
    t0 = time.perf_counter()
    for start in range(0, len(want), BATCH):
        gen = gen or _generator()
        chunk = want[start : start + BATCH]
        _build_pdfs(gen, chunk, pdf, exp)
        if not quiet:
            print(f"corpus: {start + len(chunk)}/{len(want)} PDFs built ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    base = 5000  # other media use report numbers 5000+ (different agencies/years mix from the PDFs)
    todo = [base + i for i in range(n_other) if not any(other.glob(f"{base + i:04d}.*"))]
    if todo:
        _build_other(gen or _generator(), todo, other, exp)
    (directory / "manifest.json").write_text(json.dumps({
        "pdf": len(list(pdf.glob("*.pdf"))), "other": len(list(other.iterdir())),
        "built": time.strftime("%Y-%m-%d %H:%M"),
    }, indent=1))  # fmt: skip
    return directory


def pdfs(directory: Path, n: int) -> list[Path]:
    """The first n PDFs of the corpus (the real samples first)."""
    return sorted((directory / "pdf").glob("*.pdf"), key=lambda p: (not p.stem.startswith("s"), p.stem))[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf", type=int, default=300)
    ap.add_argument("--other", type=int, default=60)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = ap.parse_args()
    d = ensure(args.pdf, args.other, args.dir)
    print(json.loads((d / "manifest.json").read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
