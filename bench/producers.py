"""The extraction scoring matrix: every source document × every everyday producer × a few page styles.

    .venv/bin/python bench/producers.py            # the whole matrix (~10–20 min the first time)
    .venv/bin/python bench/producers.py --quick    # three generated sources and the Shanghai page, two styles (~2 min the first time)
    .venv/bin/python bench/producers.py --cases    # also one line per case that is not exact
    .venv/bin/python bench/producers.py --producers chromium_viewer,weasyprint_viewer   # only these columns

Sources are this project's own documents: data models of `tests/fixtures/generate.py` (the 2021
template with distinct numbers per column and everywhere, 5–6 digit numbers, the 2019 format with
units and signed changes, 2021_mixed, blanks/dashes/无, the source's own arithmetic errors, a small
agency's sparse table 三 of mostly zeros in two draws, and a third whose zeros are printed empty) and the
shared samples where a producer applies (the Shanghai HTML page through every HTML producer; the
PDFs through `pdftotext` with and without `-layout`; the synthetic DOCX through LibreOffice). Producers: the HTML as is,
headless Chromium print-to-PDF, WeasyPrint, LibreOffice Writer/Web PDF, LibreOffice PDF of the DOCX,
the DOCX itself, pandoc HTML→DOCX, a browser copy (Chromium `innerText`), `pdftotext -layout` of the
LibreOffice PDF, a PDF viewer's copy (`pdftotext` without `-layout`) of the LibreOffice, Chromium and WeasyPrint
PDFs, the generator's web-copy text and Markdown. Page styles for the HTML producers: the
generator's page unstyled, narrow fixed columns, narrower columns with bottom-aligned cells, narrow
with top-aligned cells, US Letter with wide margins and a larger font.

The expected cells are the models' truth (`Report.expected_cells`) or the samples' expected.json
with blanks.json. Per producer it prints: cells right, not_found, WRONG (a number where the truth
differs: another value, or a number where the source prints a blank, dash or text), wrong status
(any other difference), reports exact, agency right, year right. Produced documents are cached in
`.work/producers/` under a digest of their input, so a rerun only extracts. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = FIXTURES / "samples"
CACHE = ROOT / ".work" / "producers"

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]  # this file is not the producers package
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(FIXTURES))

import generate  # noqa: E402  (tests/fixtures/generate.py)
from helpers import _cell_matches, load_expected  # noqa: E402
from producers import browser_copy, html_pdf, pandoc  # noqa: E402

generate.LO_PROFILE = "file:///tmp/lo-profile-xxgk-producers-bench"  # not the generator's profile

HTML_PRODUCERS = ["html", "chromium", "weasyprint", "writer_web", "browser", "pandoc", "chromium_viewer",
                  "weasyprint_viewer"]  # fmt: skip
MODEL_PRODUCERS = ["lo_pdf", "docx", "pdftotext_layout", "lo_viewer", "text", "markdown"]
PRODUCERS = HTML_PRODUCERS + MODEL_PRODUCERS
EXT = {"html": "html", "chromium": "pdf", "weasyprint": "pdf", "writer_web": "pdf", "browser": "txt",
       "pandoc": "docx", "lo_pdf": "pdf", "docx": "docx", "pdftotext_layout": "txt", "text": "txt", "markdown": "md",
       "chromium_viewer": "txt", "weasyprint_viewer": "txt", "lo_viewer": "txt"}  # fmt: skip
PDFTOTEXT = {"pdftotext_layout": ("lo_pdf", True), "lo_viewer": ("lo_pdf", False), "chromium_viewer": ("chromium", False),
             "weasyprint_viewer": ("weasyprint", False)}  # fmt: skip
"""Producers that are pdftotext of another producer's PDF: (that producer, -layout). Without -layout
it is the text a PDF viewer copies."""


def _letter(page: str) -> str:
    styled = html_pdf.styled_html(page, **{**html_pdf.NARROW, "font_px": 16}, a4=False)
    return styled.replace("<style>\n", "<style>\n@page { size: Letter; margin: 25mm 30mm; }\n", 1)


STYLES: dict[str, Callable[[str], str]] = {
    "plain": lambda page: page,
    "narrow": lambda page: html_pdf.styled_html(page, **html_pdf.NARROW),
    "narrower_bottom": lambda page: html_pdf.styled_html(page, **{**html_pdf.NARROWER, "valign": "bottom"}),
    "narrow_top": lambda page: html_pdf.styled_html(page, **{**html_pdf.NARROW, "valign": "top"}),
    "letter_wide_margins": _letter,
}
"""Page styles of the HTML producers (the others print the generator's own layout)."""


def model_sources() -> dict[str, Any]:
    g = generate
    return {
        "t2021_column": g.base("t2021_column", "样例市交通运输局", 2022, "2021", seed=11),
        "t2021_global": g.base("t2021_global", "样例市水务局", 2023, "2021", seed=3103, distinct="global"),
        "t2021_large": g.base("t2021_large", "样例县财政局", 2024, "2021", seed=21, scale="large"),
        "t2019_units": g.report_2019("t2019_units", html_spans=True),
        "t2021_mixed": g.base("t2021_mixed", "样例市教育局", 2023, "2021_mixed", seed=13),
        "blanks_dashes": g.blanks_dashes_report("blanks_dashes"),
        "source_errors": g.source_errors_report("source_errors"),
        "t2021_sparse": g.sparse_report("t2021_sparse"),
        "t2021_sparse_b": g.sparse_report("t2021_sparse_b", seed=500),
        "t2021_sparse_blank": g.blank_zeros(g.sparse_report("t2021_sparse_blank", seed=701), 1.0, 701),
    }


QUICK_SOURCES = ["t2021_column", "t2019_units", "blanks_dashes", "sample:shanghai_office_2019_html"]
QUICK_STYLES = ["plain", "narrow"]


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8") if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:12]


class Case:
    def __init__(self, source: str, producer: str, style: str, expected: dict, path: Path) -> None:
        self.source, self.producer, self.style, self.expected, self.path = source, producer, style, expected, path


def _pdftotext(pdf: Path, out: Path, layout: bool) -> None:
    args = ["pdftotext", *(["-layout"] if layout else []), "-enc", "UTF-8", str(pdf), "-"]
    out.write_text(subprocess.run(args, check=True, capture_output=True, timeout=120).stdout.decode("utf-8"),
                   encoding="utf-8")  # fmt: skip


def build(sources: list[str], styles: list[str], quiet: bool, only: set[str] | None = None) -> list[Case]:
    """Every (source, producer, style) document of the producers `only` (default: all), made once and cached,
    with the PDFs a viewer copy is taken from; the cases to extract."""
    only = set(PRODUCERS) if only is None else only
    needed = only | {PDFTOTEXT[p][0] for p in only if p in PDFTOTEXT}
    docs = CACHE / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    models = model_sources()
    cases: list[Case] = []
    todo: dict[str, list[tuple[Path, Path]]] = defaultdict(list)  # producer -> (input, output)
    pages: dict[Path, str] = {}

    def want(producer: str, out: Path, src: Path | None = None) -> None:
        if producer in needed and not out.exists() and src is not None and (producer not in PDFTOTEXT or src.suffix == ".pdf"):
            todo[producer].append((src, out))  # pdftotext of another producer's PDF: made after it (below)

    for name in sources:
        if name.startswith("sample:"):
            folder = SAMPLES / name.split(":", 1)[1]
            expected = load_expected(folder)
            src = sorted(folder.glob("source.*"))[0]
            if src.suffix == ".html":
                page = src.read_text(encoding="utf-8")
                for style in styles:
                    styled = STYLES[style](page)
                    key = _digest(styled)
                    html = docs / f"{key}.html"
                    if not html.exists():
                        html.write_text(styled, encoding="utf-8")
                    for prod in HTML_PRODUCERS:
                        if prod in ("html", "pandoc") and style != "plain":
                            continue
                        out = html if prod == "html" else docs / f"{key}.{prod}.{EXT[prod]}"
                        want(prod, out, html)
                        cases.append(Case(name, prod, style, expected, out))
            elif src.suffix == ".pdf":
                for prod in ("pdftotext_layout", "lo_viewer"):  # the sample's own PDF, copied both ways
                    out = docs / f"{_digest(src.read_bytes())}.{prod}.txt"
                    want(prod, out, src)
                    cases.append(Case(name, prod, "-", expected, out))
            elif src.suffix == ".docx":
                key = _digest(src.read_bytes())
                docx = docs / f"{key}.docx"
                if not docx.exists():
                    shutil.copy(src, docx)
                out = docs / f"{key}.lo_pdf.pdf"
                want("lo_pdf", out, docx)
                cases.append(Case(name, "lo_pdf", "-", expected, out))
                cases.append(Case(name, "lo_viewer", "-", expected, docs / f"{key}.lo_viewer.txt"))
            continue
        rep = models[name]
        expected = {"agency": rep.agency, "year": rep.year, "format_version": rep.layout, "cells": rep.expected_cells()}
        page = generate.build_html(rep)
        for style in styles:
            styled = STYLES[style](page)
            key = _digest(styled)
            html = docs / f"{key}.html"
            if not html.exists():
                html.write_text(styled, encoding="utf-8")
            pages[html] = styled
            for prod in HTML_PRODUCERS:
                if prod in ("html", "pandoc") and style != "plain":
                    continue  # styles change the printed page, not the HTML a reader parses
                out = html if prod == "html" else docs / f"{key}.{prod}.{EXT[prod]}"
                want(prod, out, html)
                cases.append(Case(name, prod, style, expected, out))
        key = _digest(json.dumps(expected, sort_keys=True, ensure_ascii=False), page, "docx")
        docx = docs / f"{key}.docx"
        if not docx.exists() and needed & {"docx", "lo_pdf", "pdftotext_layout", "lo_viewer"}:
            generate.build_docx(rep, docx)
        cases.append(Case(name, "docx", "-", expected, docx))
        lo = docs / f"{key}.lo_pdf.pdf"
        want("lo_pdf", lo, docx)
        cases.append(Case(name, "lo_pdf", "-", expected, lo))
        cases.append(Case(name, "pdftotext_layout", "-", expected, docs / f"{key}.pdftotext_layout.txt"))
        cases.append(Case(name, "lo_viewer", "-", expected, docs / f"{key}.lo_viewer.txt"))
        for prod, make in (("text", generate.build_text), ("markdown", generate.build_markdown)):
            out = docs / f"{key}.{prod}.{EXT[prod]}"
            if prod in needed and not out.exists():
                out.write_text(make(rep), encoding="utf-8")
            cases.append(Case(name, prod, "-", expected, out))

    seen: set[Path] = set()  # a style that leaves a page unchanged makes the same document once
    cases = [c for c in cases if not (c.path in seen or seen.add(c.path))]
    todo = {p: list(dict.fromkeys(items)) for p, items in todo.items()}
    _produce(todo, quiet)
    # pdftotext of the PDFs made just above (LibreOffice's with -layout, the browsers' as a viewer copies)
    for c in cases:
        if c.producer in PDFTOTEXT and c.producer in only and not c.path.exists():
            pdf_producer, layout = PDFTOTEXT[c.producer]
            pdf = c.path.with_name(c.path.name.replace(f".{c.producer}.txt", f".{pdf_producer}.pdf"))
            _pdftotext(pdf, c.path, layout)
    return cases


def _produce(todo: dict[str, list[tuple[Path, Path]]], quiet: bool) -> None:
    def say(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    t0 = time.monotonic()
    for src, out in todo.get("pdftotext_layout", []):
        _pdftotext(src, out, layout=True)
    for src, out in todo.get("lo_viewer", []):
        _pdftotext(src, out, layout=False)
    for src, out in todo.get("pandoc", []):
        out.write_bytes(pandoc.to_docx(src.read_text(encoding="utf-8")))
    for src, out in todo.get("chromium", []):
        say(f"chromium {out.name}")
        browser_copy.print_pdf(src, out)
    for src, out in todo.get("weasyprint", []):
        say(f"weasyprint {out.name}")
        html_pdf.weasyprint_pdf(src, out)
    if todo.get("browser"):
        with browser_copy.Browser() as b:
            for src, out in todo["browser"]:
                out.write_text(b.inner_text(src), encoding="utf-8")
    for prod, html in (("writer_web", True), ("lo_pdf", False)):
        items = todo.get(prod, [])
        for i in range(0, len(items), 30):
            batch = items[i:i + 30]
            say(f"soffice {prod} × {len(batch)}")
            with tempfile.TemporaryDirectory(prefix="xxgk-producers-") as tmp:
                work = Path(tmp)
                files = []
                for src, out in batch:
                    f = work / out.name.split(".")[0]
                    f = f.with_suffix(src.suffix)
                    shutil.copy(src, f)
                    files.append((f, out))
                generate.soffice_pdf([f for f, _ in files], work, html=html)
                for f, out in files:
                    shutil.move(work / f"{f.stem}.pdf", out)
    if any(todo.values()):
        say(f"produced in {time.monotonic() - t0:.0f} s")


KINDS = ("right", "not_found", "wrong_number", "wrong_status")


def score(result: dict, expected: dict) -> dict[str, Any]:
    """Per-cell outcome counts of one case, and whether the report, agency and year are right."""
    counts = dict.fromkeys(KINDS, 0)
    misses: list[str] = []
    err = result.get("error")
    got = {(c["table"], c["row"], c["col"]): c for c in result.get("cells") or []}
    for e in expected["cells"]:
        k = (e["table"], e["row"], e["col"])
        g = got.get(k)
        if g is not None and _cell_matches(e, g) is None:
            counts["right"] += 1
            continue
        if g is None or g.get("status") == "not_found":
            kind = "not_found"
        elif g.get("status", "reported") == "reported":
            kind = "wrong_number"
        else:
            kind = "wrong_status"
        counts[kind] += 1
        misses.append(f"{'/'.join(k)}:{kind}")
    agency_ok = not err and result.get("agency") == expected.get("agency")
    year_ok = not err and result.get("year") == expected.get("year")
    exact = counts["right"] == len(expected["cells"]) and agency_ok and year_ok
    return {**counts, "cells": len(expected["cells"]), "exact": exact, "agency_ok": agency_ok, "year_ok": year_ok,
            "error": (err or {}).get("type") if isinstance(err, dict) else err, "agency": result.get("agency"),
            "misses": misses}  # fmt: skip


def extract(path: Path) -> dict:
    from tasks.errors import XxgkError
    from tasks.extract import extract_path

    try:
        return extract_path(path).to_dict()
    except XxgkError as e:
        return {"error": {"type": e.type, "message": str(e)}}


def table(rows: list[tuple[str, dict]]) -> str:
    head = "| producer | cases | cells right | not_found | WRONG | wrong status | reports exact | agency right | year right |"
    out = [head, "|---|---|---|---|---|---|---|---|---|"]
    for name, t in rows:
        pct = 100 * t["right"] / t["cells"] if t["cells"] else 0.0
        out.append(f"| {name} | {t['cases']} | {t['right']}/{t['cells']} ({pct:.2f} %) | {t['not_found']} | "
                   f"{t['wrong_number']} | {t['wrong_status']} | {t['exact']}/{t['cases']} | {t['agency_ok']}/{t['cases']} | "
                   f"{t['year_ok']}/{t['cases']} |")  # fmt: skip
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="three generated sources and the Shanghai page, two page styles")
    ap.add_argument("--cases", action="store_true", help="one line per case that is not exact")
    ap.add_argument("--json", type=Path, help="write every case's score here")
    ap.add_argument("--producers", help="comma-separated producers to extract (default: all)")
    args = ap.parse_args(argv)
    only = set(args.producers.split(",")) if args.producers else set(PRODUCERS)
    if only - set(PRODUCERS):
        ap.error(f"unknown producers: {', '.join(sorted(only - set(PRODUCERS)))}")
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # "Could not get FontBBox…" on every Chromium font
    if args.quick:
        sources, styles = QUICK_SOURCES, QUICK_STYLES
    else:
        sources = [*model_sources(), "sample:shanghai_office_2019_html", "sample:hongze_2024_pdf",
                   "sample:synthetic_2021_pdf", "sample:synthetic_2021_docx"]  # fmt: skip
        styles = list(STYLES)
    cases = [c for c in build(sources, styles, quiet=False, only=only) if c.producer in only]
    totals: dict[str, dict] = {}
    scores = []
    t0 = time.monotonic()
    for c in cases:
        s = score(extract(c.path), c.expected)
        scores.append((c, s))
        t = totals.setdefault(c.producer, {**dict.fromkeys(KINDS, 0), "cells": 0, "cases": 0, "exact": 0,
                                           "agency_ok": 0, "year_ok": 0})  # fmt: skip
        for k in (*KINDS, "cells"):
            t[k] += s[k]
        t["cases"] += 1
        t["exact"] += s["exact"]
        t["agency_ok"] += s["agency_ok"]
        t["year_ok"] += s["year_ok"]
    all_t = {k: sum(t[k] for t in totals.values()) for k in next(iter(totals.values()))}
    rows = [(p, totals[p]) for p in PRODUCERS if p in totals] + [("**all**", all_t)]
    print(table(rows))
    print(f"\n{len(cases)} cases, extracted in {time.monotonic() - t0:.0f} s")
    if args.cases:
        for c, s in scores:
            if not s["exact"]:
                what = s["error"] or f"{s['right']}/{s['cells']} right, agency {s['agency']!r}"
                print(f"- {c.source} × {c.producer} × {c.style}: {what}; {' '.join(s['misses'][:6])}"
                      f"{' …' if len(s['misses']) > 6 else ''}  [{c.path.relative_to(ROOT)}]")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps([{"source": c.source, "producer": c.producer, "style": c.style,
                                          "path": str(c.path), **s} for c, s in scores], ensure_ascii=False, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
