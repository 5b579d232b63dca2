"""Test helpers: compare an extraction result with a fixture's expected.json, and verify that a generated
fixture really shows the layout variant its NOTES.md claims (checks.json)."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tasks.spec import t3

_OTHER_LEAVES = set(t3.OTHER_LEAVES)


# ----------------------------------------------------------------------------------------------------
# comparison
# ----------------------------------------------------------------------------------------------------


def _num(x: Any) -> Decimal | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        return Decimal(str(x))
    except (InvalidOperation, ValueError):
        return None


def load_expected(folder: Path) -> dict:
    """A fixture's expected.json, with the cells its blanks.json lists as printed empty turned into
    {"status": "blank", "value": null}. The shared samples' expected.json writes a printed blank as 0 (their
    README); their copies here carry blanks.json, checked against the source documents, so that every other 0 is
    compared as a printed 0."""
    import json

    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    blanks_file = folder / "blanks.json"
    if "error" in expected or not blanks_file.exists():
        return expected
    blanks = {(c["table"], c["row"], c["col"]) for c in json.loads(blanks_file.read_text(encoding="utf-8"))["cells"]}
    cells = []
    for c in expected["cells"]:
        k = (c["table"], c["row"], c["col"])
        if k in blanks:
            if c.get("status") is not None or _num(c.get("value")) != 0:
                raise ValueError(f"{folder.name}/blanks.json lists {k}, which expected.json gives as {c}")
            blanks.discard(k)
            c = {"table": c["table"], "row": c["row"], "col": c["col"], "status": "blank", "value": None}
        cells.append(c)
    if blanks:
        raise ValueError(f"{folder.name}/blanks.json lists cells expected.json does not have: {sorted(blanks)}")
    return {**expected, "cells": cells}


def _cell_matches(exp: dict, got: dict) -> str | None:
    """None if the result cell `got` is exactly expectation `exp` (status and value), else the difference. An
    expectation without status is a printed number: a blank never satisfies it, not even for 0."""
    gs, gv = got.get("status", "reported"), got.get("value")
    es = exp.get("status") or "reported"
    if gs != es:
        return f"expected status {es!r} (value {exp.get('value')!r}), got {gs!r} (value {gv!r}, raw {got.get('raw')!r})"
    if es != "reported":
        return None if gv is None else f"status {es!r} expects value null, got {gv!r}"
    ev = exp.get("value")
    if isinstance(gv, bool) or _num(gv) is None or _num(gv) != _num(ev):
        return f"expected {ev!r}, got {gv!r} (raw {got.get('raw')!r})"
    if isinstance(ev, int) and not isinstance(gv, int) and _num(gv) != _num(gv).to_integral_value():
        return f"expected integer {ev!r}, got {gv!r}"
    return None


def compare_with_expected(result: dict, expected: dict) -> list[str]:
    """Human-readable mismatches between an extraction result (spec §10 JSON) and an expected.json; [] = equal."""
    out: list[str] = []
    if "error" in expected:
        want = expected["error"]
        want_type = want.get("type") if isinstance(want, dict) else want
        err = result.get("error")
        if not err:
            n = len(result.get("cells") or [])
            return [f"expected error {want_type}, got a result with {n} cells"]
        got_type = err.get("type") if isinstance(err, dict) else err
        if got_type != want_type:
            msg = err.get("message") if isinstance(err, dict) else ""
            out.append(f"expected error {want_type}, got {got_type}: {msg}")
        return out
    if "error" in result:
        err = result["error"]
        return [
            (
                f"unexpected error {err.get('type') if isinstance(err, dict) else err}: "
                f"{err.get('message') if isinstance(err, dict) else ''}"
            )
        ]

    if result.get("agency") != expected.get("agency"):
        out.append(f"agency: expected {expected.get('agency')!r}, got {result.get('agency')!r}")
    if result.get("year") != expected.get("year"):
        out.append(f"year: expected {expected.get('year')!r}, got {result.get('year')!r}")
    if "format_version" in expected and result.get("format_version") != expected["format_version"]:
        out.append(f"format_version: expected {expected['format_version']!r}, got {result.get('format_version')!r}")

    cells = result.get("cells") or []
    keyf = lambda c: (c.get("table"), c.get("row"), c.get("col"))  # noqa: E731
    counts = Counter(keyf(c) for c in cells)
    got = {keyf(c): c for c in cells}
    for k, n in counts.items():
        if n > 1:
            out.append(f"{'/'.join(map(str, k))}: listed {n} times")
    exp_keys = set()
    for e in expected.get("cells") or []:
        k = keyf(e)
        exp_keys.add(k)
        name = "/".join(map(str, k))
        if k not in got:
            out.append(f"{name}: missing (expected {e.get('status') or e.get('value')!r})")
            continue
        diff = _cell_matches(e, got[k])
        if diff:
            out.append(f"{name}: {diff}")
    mixed = expected.get("format_version") == "2021_mixed"
    for k, c in got.items():
        if k in exp_keys:
            continue
        if mixed and k[0] == "t3" and k[1] in _OTHER_LEAVES and c.get("status") == "not_found":
            continue
        out.append(f"{'/'.join(map(str, k))}: unexpected cell (value {c.get('value')!r}, status {c.get('status')!r})")
    return out


# ----------------------------------------------------------------------------------------------------
# variant checks (checks.json written by tests/fixtures/generate.py)
# ----------------------------------------------------------------------------------------------------


def _pdf_lines(path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextLine

    def walk(o: Any):
        if isinstance(o, LTTextLine):
            yield o
        else:
            for ch in getattr(o, "_objs", None) or []:
                yield from walk(ch)

    return [[(ln.x0, ln.y0, ln.x1, ln.y1, ln.get_text().strip()) for ln in walk(p)]
            for p in extract_pages(str(path), laparams=LAParams(line_margin=0.3, char_margin=1.0))]


def _numbers_close(path: Path, left: str, right: str, max_gap_em: float) -> str | None:
    """None if some line of the PDF prints `left` directly followed by `right`, the gap between them
    positive but under `max_gap_em` ems (cells run together where no ruling parts them)."""
    from pdfminer.layout import LTChar

    seen = []
    for page in _pdf_objects(path):
        # lines: characters whose vertical centres lie within half a size of the line's first (digits and
        # CJK of one line sit on baselines a point apart)
        lines: list[list[Any]] = []
        for c in sorted((o for o in page if isinstance(o, LTChar) and o.get_text().strip()), key=lambda c: -(c.y0 + c.y1)):
            if lines and abs((lines[-1][0].y0 + lines[-1][0].y1) - (c.y0 + c.y1)) / 2 < c.size / 2:
                lines[-1].append(c)
            else:
                lines.append([c])
        lines = [sorted(line, key=lambda c: c.x0) for line in lines]
        chars = [c for line in lines for c in line]
        ends = {id(line[-1]) for line in lines}
        text = "".join(c.get_text() + ("\n" if id(c) in ends else "") for c in chars)
        chars = [c for c in chars for _ in range(2 if id(c) in ends else 1)]  # index by text position
        start = text.find(left + right)
        while start >= 0:
            a, b = chars[start + len(left) - 1], chars[start + len(left)]
            gap = b.x0 - a.x1
            if 0 < gap < max_gap_em * b.size:
                return None
            seen.append(round(gap / b.size, 2))
            start = text.find(left + right, start + 1)
    return f"{left!r} then {right!r} not printed within {max_gap_em} em (gaps seen, in ems: {seen})"


def _pdf_objects(path: Path) -> list[list[Any]]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams

    def walk(o: Any):
        yield o
        for ch in getattr(o, "_objs", None) or []:
            yield from walk(ch)

    return [list(walk(p)) for p in extract_pages(str(path), laparams=LAParams())]


def _ns(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _source(folder: Path) -> Path:
    return next(folder.glob("source.*"))


def _plain_text(src: Path) -> str:
    if src.suffix == ".docx":
        with zipfile.ZipFile(src) as z:
            xml = z.read("word/document.xml").decode("utf-8")
        return re.sub(r"<[^>]+>", "", re.sub(r"</w:p>", "\n", xml))
    return src.read_text(encoding="utf-8")


def check_variant(folder: Path, check: dict) -> str | None:
    """None if the check holds for the fixture's source file, else what is wrong."""
    src = _source(folder)
    kind = check["check"]
    if kind.startswith("pdf_"):
        lines = _pdf_lines(src)
        pages_text = ["".join(_ns(t) for *_, t in pg) for pg in lines]
        raw_text = "\n".join(t for pg in lines for *_, t in pg)
        if kind == "pdf_different_pages":
            pa = [i + 1 for i, t in enumerate(pages_text) if _ns(check["a"]) in t]
            pb = [i + 1 for i, t in enumerate(pages_text) if _ns(check["b"]) in t]
            if not pa or not pb or min(pb) <= max(pa):
                return f"{check['a']!r} on pages {pa}, {check['b']!r} on pages {pb}: not split across pages"
            return None
        if kind == "pdf_lines_on_page":  # each text is a whole line of that page (1-based)
            page = {_ns(t) for *_, t in lines[check["page"] - 1]} if len(lines) >= check["page"] else set()
            missing = [t for t in check["texts"] if _ns(t) not in page]
            return None if not missing else f"not lines of page {check['page']}: {missing}"
        if kind == "pdf_footer_page_numbers":
            found = [t for pg in lines for *_, t in pg if re.fullmatch(r"-\s*\d+\s*-", t)]
            return None if len(found) >= 2 else f"page-number footers '- N -' found: {found}"
        if kind == "pdf_single_char_lines":
            singles = {t for pg in lines for *_, t in pg if len(t) == 1}
            missing = [c for c in check["chars"] if c not in singles]
            return None if not missing else f"characters not on lines of their own: {missing}"
        if kind == "pdf_text_contains":
            hay = raw_text if check.get("raw") else "".join(pages_text)
            needle = check["text"] if check.get("raw") else _ns(check["text"])
            return None if needle in hay else f"text {check['text']!r} not in the PDF text layer"
        if kind == "pdf_text_lacks":
            return None if _ns(check["text"]) not in "".join(pages_text) else f"text {check['text']!r} present"
        if kind == "pdf_regex":
            pat = re.compile(check["pattern"])
            return None if any(pat.search(t) for pg in lines for *_, t in pg) else f"no line matches {check['pattern']}"
        if kind == "pdf_wrapped_number":
            num = check["number"]
            return _wrapped(lines, num)
        if kind == "pdf_no_text":
            n = sum(len(t) for t in pages_text)
            return None if n == 0 else f"PDF has {n} text characters"
        if kind == "pdf_has_image":
            from pdfminer.layout import LTImage

            n = sum(isinstance(o, LTImage) for pg in _pdf_objects(src) for o in pg)
            return None if n else "no image in the PDF"
        if kind == "pdf_cut_column":  # rows' rulings end together at the right with no vertical ruling there
            return _cut_column(src)
        if kind == "pdf_numbers_close":  # `left` then `right` on one line, nearer than max_gap_em (no space's width)
            return _numbers_close(src, check["left"], check["right"], check["max_gap_em"])
        if kind == "pdf_no_ruling_table":
            from pdfminer.layout import LTCurve

            n = sum(isinstance(o, LTCurve) for pg in _pdf_objects(src) for o in pg)
            return None if n < 4 else f"{n} ruling lines/rects found: there is a table"
        return f"unknown check {kind}"
    if kind == "t_contains":
        return None if check["text"] in _plain_text(src) else f"{check['text']!r} not in {src.name}"
    if kind == "t_lacks":
        return None if check["text"] not in _plain_text(src) else f"{check['text']!r} found in {src.name}"
    if kind == "t_regex":  # the source text (exact, whitespace included) matches the pattern
        return None if re.search(check["pattern"], _plain_text(src)) else f"no match for {check['pattern']!r} in {src.name}"
    if kind == "html_body_lacks":  # not in the page's <body> (the <head>'s <title> may hold it)
        body = src.read_text(encoding="utf-8").split("<body>", 1)[-1]
        return None if check["text"] not in body else f"{check['text']!r} in the HTML body"
    if kind == "html_contains":
        return None if check["text"] in src.read_text(encoding="utf-8") else f"{check['text']!r} not in the HTML"
    if kind == "docx_empty_cells":
        with zipfile.ZipFile(src) as z:
            xml = z.read("word/document.xml").decode("utf-8")
        cells = re.findall(r"<w:tc>.*?</w:tc>", xml, flags=re.S)
        empty = [c for c in cells if not re.search(r"<w:t[ >]", c) and "vMerge" not in c]
        return None if len(empty) >= check["min"] else f"only {len(empty)} empty table cells"
    if kind == "docx_regex":  # word/document.xml matches the pattern (DOTALL)
        with zipfile.ZipFile(src) as z:
            xml = z.read("word/document.xml").decode("utf-8")
        found = re.search(check["pattern"], xml, flags=re.S)
        return None if found else f"document.xml does not match {check['pattern']}"
    if kind == "docx_vmerge":
        with zipfile.ZipFile(src) as z:
            xml = z.read("word/document.xml").decode("utf-8")
        return None if "<w:vMerge" in xml and "<w:gridSpan" in xml else "no vMerge/gridSpan merges in the DOCX"
    return f"unknown check {kind}"


def _cut_column(src: Path) -> str | None:
    """Some page has three or more horizontal rulings ending together at the right, beyond every vertical
    ruling across their rows (the last column's outer side is not drawn)."""
    from tasks.extract.pdf.geometry import merge_edges
    from tasks.extract.pdf.miner import iter_pages

    for content in iter_pages(src.read_bytes()):
        h, v = merge_edges(content.h_edges), merge_edges(content.v_edges)
        for x in sorted({round(e.hi, 1) for e in h}, reverse=True):
            ends = [e for e in h if abs(e.hi - x) <= 1.5]
            if len(ends) < 3:
                continue
            y0, y1 = min(e.pos for e in ends), max(e.pos for e in ends)
            across = [e for e in v if e.lo < y1 and e.hi > y0]
            if across and all(e.pos < x - 1.5 for e in across):
                return None
            break
    return "no page whose rulings end at the right without a vertical ruling there"


def _wrapped(pages: list, num: str) -> str | None:
    """The number must be printed over two (or more) lines in one cell: a line holding a proper prefix of it, the
    remaining digits on the line(s) right below at about the same x, and no line holding the whole number."""
    flat = [ln for pg in pages for ln in pg]
    if any(_ns(t) == num for *_, t in flat):
        return f"{num} printed on one line (not wrapped)"
    for pg in pages:
        for x0, y0, x1, y1, t in pg:
            t = _ns(t)
            if not t or not num.startswith(t) or t == num:
                continue
            rest = num[len(t):]
            below = sorted((ln for ln in pg if ln[3] <= y0 + 1 and ln[3] > y0 - 2.5 * (y1 - y0)
                            and abs((ln[0] + ln[2]) / 2 - (x0 + x1) / 2) < 15), key=lambda ln: -ln[3])
            if below and _ns(below[0][4]) == rest:
                return None
    return f"{num} not found wrapped over two lines"
