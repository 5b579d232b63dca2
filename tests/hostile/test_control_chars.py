"""Control characters (NUL, ESC, BEL, DEL, bidi overrides, lone surrogates) never reach a published
string: extraction removes them from the document before reading it (so a NUL inside the agency
name or a value changes nothing), CTRL-01 notes how many, and the publisher cleans any string it is
given. Outputs are scanned byte by byte: parquet, quality JSON and HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
import tables
from helpers import compare_with_expected, load_expected

from hostile.generate import BY_NAME, CONTROL_CASES, JINING_TEXT, SAMPLES, sample_bytes
from tasks import pipeline
from tasks.agency import agency_id
from tasks.extract import extract_bytes
from tasks.publish import DatasetWriter, Publishable
from tasks.records import ReportMeta, Validated
from tasks.sandbox import ExtractorPool
from tasks.storage import LocalStore

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _ctrl_issue(result: dict[str, Any]) -> dict[str, Any]:
    (issue,) = [i for i in result["issues"] if i["rule"] == "CTRL-01"]
    return issue


def _no_control(value: Any, where: str) -> None:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    assert not _CONTROL.search(text.replace("\\n", "").replace("\\t", "")), where


@pytest.mark.parametrize("name", sorted(CONTROL_CASES))
def test_extract_bytes_removes_control_characters_and_notes_them(name: str) -> None:
    sample, removed = CONTROL_CASES[name]
    result = extract_bytes(BY_NAME[name].build(), source=BY_NAME[name].filename).to_dict()
    expected = load_expected(SAMPLES / sample)
    assert compare_with_expected(result, expected) == []
    assert result["agency"] == extract_bytes(sample_bytes(next((SAMPLES / sample).glob("source.*")))).agency
    assert sorted(result["sections"]) == ["1", "2", "3", "4", "5", "6"]  # section 一's heading is read again
    issue = _ctrl_issue(result)
    assert issue["severity"] == "info" and issue["message"].startswith(f"{removed} control or invisible character(s)")
    for c in result["cells"]:
        _no_control(c.get("raw") or "", f"{name} {c['table']}.{c['row']}.{c['col']}")
    _no_control(result["sections"], name)


def test_the_pool_gives_the_same_result(small_pool: ExtractorPool) -> None:
    for name, (sample, _) in CONTROL_CASES.items():
        out = small_pool.run(BY_NAME[name].build(), source=BY_NAME[name].filename)
        assert "error" not in out, out.get("error")
        assert compare_with_expected(out, load_expected(SAMPLES / sample)) == []
        assert _ctrl_issue(out)


def _scan_outputs(root: Path) -> list[str]:
    """Every output file that holds a control character (parquet string pages are uncompressed
    UTF-8 inside zstd pages, so the parquet is read back and its strings scanned)."""
    bad = []
    for path in sorted(root.rglob("*")):
        if path.suffix == ".parquet" and "delta" in path.parts:
            for row in ds.dataset(path, format="parquet").to_table().to_pylist():
                for k, v in row.items():
                    if isinstance(v, str) and _CONTROL.search(v.replace("\n", "").replace("\t", "")):
                        bad.append(f"{path.relative_to(root)}:{k}")
        elif path.suffix in (".json", ".html"):
            text = path.read_text("utf-8").replace("\n", "").replace("\t", "").replace("\r", "")
            if _CONTROL.search(text) or re.search(r"\\u00(0[0-8bcef]|1[0-9a-f]|7f)", text):
                bad.append(str(path.relative_to(root)))
    return bad


def test_published_outputs_hold_no_control_character(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for name in CONTROL_CASES:
        (src / BY_NAME[name].filename).write_bytes(BY_NAME[name].build())
    source, output = LocalStore(src), LocalStore(out)
    with ExtractorPool(1) as pool:
        extracted = [pipeline.extract_one(source, i, pool) for i in pipeline.pending(source, output)]
    prepared = pipeline.prepare(extracted)
    from tasks.checks import validate_batch

    validated = validate_batch([ex for _, ex in prepared.reports], {})
    items = pipeline.publishables(prepared, validated)
    summary = pipeline.publish_batch(output, items, False)
    assert len(summary.published) == 2
    pipeline.write_quality(output, [m.agency_id for m, _ in prepared.reports], [])
    pipeline.write_index(output)
    assert _scan_outputs(out) == []
    reports = tables.rows(out, "reports")
    assert sorted(r["agency"] for r in reports) == sorted(["济宁经济技术开发区党工委组织部", "上海市人民政府办公厅"])
    assert sorted(r["agency_id"] for r in reports) == sorted(agency_id(r["agency"]) for r in reports)
    checks = tables.rows(out, "checks")
    ctrl = [c for c in checks if c["rule"] == "CTRL-01"]
    assert len(ctrl) == 2 and not any(c["passed"] for c in ctrl) and {c["severity"] for c in ctrl} == {"info"}


def test_the_publisher_cleans_any_string_it_is_given(tmp_path: Path) -> None:
    """An extraction that did not come through extract_bytes (an older extraction, another caller):
    a NUL in the agency, a lone surrogate in a raw text (which UTF-8 cannot encode) and an ESC in a
    section are removed, and CTRL-01 says so; the report publishes."""
    ex = extract_bytes(sample_bytes(JINING_TEXT)).to_dict()
    ex["agency"] = "济宁\x00经济技术开发区党工委组织部"
    first = ex["cells"][0]
    printed = first["raw"]
    first["raw"] = printed[:1] + "\ud800" + printed[1:]
    ex["sections"]["1"] = "\x1b[31m" + ex["sections"]["1"]
    meta = ReportMeta("raa", "incoming/a.txt", "aa", "text", ex["agency"], "agtest", 2021, ex["format_version"])
    summary = DatasetWriter(LocalStore(tmp_path)).publish([Publishable(meta, ex, Validated("raa", "passed", []))])
    assert summary.published == ["raa"] and not summary.refused
    assert _scan_outputs(tmp_path) == []
    rows = tables.rows(tmp_path, "cells")
    assert {r["agency"] for r in rows} == {"济宁经济技术开发区党工委组织部"}
    key = (first["table"], first["row"], first["col"])
    assert [r["raw"] for r in rows if (r["table"], r["row"], r["col"]) == key] == [printed]
    checks = tables.rows(tmp_path, "checks")
    (ctrl,) = [c for c in checks if c["rule"] == "CTRL-01"]
    assert not ctrl["passed"] and "U+0000" in ctrl["message"] and "U+D800" in ctrl["message"]
