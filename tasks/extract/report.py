"""Understanding a report: title (agency, year), the six sections, the format version, and the
cell records of every cell the format prints (spec §2, §5, §10)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tasks.errors import NotAReport, ScannedDocument, TableNotFound
from tasks.extract.model import Document, Figure, Paragraph, Table
from tasks.extract.normalize import HEADING_PREFIX, norm
from tasks.extract.result import CellRecord, Issue
from tasks.extract.stream import labels_layout, read_t2_stream, read_t3_stream, read_t4_stream, reading_order
from tasks.extract.tables import (
    Printed,
    T2Result,
    T3Result,
    lines_of,
    read_t2,
    read_t3,
    read_t4,
    read_t4_headerless,
    read_t4_small_tables,
)
from tasks.extract.values import fits, parse_value
from tasks.spec import SECTIONS, CellKey, cell_keys, t3

TITLE = re.compile(r"政府信息公开(?:工作)?(?:年度)?(?:工作)?(?:年度)?报告")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")
_PERIOD = re.compile(r"((?:19|20)\d{2})年1月1日(?:起)?(?:至|到|-|—)(?:((?:19|20)\d{2})年)?12月31日")
_DATE = re.compile(r"((?:19|20)\d{2})[-年./](\d{1,2})[-月./](\d{1,2})")
_AGENCY_STRIP = "《》〈〉<>「」【】[]()（）:：,，、.。 \t\"'“”"
MIN_TEXT_CHARS_PER_PAGE = 20
"""A document with fewer characters of text than this per page has no usable text layer."""
TITLE_SEARCH_PARAGRAPHS = 80
MAX_UNDECODABLE_SHARE = 0.3
"""A PDF whose text is mostly unmapped glyphs ((cid:N), private-use codes) has no usable text layer."""
_CID = re.compile(r"\(cid:\d+\)")


# --------------------------------------------------------------------------------------------
# title, agency, year
# --------------------------------------------------------------------------------------------


def _paragraph_texts(doc: Document) -> list[tuple[str, int | None]]:
    return [(b.text, b.page) for b in doc.blocks if isinstance(b, Paragraph) and b.text.strip()]


_CN_DIGITS = str.maketrans("〇零○ＯO一二三四五六七八九", "00000123456789")
_CN_YEAR = re.compile(r"[〇零○一二三四五六七八九ＯO]{4}(?=年)")


def _clean(s: str) -> str:
    """No whitespace, width-folded, and years in Chinese numerals (二〇二一年) as digits."""
    s = "".join(unicodedata.normalize("NFKC", s).split())
    return _CN_YEAR.sub(lambda m: m.group(0).translate(_CN_DIGITS), s) if "年" in s else s


def _undecodable_share(doc: Document) -> float:
    """Share of the document's characters that are unmapped glyphs: "(cid:N)" as pdfminer writes a
    glyph with no Unicode mapping, or private-use code points."""
    texts = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    texts += [c.text for b in doc.blocks if isinstance(b, Table) for r in b.rows for c in r.cells]
    total = bad = 0
    for t in texts:
        cids = _CID.findall(t)
        rest = _CID.sub("", t)
        bad += len(cids) + sum(1 for ch in rest if 0xE000 <= ord(ch) <= 0xF8FF)
        total += len(cids) + sum(1 for ch in rest if not ch.isspace())
    return bad / total if total else 0.0


def find_title(doc: Document) -> tuple[str | None, int | None]:
    """The agency as printed in the title, and the year the title names.

    A title may wrap over two lines, put the agency on a line of its own above (or below)
    "2021年政府信息公开工作年度报告", or share its line with the site's furniture: breadcrumbs and
    navigation ("首页 > 政务公开 > 政府信息公开年报"), a page label ("标题："), a bullet. The agency is
    the name the title prints and nothing else (`agency_name`). The first candidate naming both an
    agency and a year wins; one naming only one of them is kept as a fallback.
    """
    paras = [_clean(t) for t, _ in _paragraph_texts(doc)[:TITLE_SEARCH_PARAGRAPHS]]
    fallback: tuple[str | None, int | None] = (None, None)
    for i, p in enumerate(paras):
        for text in (p, p + paras[i + 1] if i + 1 < len(paras) else ""):
            m = TITLE.search(text)
            if not m or m.start() > 60 or len(text) > 120:
                continue
            head = text[: m.start()]
            if i > 0 and _split_title(head)[0] is None and len(paras[i - 1]) <= 40 and not TITLE.search(paras[i - 1]):
                head = paras[i - 1] + head
            agency, year = _split_title(head)
            if year is None:  # "…年度报告（2021年度）"
                tail = _YEAR.search(text[m.end() : m.end() + 14])
                year = int(tail.group(1)) if tail else None
            if agency is None and text is p and i + 1 < len(paras) and len(paras[i + 1]) <= 40:
                agency = agency_name(paras[i + 1])  # the agency on the line below the title
            if agency and year:
                return agency, year
            if fallback == (None, None):
                fallback = (agency, year)
            break
    return fallback


_AGENCY_END = re.compile(
    r"(政府|办公室|办公厅|局|委员会|委|厅|部|院|中心|办事处|街道|镇|乡|管委会|管理委员会|办|署|会|所|队|站|馆|处|司|室|社|团|行|组|区|县|市|州|盟|旗|省)$"
)
_FURNITURE_SEP = re.compile(r"[>›»→|/\\:：]")
"""Breadcrumb separators (首页 > 政务公开 > …) and a label's colon (标题：…): the name is what follows the last."""
_SITE_WORDS = re.compile(
    r"^(?:网站首页|首页|主页|当前位置|您的位置|您当前的位置|您现在的位置|当前页|位置|"
    r"政务公开|政府信息公开|信息公开|政务信息|公开目录|法定主动公开内容|主动公开|专题专栏|专栏|栏目|"
    r"年度报告|工作年报|公开年报|年报|文章标题|信息名称|标题|题目|名称|主题)+"
)
"""Words of a government site's furniture (navigation, column and page labels) that precede a title on its
line; no agency's name starts with them."""
_PRINT_STAMP = re.compile(
    r"^\s*\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}[,，]?\s*(?:上午|下午)?\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
)
"""The date and time a browser prints before the page's title in its running header ("12/1/26, 10:37 PM")."""
_TAG = re.compile(r"^[\[【〔［][^\]】〕］]{0,12}[\]】〕］]")
"""A bracketed column tag before a title: 【年报】, [公开]."""
_CLOSING_NOTE = re.compile(r"[（(][^（()）]*[）)]$")
"""A name may end with a bracketed second name: 某某市人民政府办公室（市政务公开办）."""


def _looks_like_agency(name: str) -> bool:
    core = _CLOSING_NOTE.sub("", name)
    return 2 <= len(core) <= 50 and not re.search(r"[>›»|/]|首页|当前位置|您的位置", name) and bool(_AGENCY_END.search(core))


def _leading_marks(s: str) -> int:
    """How many characters at the start of `s` come before its first Chinese character: bullets (•·▪■★), list
    numbers, punctuation, and Latin text such as a printed page's running date (12/1/26, 10:41 PM); an agency's
    name starts with a Chinese character."""
    n = 0
    while n < len(s) and not ("\u4e00" <= s[n] <= "\u9fff" or "\u3400" <= s[n] <= "\u4dbf"):
        n += 1
    return n


def agency_name(text: str) -> str | None:
    """The agency's name in the part of a title line before (or after) its year, without the site's furniture
    around it: breadcrumbs and labels up to their last separator or colon, bullets and list marks, bracketed
    column tags, navigation and column words, quotes and brackets; None if what is left is not a name."""
    s = _FURNITURE_SEP.split(_PRINT_STAMP.sub("", _clean(text)))[-1]
    while True:
        start = s
        s = _SITE_WORDS.sub("", _TAG.sub("", s[_leading_marks(s) :]))
        if s == start:
            break
    s = s.removeprefix("关于").removesuffix("关于")
    note = m.group(0) if (m := _CLOSING_NOTE.search(s)) else ""
    s = s[: len(s) - len(note)].strip(_AGENCY_STRIP) + note
    return s if _looks_like_agency(s) else None


def _split_title(head: str) -> tuple[str | None, int | None]:
    """(agency, year) of the part of a title before 政府信息公开…报告: the name after the last year
    ("2019年上海市人民政府办公厅…"), else before it ("淮安市洪泽区人民政府2024年…")."""
    years = list(_YEAR.finditer(head))
    if not years:
        return agency_name(head), None
    m = years[-1]
    return (agency_name(head[m.end() :]) or agency_name(head[: m.start()])), int(m.group(1))


def find_year(doc: Document, sections: dict[str, str]) -> int | None:
    text = _clean(" ".join(t for t, _ in _paragraph_texts(doc)[:40]))
    m = _PERIOD.search(text)
    if m:
        return int(m.group(1))
    m = re.search(r"((?:19|20)\d{2})年度?(?:政府信息公开|工作)", text)
    if m:
        return int(m.group(1))
    dates = [int(d.group(1)) for d in _DATE.finditer(text)]
    return dates[0] - 1 if dates else None


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------


@dataclass
class Heading:
    section: int
    block: int
    page: int | None


def _heading_section(text: str) -> int | None:
    s = norm(text)
    if len(s) > 45 or not HEADING_PREFIX.match(s):
        return None
    for sec in SECTIONS:
        if any(all(w in s for w in words) for words in sec.keywords):
            return sec.number
    return None


def find_headings(doc: Document) -> list[Heading]:
    """The statutory headings in order: the first heading of each section after the previous one."""
    found: list[Heading] = []
    for i, b in enumerate(doc.blocks):
        if not isinstance(b, Paragraph):
            continue
        sec = _heading_section(b.text)
        if sec is None or any(h.section == sec for h in found):
            continue
        if found and sec < found[-1].section:
            continue
        found.append(Heading(sec, i, b.page))
    return found


def section_texts(doc: Document, headings: list[Heading]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, h in enumerate(headings):
        end = headings[k + 1].block if k + 1 < len(headings) else len(doc.blocks)
        parts = [b.text.strip() for b in doc.blocks[h.block : end] if isinstance(b, Paragraph)]
        out[str(h.section)] = "\n".join(p for p in parts if p)
    return out


# --------------------------------------------------------------------------------------------
# the whole report
# --------------------------------------------------------------------------------------------


@dataclass
class Understood:
    agency: str | None
    year: int | None
    format_version: str
    cells: list[CellRecord]
    issues: list[Issue]
    sections: dict[str, str]


def decide_format(t2_format: str | None, t3_layout: str | None, year: int | None) -> str:
    if t2_format == "2019":
        return "2019"
    if t2_format == "2021":
        return "2021_mixed" if t3_layout == "single" else "2021"
    if t3_layout == "2021":
        return "2021"
    if t3_layout == "single":
        return "2021_mixed" if year is not None and year >= 2021 else "2019"
    if t3_layout is None:
        return "unknown"
    return "2021" if year is None or year >= 2021 else "2019"


def _image_tables(doc: Document, headings: list[Heading]) -> set[str]:
    """Tables whose section holds a picture in place of a table (V10): a Figure block between the
    section's heading and the next one."""
    out: set[str] = set()
    by_section = {h.section: h for h in headings}
    for sec, table in ((2, "t2"), (3, "t3"), (4, "t4")):
        h = by_section.get(sec)
        if h is None:
            continue
        end = min((x.block for x in headings if x.section > sec), default=len(doc.blocks))
        if any(isinstance(b, Figure) for b in doc.blocks[h.block : end]):
            out.add(table)
    return out


def understand(doc: Document) -> Understood:
    if doc.text_chars < MIN_TEXT_CHARS_PER_PAGE * max(1, doc.pages - doc.skipped_pages):
        if doc.media == "pdf":
            raise ScannedDocument(
                f"no text layer: {doc.text_chars} characters of text on {doc.pages} page(s); "
                "the report is scanned or printed as pictures and needs OCR"
            )
        raise NotAReport(f"only {doc.text_chars} characters of text: not an annual report")
    garbled = _undecodable_share(doc)
    if doc.media == "pdf" and garbled > MAX_UNDECODABLE_SHARE:
        raise ScannedDocument(
            f"the text layer cannot be decoded: {garbled:.0%} of its characters are glyph ids with no Unicode "
            "mapping ((cid:N)) or private-use codes; the report needs OCR (or a PDF exported with embedded "
            "Unicode maps)"
        )
    headings = find_headings(doc)
    sections = section_texts(doc, headings)
    agency, year = find_title(doc)
    if year is None:
        year = find_year(doc, sections)

    lines = lines_of(doc)
    viewer = _viewer_copy(doc)
    t3r = read_t3(lines, confirmed=viewer)
    if doc.media == "text" and any(isinstance(b, Table) and b.positioned for b in doc.blocks):
        t3r = _blank_rows_confirmed(t3r)
    t4c = read_t4(lines) or read_t4_headerless(doc) or read_t4_small_tables(doc)
    t2r = read_t2(lines, confirmed=viewer)
    shown = None  # the table-三 layout a copy's labels show where its table 三 is not read
    if doc.media == "text" and not (t2r.cells and t3r.cells and t4c):
        # a copy that kept no rows (a PDF viewer's): the numbers in reading order, confirmed by identities
        flat = reading_order(doc)
        flat_headings = find_headings(flat)
        t3r, t4c = _from_reading_order(flat, flat_headings, t3r, t4c, viewer)
        at = {h.section: h.block for h in flat_headings}
        if t3r.layout not in ("2021", "single") and 3 in at and 4 in at:  # (None, or "unknown": rows with no （六）)
            shown = labels_layout(flat, at[3], at[4])
        if not t2r.cells or t2r.format is None:  # nothing, or rows under no header that names a format
            t2r = _t2_from_reading_order(flat, flat_headings, t2r)
    fmt = decide_format(t2r.format, shown or t3r.layout, year)

    found_any = bool(t2r.cells or t3r.cells or t4c)
    looks_like_report = (agency is not None and year is not None and _title_present(doc)) or len(headings) >= 3
    if not found_any:
        if not looks_like_report:
            raise NotAReport(
                "no report title (…政府信息公开工作年度报告), no statutory section headings and no statistical "
                "table: this is not a government information-disclosure annual report"
            )
        if not _image_tables(doc, headings):
            raise TableNotFound(
                "this is a disclosure report but none of its statistical tables (sections 二, 三, 四) "
                "could be read: no table with the official row and column labels was found"
            )
    if fmt == "unknown":
        fmt = "2021" if year is None or year >= 2021 else "2019"

    images = _image_tables(doc, headings)
    found: dict[str, dict[tuple[str, str], Printed]] = {"t2": t2r.cells, "t3": t3r.cells, "t4": t4c}
    cells = [_record(k, found[k.table].get((k.row, k.col)), k.table in images and not found[k.table]) for k in cell_keys(fmt)]
    issues = _title_issues(agency, year) + _structure_issues(fmt, headings, cells, images, t3r)
    return Understood(agency, year, fmt, cells, issues, sections)


def _blank_rows_confirmed(t3r: T3Result) -> T3Result:
    """Text laid out in character columns (`pdftotext -layout`) places a row's numbers by columns
    that shift from line to line: a row with an empty cell may have a number in its neighbour's
    column ("… 60 _ 2" read for "… 60 2 _"), or lose one. Such a row is kept only where its printed
    total is the sum of its printed parts (H3.3, an empty cell 0, a dash or 无 0), or its total
    alone is empty, every part printed, in a table printing half its rows or more so (the
    Shanghai pattern: the detail rows' totals empty); else its cells are not_found (a lone empty total may be a total wrapped
    over lines that were not read)."""
    total = t3.COLUMNS[-1].key
    parts = [c.key for c in t3.COLUMNS[:-1]]
    rows = {r for r, _ in t3r.cells}
    empty_totals = sum(1 for r in rows if (p := t3r.cells.get((r, total))) is not None and not p.raw.strip())
    drop = set()
    for row in rows:
        got = [p for c in [*parts, total] if (p := t3r.cells.get((row, c))) is not None]
        if len(got) < len(parts) + 1 or all(p.raw.strip() for p in got):  # a cell not read, or none empty
            continue
        if not got[-1].raw.strip():
            if empty_totals * 2 < len(rows) or not all(p.raw.strip() for p in got[:-1]):
                drop.add(row)
            continue
        nums = [parse_value(p.raw) for p in got]
        if any(st == "reported" and not isinstance(v, int) for v, st in nums):
            drop.add(row)
            continue
        vals = [v if st == "reported" and v is not None else 0 for v, st in nums]
        if vals[-1] != sum(vals[:-1]):
            drop.add(row)
    if not drop:
        return t3r
    cells = {k: v for k, v in t3r.cells.items() if k[0] not in drop}
    return T3Result(cells, t3r.layout if cells else None, len({k[0] for k in cells}))


def _t2_from_reading_order(doc: Document, headings: list[Heading], t2r: T2Result) -> T2Result:
    by_section = {h.section: h.block for h in headings}
    if 2 not in by_section or 3 not in by_section:
        return t2r
    cells, fmt = read_t2_stream(doc, by_section[2], by_section[3])
    return T2Result(cells, fmt) if cells else t2r


def _viewer_copy(doc: Document) -> bool:
    """Text copied from a PDF viewer (`text._read_viewer_copy`: every line a paragraph with its run)."""
    return doc.media == "text" and bool(doc.blocks) and all(isinstance(b, Paragraph) and b.run is not None for b in doc.blocks)


def _from_reading_order(
    doc: Document, headings: list[Heading], t3r: T3Result, t4c: dict[tuple[str, str], Printed], viewer: bool = False
) -> tuple[T3Result, dict[tuple[str, str], Printed]]:
    """Tables the line readers left unread, from the numbers in reading order. In a viewer's copy table
    三 is read so whenever rows are missing: the rows it confirms replace the lines' (confirmed by H3.3
    only), and the lines' other rows are kept."""
    by_section = {h.section: h.block for h in headings}
    if 4 not in by_section:
        return t3r, t4c
    if (not t3r.cells or viewer) and 3 in by_section:
        cells, layout = read_t3_stream(doc, by_section[3], by_section[4])
        if cells:
            streamed = {k[0] for k in cells}
            cells = {**{k: v for k, v in t3r.cells.items() if k[0] not in streamed}, **cells}
            t3r = T3Result(cells, layout, len({k[0] for k in cells}))
    if not t4c:
        t4c = read_t4_stream(doc, by_section[4], by_section.get(5))
    return t3r, t4c


def _title_issues(agency: str | None, year: int | None) -> list[Issue]:
    """META-01 when no title names the agency: the agency stays null (never taken from the body text or guessed)."""
    if agency is not None:
        return []
    found = "" if year is None else f" (the year {year} was read)"
    return [Issue("META-01", "error", "no title naming the agency (…政府信息公开工作年度报告) was found: agency is null"
                  + found)]


def _title_present(doc: Document) -> bool:
    return any(TITLE.search(_clean(t)) for t, _ in _paragraph_texts(doc)[:25])


def _record(key: CellKey, p: Printed | None, image_only: bool) -> CellRecord:
    if p is None:
        status = "image_only" if image_only else "not_found"
        return CellRecord(key.table, key.block, key.row, key.col, None, status, None, None, key.unit)
    value, status = parse_value(p.raw)
    if value is not None and not fits(value):  # published as printed text, never clipped or rounded
        value, status = None, "out_of_range"
    return CellRecord(key.table, key.block, key.row, key.col, value, status, p.raw, p.page, key.unit, p.bbox)


def _structure_issues(
    fmt: str, headings: list[Heading], cells: list[CellRecord], images: set[str], t3r: T3Result
) -> list[Issue]:
    issues: list[Issue] = []
    missing_sections = [s.numeral for s in SECTIONS if s.number not in {h.section for h in headings}]
    if missing_sections:
        issues.append(
            Issue("STRUCT-01", "warn", "section heading(s) not found in order: " + "、".join(missing_sections))
        )
    for table, name in (("t2", "section 二 (主动公开)"), ("t3", "section 三 (申请)"), ("t4", "section 四 (复议、诉讼)")):
        tcells = [c for c in cells if c.table == table]
        lost = [c for c in tcells if c.status in ("not_found", "image_only")]
        if fmt == "2021_mixed" and table == "t3":
            lost = [c for c in lost if c.row not in ("other_no_correction", "other_fee_unpaid", "other_other")]
        if not lost:
            continue
        if len(lost) == len(tcells):
            if table in images:
                msg = f"the table of {name} is printed as an image: its cells are image_only (needs OCR)"
            else:
                msg = f"the table of {name} was not found"
            issues.append(Issue("STRUCT-02", "error", msg))
        else:
            refs = [{"table": c.table, "row": c.row, "col": c.col} for c in lost]
            issues.append(Issue("STRUCT-02", "warn", f"{len(lost)} cell(s) of {name} not found", refs))
    if fmt == "2021_mixed":
        issues.append(
            Issue(
                "STRUCT-03",
                "warn",
                "2021 format with （六）其他处理 printed as one row (2021_mixed): read as other_total; "
                "its three sub-rows are not_found",
            )
        )
    return issues
