"""Great Expectations suites as JSON, generated from the table spec (`python -m tasks.checks.suites`).

One suite per table and format, plus the structure and cross-row identity suites:

| suite | frame (see `frames`, `residuals`) | rules |
|---|---|---|
| `structure` | one row per report | STRUCT-01, STRUCT-02, STRUCT-03 |
| `t2_2021`, `t2_2019` | one row per (report, table-2 row) | DOM-01, STRUCT-02, T2-19-1 (2019) |
| `t3_2021`, `t3_2019` | one row per (report, table-3 row); `t3_2019` also serves `2021_mixed` | DOM-01, STRUCT-02, T3-H3 |
| `t4` | one row per (report, block) | DOM-01, STRUCT-02, T4-H1 |
| `t3_identities` | one row per (report, rule, key): lhs/rhs, small/big | T3-H1, T3-H2, T3-C1 |

Pure: builds plain dicts in the shape of `ExpectationSuite.to_json_dict()` (no GX import), with
ids derived from the suite name and position so regenerating gives identical JSON.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

from tasks.checks.frames import t2_columns
from tasks.checks.identities import T3_TOTAL, T4_TOTAL, t3_row_keys
from tasks.spec import RULES_BY_ID, t2, t4

log = logging.getLogger(__name__)

GX_VERSION = "1.24.1"
COMMAND = "python -m tasks.checks.suites"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "expectations"
_NS = uuid.UUID("6f1c2f7e-3b1e-5d6a-9a57-7c1d2b0e4a11")
_GX_SEVERITY = {"error": "critical", "warn": "warning", "info": "info"}

Expectation = dict[str, Any]


def _exp(type_: str, rule: str, severity: str | None = None, **kwargs: Any) -> Expectation:
    sev = severity or RULES_BY_ID[rule].severity
    return {"type": type_, "kwargs": kwargs, "meta": {"rule": rule}, "severity": _GX_SEVERITY[sev]}


def _between(column: str, rule: str, lo: float | None, hi: float | None = None, severity: str | None = None) -> Expectation:
    kw: dict[str, Any] = {"column": column}
    if lo is not None:
        kw["min_value"] = lo
    if hi is not None:
        kw["max_value"] = hi
    return _exp("expect_column_values_to_be_between", rule, severity, **kw)


def _pair_equal(a: str, b: str, rule: str) -> Expectation:
    return _exp("expect_column_pair_values_to_be_equal", rule, column_A=a, column_B=b,
                ignore_row_if="either_value_is_missing")


def _a_at_least_b(a: str, b: str, rule: str) -> Expectation:
    return _exp("expect_column_pair_values_a_to_be_greater_than_b", rule, column_A=a, column_B=b, or_equal=True,
                ignore_row_if="either_value_is_missing")


def _rows_in(keys: list[str] | tuple[str, ...]) -> Expectation:
    return _exp("expect_column_values_to_be_in_set", "STRUCT-02", column="row", value_set=list(keys))


def _domain() -> list[Expectation]:
    """DOM-01 over the frames' derived `row_min` (unsigned cells ≥ 0) and `fraction` (counts integral)."""
    return [_between("row_min", "DOM-01", 0), _between("fraction", "DOM-01", 0, 0)]


def _t2_suite(fmt: str) -> list[Expectation]:
    cols = t2_columns(fmt)
    rows_ = [r.key for b in t2.BLOCKS for r in b.rows if fmt in r.formats]
    out = [_exp("expect_table_columns_to_match_set", "STRUCT-02", column_set=["row", *cols], exact_match=False),
           _rows_in(rows_), *_domain()]
    if fmt == "2019":
        out.append(_a_at_least_b("total_published", "newly_published", "T2-19-1"))
    return out


def _t3_suite(family: str) -> list[Expectation]:
    return [_rows_in(t3_row_keys(family)), *_domain(), _pair_equal(T3_TOTAL, "parts_sum", "T3-H3")]


def _t4_suite() -> list[Expectation]:
    return [_rows_in([r.key for r in t4.ROWS]), *_domain(), _pair_equal(T4_TOTAL, "parts_sum", "T4-H1")]


def _identity_suite() -> list[Expectation]:
    eq = _pair_equal("lhs", "rhs", "T3-H1")
    eq["meta"] = {"rule": "T3-H1", "rules_by_index": ["T3-H1", "T3-H2"]}  # the frame's `rule` column says which
    return [eq, _a_at_least_b("big", "small", "T3-C1")]


def _structure_suite() -> list[Expectation]:
    return [
        _between("sections_found", "STRUCT-01", 6, 6),
        _between("sections_in_order", "STRUCT-01", 1, 1),
        _between("format_known", "STRUCT-02", 1, 1),
        _between("tables_missing", "STRUCT-02", 0, 0),
        _between("cells_missing", "STRUCT-02", 0, 0, severity="warn"),
        _between("mixed_layout", "STRUCT-03", 0, 0),
    ]


def _suite(name: str, expectations: list[Expectation], frame: str) -> dict[str, Any]:
    for i, e in enumerate(expectations):
        e["id"] = str(uuid.uuid5(_NS, f"{name}/{i}/{e['type']}/{json.dumps(e['kwargs'], sort_keys=True)}"))
    return {
        "name": name,
        "id": str(uuid.uuid5(_NS, name)),
        "expectations": expectations,
        "meta": {"great_expectations_version": GX_VERSION, "generated_by": COMMAND, "frame": frame},
        "notes": None,
    }


def build_suites() -> dict[str, dict[str, Any]]:
    """Suite name → suite JSON dict, derived from `tasks.spec`."""
    return {
        "structure": _suite("structure", _structure_suite(), "frames.structure_frame: one row per report"),
        "t2_2021": _suite("t2_2021", _t2_suite("2021"), "frames.t2_frame(…, '2021'): (report, table-2 row)"),
        "t2_2019": _suite("t2_2019", _t2_suite("2019"), "frames.t2_frame(…, '2019'): (report, table-2 row)"),
        "t3_2021": _suite("t3_2021", _t3_suite("2021"), "frames.t3_frame(…, '2021'): (report, table-3 row)"),
        "t3_2019": _suite("t3_2019", _t3_suite("2019"), "frames.t3_frame(…, '2019'): 2019 and 2021_mixed"),
        "t4": _suite("t4", _t4_suite(), "frames.t4_frame: (report, table-4 block)"),
        "t3_identities": _suite("t3_identities", _identity_suite(), "residuals.identity_frame: (report, rule, key)"),
    }


def dumps(suite: dict[str, Any]) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_suites(directory: str | Path = DEFAULT_DIR) -> list[Path]:
    """Write every suite as `<name>.json` (sorted keys, indented, UTF-8)."""
    out = []
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for name, suite in sorted(build_suites().items()):
        path = d / f"{name}.json"
        path.write_text(dumps(suite), encoding="utf-8")
        out.append(path)
    return out


def load_suites(directory: str | Path = DEFAULT_DIR) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(Path(directory).glob("*.json"))}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = write_suites(args[0] if args else DEFAULT_DIR)
    sys.stdout.write("".join(f"wrote {p}\n" for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
