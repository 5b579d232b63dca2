"""Tables rebuilt from the order of their numbers (tasks/extract/stream.py), on the PDF viewer's copy
of the synthetic sample (tests/fixtures/generated/viewer_2021_synthetic_sample): a reading is taken
only where the identities confirm it; the rest is not_found, never guessed."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import load_expected

from tasks.extract import extract_bytes
from tasks.spec import t3, t4

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "generated" / "viewer_2021_synthetic_sample"
TEXT = (FOLDER / "source.txt").read_text(encoding="utf-8")


def _truth(folder: Path) -> dict[tuple[str, str, str], dict]:
    return {(c["table"], c["row"], c["col"]): c for c in load_expected(folder)["cells"]}


def _expected(cell: dict) -> tuple[str, object]:
    """(status, value) of an expected cell: one without a status is reported."""
    return cell.get("status", "reported"), cell.get("value")


TRUTH = _truth(FOLDER)


def _cells(text: str) -> dict[tuple[str, str, str], dict]:
    return {(c["table"], c["row"], c["col"]): c for c in extract_bytes(text.encode()).to_dict()["cells"]}


def _replace_line(text: str, old: str, new: str, nth: int = 0) -> str:
    lines = text.split("\n")
    at = [i for i, x in enumerate(lines) if x == old][nth]
    lines[at : at + 1] = [new] if new is not None else []
    return "\n".join(lines)


ART20_1 = [("t2", r, c) for r in ("regulations", "normative_documents") for c in ("issued", "abolished", "in_force")]


def _read_but_art20_1(got: dict[tuple[str, str, str], dict]) -> None:
    """Every cell read as printed but table 二's 规章 and 行政规范性文件: the copy prints their cells one per
    text block (`规章` / `2` / `1` / `37`), an order a viewer gives by its flows, not by x."""
    assert {k for k in TRUTH if got[k]["status"] == "not_found"} == set(ART20_1)
    assert all((got[k]["status"], got[k]["value"]) == _expected(v) for k, v in TRUTH.items() if k not in ART20_1)


def test_the_copy_is_read_but_for_table_2_rows_printed_one_cell_per_text_block() -> None:
    assert "\n规章\n\n{}\n\n{}\n\n{}\n\n".format(*(TRUTH[k]["value"] for k in ART20_1[:3])) in TEXT
    _read_but_art20_1(_cells(TEXT))


def test_numbers_swapped_inside_a_row_add_up_but_break_the_columns_so_nothing_is_taken() -> None:
    swapped = _replace_line(_replace_line(TEXT, "1404", "@@"), "151", "1404").replace("\n@@\n", "\n151\n")
    got = _cells(swapped)
    t3_cells = [c for k, c in got.items() if k[0] == "t3"]
    assert t3_cells and all(c["status"] == "not_found" for c in t3_cells)
    assert got[("t4", "admin_review", "total")]["value"] == TRUTH[("t4", "admin_review", "total")]["value"]


def test_a_number_missing_leaves_no_row_whose_column_order_nothing_checks() -> None:
    # the first "5" of the copy is in row 3.危及“三安全一稳定” (46 4 1 2 5 2 60): a cell printed blank leaves no trace.
    # The rows above it still add up at their places, but each prints its cells one per text block (an order a
    # viewer may change within the row without changing its sum) and, a row short, no column identity holds
    assert TRUTH[("t3", "denied_security_stability", "legal_service_org")]["value"] == 5
    assert "\n\n46\n\n4\n\n1\n\n2\n\n5\n\n2\n\n60\n\n" in TEXT
    got = _cells(_replace_line(TEXT, "5", None))
    assert all(c["status"] == "not_found" for k, c in got.items() if k[0] == "t3")
    assert got[("t4", "admin_review", "total")]["value"] == TRUTH[("t4", "admin_review", "total")]["value"]


def test_a_table_4_block_that_does_not_add_up_is_not_taken() -> None:
    total = str(TRUTH[("t4", "admin_review", "total")]["value"])
    got = _cells(_replace_line(TEXT, total, str(int(total) + 1), nth=-1))
    assert all(c["status"] == "not_found" for k, c in got.items() if k[0] == "t4")
    assert json.dumps(got[("t3", "new_received", "total")]["value"]) == json.dumps(TRUTH[("t3", "new_received", "total")]["value"])


def test_a_copy_without_page_breaks_is_read_the_same() -> None:
    """A viewer's copy with no form feeds is taken for cell-per-line rows by the text reader; its
    cells, in reading order, still give the tables."""
    _read_but_art20_1(_cells(TEXT.replace("\f", "")))


LO = Path(__file__).resolve().parents[1] / "fixtures" / "generated" / "viewer_2021_pagebreak_narrow"
LO_TEXT = (LO / "source.txt").read_text(encoding="utf-8")
LO_TRUTH = _truth(LO)
SPARSE_PLAIN = Path(__file__).resolve().parents[1] / "fixtures" / "generated" / "viewer_2021_weasyprint_sparse_plain"
def test_a_table_2_block_read_as_one_text_block_is_taken_row_by_row() -> None:
    """LibreOffice's PDF copied by a viewer: the labels of table 二 come first, then each block's
    caption, headers and numbers as one text block (read row by row)."""
    assert "第二十条第（一）项\n本年制发件数\n本年废止件数\n现行有效件数\n" in LO_TEXT
    got = _cells(LO_TEXT)
    assert [got[k]["value"] for k in ART20_1] == [LO_TRUTH[k]["value"] for k in ART20_1]


def test_a_table_2_block_whose_header_is_printed_elsewhere_is_not_taken() -> None:
    moved = LO_TEXT.replace("本年制发件数\n本年废止件数\n现行有效件数\n", "本年制发件数\n本年废止件数\n", 1)
    got = _cells(moved)
    assert all(got[k]["status"] == "not_found" for k in ART20_1)


def test_a_table_2_block_of_numbers_printed_one_block_each_is_not_taken() -> None:
    """Six numbers, each its own text block, could be two rows of three or three columns of two."""
    first = LO_TRUTH[ART20_1[0]]["value"]
    lines = LO_TEXT.split("\n")
    at = lines.index("现行有效件数", lines.index("第二十条第（一）项"))
    spaced = "\n".join(lines[: at + 1]) + "\n" + "\n\n".join(lines[at + 1 : at + 7]) + "\n" + "\n".join(lines[at + 7 :])
    assert f"\n\n{first}\n" not in LO_TEXT and str(first) == lines[at + 1]
    got = _cells(spaced)
    assert all(got[k]["status"] == "not_found" for k in ART20_1)


def test_a_table_2_row_is_read_by_its_label_only_where_its_numbers_are_in_x_order() -> None:
    """WeasyPrint's copy: each value its own text block, a row's first number on its label's line
    (`行政规范性文件 20`); each row is its label and the numbers up to the next label, read where they are
    on one line."""
    text = (SPARSE_PLAIN / "source.txt").read_text(encoding="utf-8")
    truth = _truth(SPARSE_PLAIN)
    reg, norm_docs = ([str(truth[k]["value"]) for k in ART20_1[i : i + 3]] for i in (0, 3))
    line = f"行政规范性文件 {norm_docs[0]}"
    printed = f"\n规章\n\n{reg[0]}\n\n{reg[1]}\n\n{reg[2]}\n\n{line}\n\n{norm_docs[1]}\n\n{norm_docs[2]}\n"
    assert printed in text
    # each value its own text block: the viewer gives them in its flow order, not by x, so neither row is read
    got = _cells(text)
    assert all(got[k]["status"] == "not_found" for k in ART20_1)
    # the same rows printed on their labels' lines (a line's words are in x order) are read
    line = f"行政规范性文件 {' '.join(norm_docs)}"
    joined = text.replace(printed, f"\n规章 {' '.join(reg)}\n\n{line}\n", 1)
    got = _cells(joined)
    assert [got[k]["value"] for k in ART20_1] == [truth[k]["value"] for k in ART20_1]
    # a word after the numbers: the line is no row's label, neither row's numbers are bounded
    worded = _cells(joined.replace(f"\n{line}\n", f"\n{line} 件\n", 1))
    assert all(worded[k]["status"] == "not_found" for k in ART20_1)


CAPTIONS = FOLDER.parent / "viewer_2019_weasyprint_sample_captions"
CAPTIONS_TEXT = (CAPTIONS / "source.txt").read_text(encoding="utf-8")
HEAD_5 = "信息内容\n\n上一年项目数量\n\n本年增/减\n\n处理决定数\n量\n\n"
BLOCK_5 = "行政许可\n\n0\n\n0\n\n0\n\n其他对外管理服务事项\n\n0\n\n0\n\n0\n\n"
ART20_5 = [("t2", r, c) for r in ("administrative_licensing", "other_admin_services")
           for c in ("prior_year_items", "items_change", "decisions")]


def test_a_table_2_block_whose_caption_comes_after_its_cells_is_read_by_its_header_and_rows_labels() -> None:
    """WeasyPrint's copy of the Shanghai page: every block's caption after all the blocks' cells; each block
    is its header, then each row's label and its numbers."""
    assert HEAD_5 + BLOCK_5 in CAPTIONS_TEXT
    assert CAPTIONS_TEXT.index("第二十条第（五）项") > CAPTIONS_TEXT.index(BLOCK_5)
    truth = _truth(CAPTIONS)
    got = _cells(CAPTIONS_TEXT)
    assert [got[k]["value"] for k in ART20_5] == [truth[k]["value"] for k in ART20_5] == [0] * 6
    # distinct numbers, each its own text block: their order within the row is the viewer's flow, not known
    blocks = CAPTIONS_TEXT.replace(BLOCK_5, "行政许可\n\n11\n\n12\n\n13\n\n其他对外管理服务事项\n\n14\n\n15\n\n16\n\n", 1)
    got = _cells(blocks)
    assert all(got[k]["status"] == "not_found" for k in ART20_5)
    got = _cells(CAPTIONS_TEXT.replace(BLOCK_5, DISTINCT_5, 1))  # each row on one line: read
    assert [got[k]["value"] for k in ART20_5] == [11, 12, 13, 14, 15, 16]


DISTINCT_5 = "行政许可\n\n11 12 13\n\n其他对外管理服务事项\n\n14 15 16\n\n"


def test_a_table_2_block_read_by_its_rows_labels_is_refused_when_its_shape_is_not_a_rows_print() -> None:
    distinct = DISTINCT_5
    changed = {
        # a number missing from the first row: the rows' counts do not fit
        "a number lost": HEAD_5 + distinct.replace(" 12 ", " ", 1),
        # no header between the last value before it and the first label: the labels may be a column
        "no header": distinct,
        # another block's row label among the header lines: labels printed as a column
        "another label": HEAD_5.replace("本年增/减", "行政处罚\n\n本年增/减") + distinct,
    }
    for why, block in changed.items():
        got = _cells(CAPTIONS_TEXT.replace(HEAD_5 + BLOCK_5, block, 1))
        assert all(got[k]["status"] == "not_found" for k in ART20_5), why


def test_a_table_2_block_whose_values_all_print_alike_is_read_in_any_order() -> None:
    """Six zeros, each its own text block, between a block's caption and the next: two rows of three or
    three columns of two read the same cells; one of them changed, they do not."""
    lines = LO_TEXT.split("\n")
    at = lines.index("现行有效件数", lines.index("第二十条第（一）项"))
    head, tail = "\n".join(lines[: at + 1]), "\n".join(lines[at + 7 :])
    assert lines[at + 7] == "第二十条第（五）项"
    got = _cells(head + "\n" + "\n\n".join(["0"] * 6) + "\n" + tail)
    assert [got[k]["value"] for k in ART20_1] == [0] * 6
    got = _cells(head + "\n" + "\n\n".join(["0"] * 5 + ["1"]) + "\n" + tail)
    assert all(got[k]["status"] == "not_found" for k in ART20_1)


SOURCE_ERRORS = FOLDER.parent / "viewer_2021_chromium_source_errors"
T4_KEYS = [("t4", r.key, c.key) for r in t4.ROWS for c in t4.COLUMNS]


def test_table_4_on_one_line_is_read_as_printed_where_a_block_does_not_add_up() -> None:
    """Chromium's copy prints table 四's fifteen numbers on one line: the row as printed, the source's
    行政诉讼 总计 of 0 beside non-zero parts included (the checks flag it)."""
    text = (SOURCE_ERRORS / "source.txt").read_text(encoding="utf-8")
    truth = _truth(SOURCE_ERRORS)
    line = " ".join(str(truth[k]["value"]) for k in T4_KEYS)
    assert f"\n{line}\n五、" in text and truth[("t4", "litigation_direct", "total")]["value"] == 0
    got = _cells(text)
    assert [got[k]["value"] for k in T4_KEYS] == [truth[k]["value"] for k in T4_KEYS]
    # the same numbers over two lines, or fourteen of them on the line: the order is no longer certain,
    # so the block that does not add up is not taken
    words = line.split()
    for changed in (" ".join(words[:7]) + "\n" + " ".join(words[7:]), " ".join(words[:3] + words[4:])):
        got = _cells(text.replace(f"\n{line}\n", f"\n{changed}\n", 1))
        assert all(got[("t4", "litigation_direct", c.key)]["status"] == "not_found" for c in t4.COLUMNS), changed


def test_numbers_after_section_4_without_a_table_4_header_are_not_taken() -> None:
    """Fifteen numbers after the section-四 heading that add up in threes are not table 四 unless its
    header (维持, 纠正, 审结 …) is printed before them: a report without table 四 keeps it not_found."""
    no_header = "\n".join(x for x in TEXT.split("\n") if not any(w in x for w in ("维持", "纠正", "审结")))
    got = _cells(no_header)
    assert all(c["status"] == "not_found" for k, c in got.items() if k[0] == "t4")
    assert got[("t3", "new_received", "total")]["value"] == TRUTH[("t3", "new_received", "total")]["value"]


def _swap_head(text: str) -> str:
    """Rows 一 and 二 lose their first numbers to each other: neither adds up any more."""
    return _replace_line(_replace_line(text, "1404", "@@"), "55", "1404").replace("\n@@\n", "\n55\n", 1)


def test_rows_in_their_own_places_are_taken_where_the_columns_confirm_them_when_the_head_is_out_of_order() -> None:
    rows = [r.key for r in t3.rows_for("2021")]
    got = _cells(_swap_head(TEXT))
    taken = [r for r in rows if got[("t3", r, "total")]["status"] != "not_found"]
    # (七) and the results' columns add up (H3.2), so their rows' cells are where the count puts them; 四's
    # columns are checked only with 一 and 二 (H3.1), which are not read: its one-per-block cells are not taken
    assert taken == rows[2:-1]
    for (table, row, col), c in got.items():
        if table == "t3" and c["status"] != "not_found":
            assert c["value"] == TRUTH[(table, row, col)]["value"], (row, col)


MID = Path(__file__).resolve().parents[1] / "fixtures" / "generated" / "viewer_2021_pagebreak_midgroup"
MID_TRUTH = _truth(MID)


MID_TEXT = (MID / "source.txt").read_text(encoding="utf-8")
MID_ROWS = [r.key for r in t3.rows_for("2021")]


def _mid_values(got: dict, rows: list[str]) -> list[list]:
    return [[got[("t3", r, c.key)]["value"] for c in t3.COLUMNS] for r in rows]


def test_rows_printed_column_by_column_and_a_staircase_of_blocks_are_read() -> None:
    """LibreOffice's PDF copied by a viewer: rows 11-13 and 23-25 of table 三 come as one text block
    per column; the first seven rows in two flows of blocks and single cells, where two grids add up
    row by row (a 39 in row 5 or in row 6) and one also by the columns."""
    assert "\n60\n17\n71\n\n29\n12\n45\n" in MID_TEXT
    got = _cells(MID_TEXT)
    assert _mid_values(got, MID_ROWS) == _mid_values(MID_TRUTH, MID_ROWS)


def test_a_staircase_that_fits_two_grids_is_not_taken_when_its_columns_cannot_be_checked() -> None:
    """The same copy with row 14's total printed one more (279 -> 280): that row is not confirmed, so the
    columns cannot be checked, and the first seven rows, which fit two grids, stay not_found; so do the rows
    at their places, whose cells are printed one per text block (their order within the row unconfirmed)."""
    assert MID_ROWS[13] == "unavailable_needs_creation"
    assert MID_TRUTH[("t3", MID_ROWS[13], "total")]["value"] == 279 and MID_TEXT.count("\n279\n") == 1
    assert _mid_values(_cells(MID_TEXT), MID_ROWS) == _mid_values(MID_TRUTH, MID_ROWS)  # whole without the change
    got = _cells(MID_TEXT.replace("\n279\n", "\n280\n"))
    assert all(got[("t3", r, c.key)]["status"] == "not_found" for r in MID_ROWS for c in t3.COLUMNS)
    assert got[("t4", "admin_review", "total")]["value"] == MID_TRUTH[("t4", "admin_review", "total")]["value"]


def test_numbers_on_a_line_of_a_wrapped_row_label_are_the_rows() -> None:
    # the label wrapped in a narrow label column with the row's first number on its last line
    # (WeasyPrint pages with cells aligned to the bottom): "新出具已获取信息 36"
    row = "not_processed_reconfirmation"
    assert TRUTH[("t3", row, "natural_person")]["value"] == 36
    moved = TEXT.replace("新出具已获取信息\n\n36\n", "新出具已获取信息 36\n")
    assert moved != TEXT
    got = _cells(moved)
    assert all(got[k]["value"] == v.get("value") for k, v in TRUTH.items() if k[0] == "t3")
    # a line of two characters ("信息 36") is too short to tell a label's piece from other text
    short = TEXT.replace("新出具已获取信息\n\n36\n", "新出具已获取\n信息 36\n")
    got = _cells(short)
    assert got[("t3", row, "natural_person")]["status"] == "not_found"
    assert all(c["value"] == TRUTH[k]["value"] for k, c in got.items() if k[0] == "t3" and c["status"] != "not_found")


ROW_SEC = "3.危及“三安全一稳定”\n\n46\n\n4\n\n1\n\n2\n\n5\n\n2\n\n60\n\n4.保护第三方合法权益"
AFTER_3 = "\n\n21\n\n6\n\n1\n\n2\n\n5\n\n1\n\n36\n\n"  # 8.属于行政查询事项, three rows below


def _t3_exact(got: dict) -> bool:
    return all((got[k]["status"], got[k]["value"]) == _expected(v)
               for k, v in TRUTH.items() if k[0] == "t3")


def test_a_rows_first_number_printed_after_its_total_is_placed() -> None:
    # a cell beside a taller block is printed after the rest of its row ("4 1 2 5 2 60" then "46")
    assert ROW_SEC in TEXT and AFTER_3 in TEXT
    late = TEXT.replace(ROW_SEC, ROW_SEC.replace("\n\n46\n", "\n") .replace("60\n\n", "60\n\n46\n\n"))
    assert late != TEXT
    assert _t3_exact(_cells(late))


def test_a_total_printed_rows_later_is_placed_and_a_wrong_one_is_not_taken() -> None:
    row = "4.保护第三方合法权益\n\n60\n\n10\n\n0\n\n0\n\n4\n\n0\n\n74\n\n5.属于三类内部事务信息"
    assert row in TEXT and TEXT.count(AFTER_3) == 1
    late = TEXT.replace(row, row.replace("\n\n74\n", "\n")).replace(AFTER_3, AFTER_3 + "74\n\n")
    assert _t3_exact(_cells(late))
    # the same copy with the late total one off: nothing adds up there, so the row is not_found and no cell wrong
    off = TEXT.replace(row, row.replace("\n\n74\n", "\n")).replace(AFTER_3, AFTER_3 + "75\n\n")
    got = _cells(off)
    assert got[("t3", "denied_third_party_rights", "total")]["status"] == "not_found"
    assert all(c["value"] == TRUTH[k]["value"] for k, c in got.items() if k[0] == "t3" and c["status"] != "not_found")


def test_two_cells_of_one_row_printed_late_are_not_placed() -> None:
    # at most one cell of a row waits: "1 2 5 2 60" then "46 4" is not read as the row
    late = TEXT.replace(ROW_SEC, ROW_SEC.replace("\n\n46\n\n4\n", "\n").replace("60\n\n", "60\n\n46\n\n4\n\n"))
    got = _cells(late)
    assert got[("t3", "denied_security_stability", "total")]["status"] == "not_found"
    assert all(c["value"] == TRUTH[k]["value"] for k, c in got.items() if k[0] == "t3" and c["status"] != "not_found")


WRAPPED = Path(__file__).resolve().parents[1] / "fixtures" / "generated" / "viewer_2021_chromium_numbers_wrapped"


def _paragraphs(*lines: str) -> list:
    from tasks.extract.model import Paragraph

    return [Paragraph(x, page=1, run=i) for i, x in enumerate(lines)]


def test_numbers_wrapped_in_their_cells_are_joined_only_where_one_joining_adds_up() -> None:
    from tasks.extract.stream import join_wrapped_cells

    row = "一、本年新收政府信息公开申请数 1180 1014 1295 1134 1102 1145 1749"
    got = join_wrapped_cells(_paragraphs(row, "量", "61 4 7 9 3 3 87", "二、上年结转"))
    assert [p.text for p in got] == ["一、本年新收政府信息公开申请数 118061 10144 12957 11349 11023 11453 174987", "量", "二、上年结转"]
    # a total alone wrapped: the one column its end makes the row add up in
    got = join_wrapped_cells(_paragraphs("二、上年结转政府信息公开申请数 8157 846 173 263 954 268 1066", "量", "1"))
    assert got[0].text.endswith(" 8157 846 173 263 954 268 10661") and len(got) == 2
    # ends one per line of one text block: as many lines as one joining takes; lines of another block are not ends
    from tasks.extract.model import Paragraph

    ends = [Paragraph("一、本年新收政府信息公开申 169 638 500 720 640 529 472", 1, 0), Paragraph("请数量", 1, 0),
            Paragraph("3", 1, 0), Paragraph("0", 1, 0), Paragraph("二、上年结转政府信息公开申 31 12 45 43 48 52 231", 1, 0)]
    assert [p.text for p in join_wrapped_cells(ends)] == [
        "一、本年新收政府信息公开申 1693 638 500 720 640 529 4720", "请数量", "二、上年结转政府信息公开申 31 12 45 43 48 52 231"]
    apart = [*ends[:3], Paragraph("0", 1, 1), ends[4]]  # the "0" after a blank line: a cell of its own
    assert [p.text for p in join_wrapped_cells(apart)] == [p.text for p in apart]
    # a row that adds up as printed keeps the next line's numbers for the next row
    adds = _paragraphs("1.属于国家秘密 7849 135 255 673 103 712 9727", "61 4")
    assert [p.text for p in join_wrapped_cells(adds)] == [p.text for p in adds]
    # two joinings add up (1 after the first or the second of two equal numbers): neither is taken
    two = _paragraphs("x 2 2 0 0 0 0 23", "1")  # 21 + 2 and 2 + 21
    assert [p.text for p in join_wrapped_cells(two)] == ["x 2 2 0 0 0 0 23", "1"]
    one = _paragraphs("x 2 3 0 0 0 0 26", "1")  # 21 + 3, 2 + 31, a total 261: none adds up
    assert [p.text for p in join_wrapped_cells(one)] == ["x 2 3 0 0 0 0 26", "1"]
    joined = _paragraphs("x 2 3 0 0 0 0 24", "1")  # only 21 + 3 = 24 (a printed 0 wraps into no "01")
    assert [p.text for p in join_wrapped_cells(joined)] == ["x 21 3 0 0 0 0 24"]
    # ends on the next page are not this row's
    other_page = [Paragraph(row, page=1, run=0), Paragraph("61 4 7 9 3 3 87", page=2, run=1)]
    assert [p.text for p in join_wrapped_cells(other_page)] == [row, "61 4 7 9 3 3 87"]


def test_a_copy_of_numbers_wrapped_in_their_cells_is_read_whole_and_a_wrong_joining_leaves_the_row() -> None:
    text = (WRAPPED / "source.txt").read_text(encoding="utf-8")
    truth = _truth(WRAPPED)
    got = _cells(text)
    assert all((got[k]["status"], got[k]["value"]) == _expected(v) for k, v in truth.items())
    # one end changed: no joining of 一's numbers adds up, and nothing of table 三 is read wrong
    assert "\n量\n61 4 7 9 3 3 87\n" in text
    got = _cells(text.replace("\n量\n61 4 7 9 3 3 87\n", "\n量\n61 4 7 9 3 3 88\n"))
    t3_cells = {k: c for k, c in got.items() if k[0] == "t3"}
    assert all(c["status"] == "not_found" for k, c in t3_cells.items() if k[1] == "new_received")
    assert all(c["value"] == truth[k]["value"] for k, c in t3_cells.items() if c["status"] != "not_found")


def test_a_label_line_naming_two_rows_gives_its_numbers_to_neither_row_of_the_lines() -> None:
    """'政府信息公开申请' is the last line of （六）1's label and a piece of 一's: a copy's line of it and
    another row's numbers is no row of the lines (the reading order may still place the numbers)."""
    from tasks.extract.report import _viewer_copy
    from tasks.extract.tables import lines_of, read_t3
    from tasks.extract.text import read_text

    folder = WRAPPED.parent / "viewer_2021_chromium_labels_bottom"
    doc = read_text((folder / "source.txt").read_bytes())
    assert _viewer_copy(doc)
    assert "\n政府信息公开申请 42 45 1 25 37 12 162\n" in (folder / "source.txt").read_text(encoding="utf-8")
    assert ("new_received", "total") in read_t3(lines_of(doc)).cells  # the lines alone take it for 一
    assert ("new_received", "total") not in read_t3(lines_of(doc), confirmed=True).cells
    truth = _truth(folder)
    got = _cells((folder / "source.txt").read_text(encoding="utf-8"))
    read = {k: c for k, c in got.items() if c["status"] != "not_found"}
    assert len(read) >= 30 and all(c["value"] == truth[k].get("value") for k, c in read.items())


def _drop_row(text: str, truth: dict, layout: str, row: str) -> str:
    """The copy with one table-三 row's seven numbers deleted (a row dropped, or printed empty): the copy
    prints table 三's numbers row by row, so row k's are the numbers 7k to 7k+6 after the section-三 heading."""
    lines = text.split("\n")
    start = lines.index("三、收到和处理政府信息公开申请情况")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("四、政府信息公开行政复议"))
    words = [(i, j) for i in range(start, end) for j, w in enumerate(lines[i].split()) if w.isdigit()]
    k = [r.key for r in t3.rows_for(layout)].index(row)
    mine = words[7 * k : 7 * k + 7]
    assert [int(lines[i].split()[j]) for i, j in mine] == [truth[("t3", row, c.key)]["value"] for c in t3.COLUMNS]
    for i in sorted({i for i, _ in mine}):
        lines[i] = " ".join(w for j, w in enumerate(lines[i].split()) if (i, j) not in mine)
    return "\n".join(lines)


def _no_cell_elsewhere(got: dict, truth: dict, dropped: str) -> None:
    for (table, row, col), c in got.items():
        if table == "t3" and c["status"] != "not_found":
            assert row != dropped and c["value"] == truth[(table, row, col)]["value"], (row, col, c["value"])


def test_a_row_dropped_moves_no_number_into_another_row() -> None:
    # every row below a dropped row's place would still add up one place higher: none is taken there
    for row in [r.key for r in t3.rows_for("2021")]:
        got = _cells(_drop_row(TEXT, TRUTH, "2021", row))
        _no_cell_elsewhere(got, TRUTH, row)
        assert got[("t4", "admin_review", "total")]["value"] == TRUTH[("t4", "admin_review", "total")]["value"]


HONGZE = Path(__file__).resolve().parents[1] / "fixtures" / "generated" / "viewer_2024_hongze_sample"


def test_a_row_of_zeros_dropped_moves_no_number_into_another_row() -> None:
    # the hongze copy (2021_mixed, mostly zeros) prints its first rows in order; 二、上年结转 is all zeros
    text = (HONGZE / "source.txt").read_text(encoding="utf-8")
    truth = _truth(HONGZE)
    assert all(truth[("t3", "carried_over", c.key)]["value"] == 0 for c in t3.COLUMNS)
    got = _cells(_drop_row(text, truth, "2021_mixed", "carried_over"))
    _no_cell_elsewhere(got, truth, "carried_over")
    assert got[("t4", "admin_review", "total")]["value"] == truth[("t4", "admin_review", "total")]["value"]


TOTALS_BLANK = FOLDER.parent / "viewer_2019_chromium_totals_blank"


def test_result_rows_printed_without_totals_are_read_by_the_identities() -> None:
    truth = _truth(TOTALS_BLANK)
    got = _cells((TOTALS_BLANK / "source.txt").read_text(encoding="utf-8"))
    t3_keys = [k for k in truth if k[0] == "t3"]
    assert {k: (got[k]["status"], got[k]["value"]) for k in t3_keys} == {k: _expected(truth[k]) for k in t3_keys}
    assert got[("t3", "granted", "total")]["status"] == "blank"  # the Shanghai pattern: results print no total
    assert sum(got[k]["status"] == "blank" for k in t3_keys) > 19  # and a zero printed empty, placed by the identities


def test_a_number_lost_from_a_table_with_blank_totals_moves_no_number_into_another_cell() -> None:
    text = (TOTALS_BLANK / "source.txt").read_text(encoding="utf-8")
    truth = _truth(TOTALS_BLANK)
    lines = text.split("\n")
    start = next(i for i, x in enumerate(lines) if x.startswith("一、本年新收"))
    end = next(i for i, x in enumerate(lines) if x.startswith("四、结转下年度"))
    spots = [(i, j) for i in range(start, end) for j, w in enumerate(lines[i].split()) if w.isdigit() and w != "0"]
    assert len(spots) > 100
    refused = 0
    for i, j in spots[::7]:  # one printed number lost at a time
        words = lines[i].split()
        copy = [*lines[:i], " ".join(words[:j] + words[j + 1 :]), *lines[i + 1 :]]
        got = _cells("\n".join(copy))
        read = {k: c for k, c in got.items() if k[0] == "t3" and c["status"] != "not_found"}
        refused += len(read) < sum(k[0] == "t3" for k in truth)
        for k, c in read.items():
            assert (c["status"], c["value"]) == _expected(truth[k]), (lines[i], k)
    assert refused == len(spots[::7])  # a lost number leaves no placement of blanks that satisfies the identities


LABELS_BOTTOM = FOLDER.parent / "viewer_2021_chromium_labels_bottom"


def test_cells_printed_empty_and_dashes_on_a_rows_line_are_placed_by_its_rows_and_columns() -> None:
    truth = _truth(LABELS_BOTTOM)
    got = _cells((LABELS_BOTTOM / "source.txt").read_text(encoding="utf-8"))
    t3_keys = [k for k in truth if k[0] == "t3"]
    assert {k: (got[k]["status"], got[k]["value"]) for k in t3_keys} == {k: _expected(truth[k]) for k in t3_keys}
    statuses = [got[k]["status"] for k in t3_keys]
    assert statuses.count("blank") == 3 and statuses.count("dash") == 3  # "… 43 / 128": a dash on a row's line


def test_a_number_lost_from_a_whole_copy_is_never_filled_by_another() -> None:
    lines = TEXT.split("\n")
    start = next(i for i, x in enumerate(lines) if x.startswith("三、收到"))
    end = next(i for i, x in enumerate(lines) if x.startswith("四、结转下年度"))
    spots = [i for i in range(start, end) if lines[i].strip().isdigit()]
    assert len(spots) > 100
    whole = 0
    for i in spots[::5]:  # one printed number lost at a time: the copy shows nothing where it was
        got = _cells("\n".join([*lines[:i], *lines[i + 1 :]]))
        read = {k: c for k, c in got.items() if k[0] == "t3" and c["status"] != "not_found"}
        whole += len(read) == 175
        for k, c in read.items():
            lost = lines[i].strip() == "0" and c["status"] == "blank"  # a lost 0 is an empty cell in the copy
            assert lost or (c["status"], c["value"]) == _expected(TRUTH[k]), k
    # a lost number other than 0 leaves the table unconfirmed (every placement of an empty cell breaks a sum)
    assert whole <= sum(lines[i].strip() == "0" for i in spots[::5])


FIRST_CELLS = FOLDER.parent / "viewer_2021_weasyprint_first_cells"


def test_first_cells_printed_in_their_labels_blocks_are_placed_and_swapped_ones_are_not_taken() -> None:
    text = (FIRST_CELLS / "source.txt").read_text(encoding="utf-8")
    truth = _truth(FIRST_CELLS)
    t3_keys = [k for k in truth if k[0] == "t3"]
    got = _cells(text)
    assert all(got[k]["value"] == truth[k]["value"] for k in t3_keys)
    # two of the late first cells (rows 4. and 5. of （三）) printed in each other's label block
    a, b = (str(truth[("t3", r, "natural_person")]["value"]) for r in ("denied_third_party_rights", "denied_internal_affairs"))
    swapped = _replace_line(_replace_line(text, a, "@@", nth=-1), b, a, nth=-1).replace("\n@@\n", f"\n{b}\n")
    assert swapped != text
    got = _cells(swapped)
    read = [k for k in t3_keys if got[k]["status"] != "not_found"]
    assert len(read) < len(t3_keys)
    assert all(got[k]["value"] == truth[k]["value"] for k in read)


def _tokens(*texts: str) -> list:
    from tasks.extract.stream import Token

    return [Token(t, i, 1) for i, t in enumerate(texts)]


def test_a_wrapped_total_is_joined_only_where_one_joining_adds_up() -> None:
    from tasks.extract.stream import join_split_numbers

    row = ("1365", "3429", "2162", "2112", "2144", "1831", "1975", "3")  # 13653 = the sum of the six
    nxt = ("102", "24", "20", "60", "166", "27", "399")
    got = [t.text for t in join_split_numbers(_tokens(*row, *nxt), 14)]
    assert got == ["3429", "2162", "2112", "2144", "1831", "1975", "13653", *nxt]
    # the end that does not make the row add up: nothing joined, the numbers stay as printed
    wrong = ("1365", "3429", "2162", "2112", "2144", "1831", "1975", "4")
    assert [t.text for t in join_split_numbers(_tokens(*wrong, *nxt), 14)] == [*wrong, *nxt]
    # joins that do not leave the table's count of cells are not kept
    assert [t.text for t in join_split_numbers(_tokens(*row, *nxt), 13)] == [*row, *nxt]


def test_a_wrapped_first_cell_whose_column_no_sum_tells_is_not_joined() -> None:
    from tasks.extract.stream import join_split_numbers

    # 1693 and 4720 wrapped, their first lines printed first: 1693 could stand in any of the first six places
    row = ("169", "472", "638", "500", "720", "640", "529", "3", "0")
    assert [t.text for t in join_split_numbers(_tokens(*row), 7)] == list(row)
    # all seven wrapped, their ends after them: one joining
    row = ("1180", "1014", "1295", "1134", "1102", "1145", "1749", "61", "4", "7", "9", "3", "3", "87")
    assert [t.text for t in join_split_numbers(_tokens(*row), 7)] == [
        "118061", "10144", "12957", "11349", "11023", "11453", "174987"]


PAIRS = FOLDER.parent / "viewer_2021_weasyprint_pairs"


def _t3_read(got: dict, truth: dict) -> dict:
    return {k: c for k, c in got.items() if k[0] == "t3" and k in truth and c["status"] != "not_found"}


def _t3_whole(folder: Path) -> tuple[str, dict, list]:
    """A fixture's copy, its truth and table 三's keys; the copy reads table 三 cell for cell."""
    text = (folder / "source.txt").read_text(encoding="utf-8")
    truth = _truth(folder)
    t3_keys = [k for k in truth if k[0] == "t3"]
    _t3_whole_of(text, truth, t3_keys)
    return text, truth, t3_keys


def _t3_whole_of(text: str, truth: dict, t3_keys: list) -> None:
    """The copy reads table 三 cell for cell as its truth."""
    got = _cells(text)
    assert {k: (got[k]["status"], got[k]["value"]) for k in t3_keys} == {k: _expected(truth[k]) for k in t3_keys}


def _t3_refused(changed: str, truth: dict, t3_keys: list) -> None:
    """A changed copy reads table 三 short of whole, and every cell it reads as its truth."""
    read = _t3_read(_cells(changed), truth)
    assert len(read) < len(t3_keys)
    assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items())


def test_first_two_cells_printed_as_a_pair_and_wrapped_totals_are_placed() -> None:
    text, truth, t3_keys = _t3_whole(PAIRS)
    # the pairs: two numbers of one line, each the first two cells of a row printed out of its place
    lines = text.split("\n")
    pairs = [i for i, x in enumerate(lines) if len(x.split()) == 2 and all(w.isdigit() for w in x.split())]
    assert len(pairs) >= 15
    for i in pairs[::3]:  # a pair printed the other way round: its row adds up, its columns do not
        a, b = lines[i].split()
        got = _cells("\n".join([*lines[:i], f"{b} {a}", *lines[i + 1 :]]))
        read = _t3_read(got, truth)
        assert len(read) < len(t3_keys), lines[i]
        assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items()), lines[i]


def test_a_number_lost_from_a_copy_of_pairs_and_wrapped_numbers_moves_no_number() -> None:
    for folder in (PAIRS, FOLDER.parent / "viewer_2021_weasyprint_letter_first_lines"):
        text = (folder / "source.txt").read_text(encoding="utf-8")
        truth = _truth(folder)
        lines = text.split("\n")
        start = next(i for i, x in enumerate(lines) if x.startswith("一、本年新收"))
        end = next(i for i, x in enumerate(lines) if x.lstrip("\f").startswith("四、结转下年度"))
        spots = [(i, j) for i in range(start, end) for j, w in enumerate(lines[i].split()) if w.isdigit()]
        assert len(spots) > 150
        for i, j in spots[::11]:  # one printed number (or a wrapped number's piece) lost at a time
            words = lines[i].split()
            got = _cells("\n".join([*lines[:i], " ".join(words[:j] + words[j + 1 :]), *lines[i + 1 :]]))
            read = _t3_read(got, truth)
            assert len(read) < sum(k[0] == "t3" for k in truth), (folder.name, lines[i])
            assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items()), (folder.name, lines[i])


def test_two_cells_wrapped_first_lines_first_are_told_apart_by_the_columns() -> None:
    from tasks.extract.stream import split_readings

    # 1693 and 4720 wrapped, their first lines printed first: six readings of the row, one per place of 1693
    row = ("169", "472", "638", "500", "720", "640", "529", "3", "0")
    readings = [[t.text for t in r] for r in split_readings(_tokens(*row), 7)]
    assert len(readings) == 6
    assert all(r[-1] == "4720" and "1693" in r[:-1] for r in readings)
    folder = FOLDER.parent / "viewer_2021_weasyprint_letter_first_lines"
    text, truth, _ = _t3_whole(folder)
    lines = text.split("\n")
    i = next(i for i, x in enumerate(lines) if x.startswith("二、上年结转"))
    first, second = [k for k in range(i + 1, len(lines)) if lines[k].isdigit()][:2]
    # the row 二 printed with one cell changed (as a source's own error): the other columns still tell the
    # readings apart, and the changed cell, which no identity confirms, is not_found
    one = list(lines)
    one[first] = str(int(one[first]) + 1)
    read = _t3_read(_cells("\n".join(one)), truth)
    assert {k for k in truth if k[0] == "t3"} - set(read) == {("t3", "carried_over", "natural_person")}
    assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items())
    # two cells changed: no reading of the wrapped rows satisfies the columns, even with one cell printed wrong
    two = list(one)
    two[second] = str(int(two[second]) + 1)
    read = _t3_read(_cells("\n".join(two)), truth)
    assert not any(k[1] in ("new_received", "total_processed") for k in read)
    assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items())


def test_zeros_that_add_up_after_other_rows_labels_are_not_taken_as_the_row() -> None:
    for name in ("viewer_2021_chromium_sparse_columns", "viewer_2021_chromium_sparse_labels_first"):
        folder = FOLDER.parent / name
        truth = _truth(folder)
        got = _cells((folder / "source.txt").read_text(encoding="utf-8"))
        read = _t3_read(got, truth)
        # the rows printed on their labels' lines are read: 一, 二 and （一）
        assert {"new_received", "carried_over", "granted"} <= {k[1] for k in read}, name
        # 1.属于国家秘密 prints "0 0 5 0 0 0 5" (columns later in the copy): the zeros after its label are not it
        # (the copy printing the labels first is read whole by its groups of rows: the row's own numbers)
        assert truth[("t3", "denied_state_secret", "total")]["value"] != 0
        if name == "viewer_2021_chromium_sparse_columns":
            assert not any(k[1] == "denied_state_secret" for k in read), name
        else:
            assert read[("t3", "denied_state_secret", "total")]["value"] == truth[("t3", "denied_state_secret", "total")]["value"]
        assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items()), name


def test_a_sparse_copy_read_row_by_row_is_still_read_whole() -> None:
    # the same small agency's table as a viewer copies a LibreOffice-like page, a row on each line: each row
    # follows its label, so rows of zeros are taken where the whole table's columns then hold
    truth = _truth(FOLDER.parent / "viewer_2021_chromium_sparse_columns")
    lines = ["样例县农业农村局2023年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "总计"]
    for r in t3.rows_for("2021"):
        lines += [r.label, " ".join(str(truth[("t3", r.key, c.key)]["value"]) for c in t3.COLUMNS)]
    lines += ["四、政府信息公开行政复议、行政诉讼情况"]
    got = _cells("\n".join(lines))
    t3_keys = [k for k in truth if k[0] == "t3"]
    assert {k: (got[k]["status"], got[k]["value"]) for k in t3_keys} == {k: _expected(truth[k]) for k in t3_keys}


def test_places_that_add_up_across_the_header_are_not_a_row() -> None:
    folder = FOLDER.parent / "viewer_2021_lo_sparse_columns"
    text = (folder / "source.txt").read_text(encoding="utf-8")
    truth = _truth(folder)
    # the first column's top cells, then the header's last lines, then the next column: "6 1 0 0 0 0" … "7"
    assert "\n6\n1\n0\n\n0\n0\n0\n\n申请人情况\n" in text
    read = _t3_read(_cells(text), truth)
    assert not any(k[1] == "new_received" for k in read)  # [6, 1, 0, 0, 0, 0, 7] adds up; the row is 6 0 7 0 3 2 18
    assert all((c["status"], c["value"]) == _expected(truth[k]) for k, c in read.items())


def _first_cells_in_labels(truth: dict, first_at: dict[str, list[str]] | None = None) -> str:
    """A WeasyPrint-like viewer copy of a sparse table 三: each row's first cell printed among its label's
    lines (`first_at`: the label's lines, the first cell after the first of them), the first cells of （一）
    and （二） both before （一）'s other cells, then each row's other cells; the other rows a label line, then
    their seven numbers."""
    def row(key: str) -> list[str]:
        return [str(truth[("t3", key, c.key)]["value"]) for c in t3.COLUMNS]

    lines = ["样例县农业农村局2023年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况", "申请人情况",
             "法人或其他组织", "自然人", "总计"]
    split = first_at or {"granted": ["三、本年 （一）予以公开", "度办理结", "果"],
                         "partially_granted": ["（二）部分公开（区分处理的，只计这一情", "形，不计其他情形）"]}
    rows = t3.rows_for("2021")
    k = 0
    while k < len(rows):
        r = rows[k]
        if r.key == "granted":  # the two first cells, then the two rows' other cells
            a, b = row("granted"), row("partially_granted")
            g, p = split["granted"], split["partially_granted"]
            lines += [g[0], a[0], *g[1:], p[0], b[0], *p[1:], *a[1:], *b[1:]]
            k += 2
            continue
        if r.key == "other_no_correction":  # the first cell at the end of a label's line
            lines += ["1.申请人无正当理由逾期不补", f"正、行政机关不再处理其政府信 {row(r.key)[0]}", "息公开申请",
                      *row(r.key)[1:]]
        else:
            lines += [r.label, *row(r.key)]
        k += 1
    lines += ["四、政府信息公开行政复议、行政诉讼情况"]
    return "\n\n".join(lines)


def test_first_cells_printed_inside_their_labels_are_placed_in_a_sparse_table() -> None:
    from tasks.extract.stream import _anchored

    truth = _truth(FOLDER.parent / "viewer_2021_chromium_sparse_columns")
    t3_keys = [k for k in truth if k[0] == "t3"]
    got = _cells(_first_cells_in_labels(truth))
    assert {k: (got[k]["status"], got[k]["value"]) for k in t3_keys} == {k: _expected(truth[k]) for k in t3_keys}
    # the labels of （一） and （二） printed the other way round: their first cells read in each other's rows
    # (0 and 0 here, so the reading is the same) — with a first cell not 0 the rows no longer add up
    changed = dict(truth)
    for key, v in (("granted", [1, 0, 2, 0, 0, 0, 3]), ("total_processed", [7, 0, 7, 0, 3, 2, 19]),
                   ("new_received", [7, 0, 7, 0, 3, 2, 19])):
        for c, x in zip(t3.COLUMNS, v):
            changed[("t3", key, c.key)] = {**truth[("t3", key, c.key)], "value": x}
    ok = _cells(_first_cells_in_labels(changed))
    assert {k: ok[k]["value"] for k in t3_keys} == {k: changed[k]["value"] for k in t3_keys}
    swapped = _first_cells_in_labels(changed, {"granted": ["（二）部分公开（区分处理的，只计这一情", "形，不计其他情形）"],
                                               "partially_granted": ["三、本年 （一）予以公开", "度办理结", "果"]})
    read = _t3_read(_cells(swapped), changed)
    assert not any(k[1] in ("granted", "partially_granted") for k in read)
    assert all((c["status"], c["value"]) == _expected(changed[k]) for k, c in read.items())
    # the labels printed first, then the numbers: no label puts a first cell, nothing is read this way
    doc_text = "\n\n".join([*(r.label for r in t3.rows_for("2021")),
                            *(str(truth[("t3", r.key, c.key)]["value"]) for r in t3.rows_for("2021") for c in t3.COLUMNS)])
    from tasks.extract import text as text_reader
    from tasks.extract.stream import tokens

    doc = text_reader.read_text(("三、收到和处理政府信息公开申请情况\n\n申请人情况\n\n" + doc_text).encode())
    vals = tokens(doc, 0)
    assert len(vals) == 175
    rows = t3.rows_for("2021")
    assert _anchored(doc, 0, vals, rows, t3.RESULT_LEAVES_2021) is None


def test_first_cells_printed_after_the_table_with_their_labels_are_placed_and_a_changed_one_is_not() -> None:
    folder = FOLDER.parent / "viewer_2021_weasyprint_sparse_first_cells"
    text, truth, t3_keys = _t3_whole(folder)
    # the label blocks of the groups come after the table, each with its first cell; one number among them
    # is no label's ("不明确" / "0")
    late = "\n（三） 4.保护第三方合法权\n0\n不予公 益\n"
    stray = "\n不明确\n\n0\n\n3.要求提供公开出版\n"
    assert late in text and stray in text and text.index(late) > text.index("\n1.申请人无正当理由\n")  # after （六）'s rows
    assert truth[("t3", "other_fee_unpaid", "natural_person")]["value"] == 2
    for changed in (text.replace(stray, stray.replace("\n0\n", "\n1\n")),  # the stray number not a 0
                    text.replace("\n用、行政机关不再 2\n", "\n用、行政机关不再 3\n"),  # a late first cell changed
                    text.replace(late, late.replace("\n0\n", "\n1\n"))):
        _t3_refused(changed, truth, t3_keys)


def test_rows_printed_in_groups_a_row_or_a_column_at_a_time_are_read_and_a_changed_group_is_not() -> None:
    folder = FOLDER.parent / "viewer_2021_chromium_sparse_labels_first"
    text, truth, t3_keys = _t3_whole(folder)
    # four rows a column at a time: seven text blocks of four numbers, the first and last '0 2 3 0'
    block = "\n0\n2\n3\n0\n\n" + "0\n0\n0\n0\n\n" * 5 + "0\n2\n3\n0\n"
    assert block in text
    for changed in (text.replace(block, block.replace("\n0\n2\n3\n0\n\n", "\n0\n3\n2\n0\n\n", 1)),  # a column's order
                    text.replace(block, block.replace("\n0\n2\n3\n0\n\n", "\n0\n2\n3\n\n0\n", 1)),  # blocks cut otherwise
                    text.replace("\n0\n6\n1\n\n", "\n0\n1\n6\n\n", 1)):  # the last group's first column
        _t3_refused(changed, truth, t3_keys)


LO_WRAPPED = FOLDER.parent / "viewer_2021_lo_wrapped_staircase"


def test_wrapped_numbers_pieces_in_a_block_of_their_own_are_joined_where_one_whole_table_confirms() -> None:
    text, truth, t3_keys = _t3_whole(LO_WRAPPED)
    assert truth[("t3", "new_received", "total")]["value"] == 13653 and "\n\n1365\n3\n399\n466\n\n" in text
    for changed in (text.replace("\n\n1365\n3\n", "\n\n1365\n4\n"),  # the wrapped total's end changed
                    text.replace("\n\n1365\n3\n", "\n\n1365\n\n3\n"),  # its pieces in two text blocks
                    text.replace("\n\n1365\n3\n399\n466\n\n", "\n\n1365\n3\n466\n399\n\n")):  # two totals swapped
        _t3_refused(changed, truth, t3_keys)


def test_wrap_readings_join_only_pieces_as_wide_as_the_widest_number_on_the_next_line_of_their_block() -> None:
    from tasks.extract.stream import Token, wrap_readings

    def toks(*spec: tuple[str, int, int]) -> list[Token]:
        return [Token(text, block, 1, run) for text, block, run in spec]

    vals = toks(("1365", 1, 0), ("3", 2, 0), ("399", 3, 0), ("12", 5, 1), ("7", 6, 1), ("0123", 8, 2), ("4", 9, 2))
    assert [[t.text for t in r] for r in wrap_readings(vals, 6)] == [["13653", "399", "12", "7", "0123", "4"]]
    # two pieces more than cells: the only pair of joinings, neither overlapping
    two = toks(("1365", 1, 0), ("3", 2, 0), ("1341", 4, 1), ("9", 5, 1), ("12", 7, 2))
    assert [[t.text for t in r] for r in wrap_readings(two, 3)] == [["13653", "13419", "12"]]
    # the end in another text block, or not on the next line: no joining
    assert wrap_readings(toks(("1365", 1, 0), ("3", 2, 1), ("399", 3, 1)), 2) == []
    assert wrap_readings(toks(("1365", 1, 0), ("3", 3, 0), ("399", 4, 0)), 2) == []
    assert wrap_readings(vals, 7) == [] and wrap_readings(vals, 2) == []  # nothing too many / more than MAX_BLOCK_WRAPS


LATE = FOLDER.parent / "viewer_2021_weasyprint_late_totals"


def test_first_cells_and_totals_printed_late_each_in_their_own_order_are_placed() -> None:
    text, truth, t3_keys = _t3_whole(LATE)
    # a row's first cell after its row, on its label's line; then three totals of rows above it, in their order
    late = "\n或重新出具已获取信 53\n息\n（六）\n其他处\n理\n\n548\n\n682\n\n598\n"
    assert late in text
    assert [truth[("t3", r, c)]["value"] for r, c in (("not_processed_reconfirmation", "natural_person"),
            ("denied_process_info", "total"), ("not_processed_duplicate", "total"),
            ("not_processed_excessive", "total"))] == [53, 548, 682, 598]  # fmt: skip
    for changed in (text.replace(late, late.replace("\n548\n\n682\n", "\n682\n\n548\n")),  # two late totals swapped
                    text.replace(late, late.replace("\n598\n", "\n599\n")),  # a late total one more
                    text.replace(late, late.replace(" 53\n", " 54\n"))):  # the late first cell one more
        _t3_refused(changed, truth, t3_keys)


def test_table_4_blocks_at_their_places_are_taken_where_they_add_up_and_the_others_are_not() -> None:
    folder = FOLDER.parent / "viewer_2021_source_errors"
    text = (folder / "source.txt").read_text(encoding="utf-8")
    truth = _truth(folder)
    assert truth[("t4", "litigation_direct", "total")]["value"] == 0  # the source's own error (V22)
    lines = text.split("\n")
    head = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    five = next(i for i, x in enumerate(lines) if x.startswith("五、"))
    numbers = [w for x in lines[head:five] for w in x.split() if w.isdigit()]
    assert len(numbers) == 15 and len({b for b in lines[head:five] if b[:1].isdigit()}) > 1  # over several lines

    def changed(old: str, new: str) -> str:
        at = next(i for i in range(head, five) if lines[i] == old)
        return "\n".join([*lines[:at], new, *lines[at + 1 :]])

    for copy, taken in ((text, {"admin_review", "litigation_after_review"}),
                        (changed("77", "78"), {"litigation_after_review"}),  # block 一's total one more
                        (changed("89", "89 6"), set())):  # sixteen numbers: no block's place is known
        got = _cells(copy)
        read = {k[1] for k, c in got.items() if k[0] == "t4" and c["status"] != "not_found"}
        assert read == taken
        assert all(got[k]["value"] == truth[k]["value"] for k in got if k[0] == "t4" and k[1] in read)


def test_table_2_rows_of_a_block_with_an_empty_cell_are_read_by_their_labels_where_the_values_follow_them() -> None:
    folder = FOLDER.parent / "viewer_2021_chromium_labels_bottom"
    text = (folder / "source.txt").read_text(encoding="utf-8")
    truth = _truth(folder)
    block = "\n规章\n0\n0\n行政规范性文件\n4 19 549\n第二十条第（五）项\n"
    six = "\n行政处罚\n4251\n行政强制\n第二十条第（八）项\n"
    assert block in text and six in text and truth[("t2", "regulations", "in_force")]["status"] == "blank"

    def t2(copy: str) -> dict:
        got = _cells(copy)
        return {k[1:]: got[k]["value"] for k in got if k[0] == "t2" and got[k]["status"] != "not_found"}

    read = t2(text)
    assert {k: v for k, v in read.items() if k[0] in ("regulations", "normative_documents")} == {
        ("normative_documents", "issued"): 4, ("normative_documents", "abolished"): 19, ("normative_documents", "in_force"): 549}
    assert read[("administrative_penalty", "decisions")] == 4251 and ("administrative_coercion", "decisions") not in read
    # the labels printed as a column, the values after them: no row of the block is read
    # (行政处罚 4251 printed after 行政强制's label would read the same as 行政强制 = 4251 beside an empty 行政处罚)
    column = text.replace(block, "\n规章\n行政规范性文件\n0\n0\n4 19 549\n第二十条第（五）项\n").replace(
        six, "\n行政处罚\n行政强制\n4251\n第二十条第（八）项\n")
    assert not any(k[0] in ("regulations", "normative_documents", "administrative_penalty", "administrative_coercion")
                   for k in t2(column))
    # a line of text between a row's values and the next label or caption: the row is not read
    noted = text.replace(block, block.replace("\n4 19 549\n", "\n4 19 549\n注：\n")).replace(
        six, six.replace("\n4251\n", "\n4251\n注：\n"))
    got = t2(noted)
    assert not any(k[0] in ("normative_documents", "administrative_penalty") for k in got)
    assert all(v == truth[("t2", *k)]["value"] for k, v in got.items())


def test_a_cell_printed_wrong_in_the_source_leaves_only_that_cell_not_found() -> None:
    # one table-三 cell printed off (the report's own arithmetic error, V22): its row's sum and its column's
    # identities break, every other cell is confirmed by the identities, that one by none
    for row, col, changed in [("granted", "natural_person", "225"), ("denied_process_info", "total", "64"),
                              ("total_processed", "commercial_enterprise", "145"), ("new_received", "natural_person", "1403")]:
        key = ("t3", row, col)
        got = _cells(_replace_line(TEXT, str(TRUTH[key]["value"]), changed))
        assert got[key]["status"] == "not_found", key
        assert all((got[k]["status"], got[k]["value"]) == _expected(v) for k, v in TRUTH.items() if k[0] == "t3" and k != key), key
    # two cells printed wrong in two rows: no one cell explains them, and no cell is read as another number
    two = _replace_line(_replace_line(TEXT, "215", "225"), "54", "64")
    got = _cells(two)
    read = {k: c for k, c in got.items() if k[0] == "t3" and c["status"] != "not_found"}
    assert ("t3", "granted", "natural_person") not in read and ("t3", "denied_process_info", "total") not in read
    assert all((c["status"], c["value"]) == _expected(TRUTH[k]) for k, c in read.items())


END = FOLDER.parent / "viewer_2021_chromium_end_out_of_order"


def test_the_last_row_and_the_cells_still_waiting_are_read_by_the_identities_in_any_order() -> None:
    # Chromium prints table 三's end out of order: （六）3.其他's last two cells (2, 287) after （七）'s numbers,
    # 四's cells in an order of their own; 四 is what H3.1 leaves, the waiting cells what their identities leave
    text, truth, t3_keys = _t3_whole(END)
    tail = ["222", "68", "142", "10", "38", "2", "287", "3", "483"]
    assert "\n\n".join(tail) in text and truth[("t3", "carried_forward", "total")]["value"] == 483
    # 四's cells in yet another order: the same grid
    mixed = ["483", "3", "10", "2", "287", "38", "142", "68", "222"]
    _t3_whole_of(text.replace("\n\n".join(tail), "\n\n".join(mixed)), truth, t3_keys)
    # a number of the end that is not what the identities leave (四's 142 read 143; the waiting total 287 read
    # 288): no grid fits, and nothing of table 三 is read as another number
    for old, new in (("142", "143"), ("287", "288")):
        _t3_refused(text.replace("\n\n".join(tail), "\n\n".join(new if x == old else x for x in tail)), truth, t3_keys)


INTERLEAVED = FOLDER.parent / "viewer_2019_weasyprint_end_interleaved"


def test_the_last_result_rows_cells_printed_among_4s_are_read_by_the_identities() -> None:
    # WeasyPrint prints （六）其他处理's cells but its first and 四's interleaved after （七）'s numbers:
    # （六）'s are what H3.2 leaves from （七） and the other results, 四's what H3.1 leaves
    text, truth, t3_keys = _t3_whole(INTERLEAVED)
    tail = ["18", "190", "147", "188", "129", "179", "39", "38", "74", "654", "68"]
    assert "\n\n".join(tail) in text
    assert [truth[("t3", "other_total", c)]["value"] for c in ("commercial_enterprise", "research_institution")] == [18, 190]
    # two of them in the other order: the same grid
    _t3_whole_of(text.replace("\n\n".join(tail), "\n\n".join(["18", "190", "188", "147", *tail[4:]])), truth, t3_keys)
    # one of （六）'s (190 read 191) or one of 四's (74 read 75) off: nothing fits, nothing read as another number
    for old, new in (("190", "191"), ("74", "75")):
        _t3_refused(text.replace("\n\n".join(tail), "\n\n".join(new if x == old else x for x in tail)), truth, t3_keys)


SHUFFLED = FOLDER.parent / "viewer_2019_chromium_last_row_shuffled"


def test_rows_that_add_up_at_their_places_while_the_columns_do_not_are_searched_whole() -> None:
    # Chromium prints 四's cells in an order of their own; that row adds up in any order of its parts, so every
    # row adds up at its place while the columns do not: no row is known by its place, and the search reads 四
    # as what H3.1 leaves
    text, truth, t3_keys = _t3_whole(SHUFFLED)
    end = "258\n\n166\n\n109\n\n12\n\n四、结转下年度继续办理\n\n129\n\n82\n\n756\n"
    assert end in text
    first_three = ("natural_person", "commercial_enterprise", "research_institution")
    assert [truth[("t3", "carried_forward", c)]["value"] for c in first_three] == [258, 129, 82]
    # 四's row at its place adds up (its six parts make 756): that alone does not place its cells
    assert 258 + 166 + 109 + 12 + 129 + 82 == 756
    # 四 in yet another order that adds up: the same grid
    _t3_whole_of(text.replace(end, "82\n\n12\n\n109\n\n166\n\n四、结转下年度继续办理\n\n258\n\n129\n\n756\n"), truth, t3_keys)
    # two of 四's cells changed so that the row still adds up (129 read 130, 82 read 81): H3.1 no longer
    # holds in any order, and nothing of table 三 is read as another number
    _t3_refused(text.replace(end, end.replace("129", "130").replace("\n82\n", "\n81\n")), truth, t3_keys)


def test_the_searches_of_one_table_share_one_budget(monkeypatch) -> None:
    # every search of one table 三 (each reading of its wrapped numbers, each pass) draws its steps from one
    # budget: past it the searches left end as over their budget, and the table is not read whole, no cell of
    # it as another number (the default budget reads this copy whole: its end needs the widest searches)
    from tasks.extract import stream

    text, truth, t3_keys = _t3_whole(INTERLEAVED)
    monkeypatch.setattr(stream, "TABLE_BUDGET", 2_000)
    _t3_refused(text, truth, t3_keys)


FIRST_AND_TOTAL = FOLDER.parent / "viewer_2021_chromium_first_and_total_late"


def test_a_first_cell_and_a_total_of_a_row_above_4_wait_together_with_a_total_rows_late() -> None:
    # Chromium prints （六）3.其他's first cell (92) and its total (167) after its other cells, the total of
    # 7.属于行政执法案卷 (200) twelve rows late between them: first cells and other cells printed late each keep
    # their own order, and in the rows above 四 a row's first cell and its total may wait together
    text, truth, t3_keys = _t3_whole(FIRST_AND_TOTAL)
    late = "\n92\n\n200\n\n167\n"
    assert late in text
    assert truth[("t3", "other_other", "natural_person")]["value"] == 92
    assert truth[("t3", "denied_enforcement_file", "total")]["value"] == 200
    assert truth[("t3", "other_other", "total")]["value"] == 167
    # the late total before the first cell: each kind still in its own order, the same grid
    _t3_whole_of(text.replace(late, "\n200\n\n92\n\n167\n"), truth, t3_keys)
    # the twelve-rows-late total one off (200 read 201): no grid fits, nothing read as another number
    _t3_refused(text.replace(late, "\n92\n\n201\n\n167\n"), truth, t3_keys)
