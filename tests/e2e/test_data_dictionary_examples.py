"""The data dictionary's examples run as printed, from the repository root, on what `make run`
writes: `xxgk run` in a scratch checkout root (its defaults: xxgk-output/bucket → xxgk-output/out),
then every ```sql statement through DuckDB and every ```python block through Python there: the
Delta tables' examples, and the plain-parquet snapshot's (DuckDB, Polars and pandas, Spark)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
DICTIONARY = REPO / "docs" / "data-dictionary.md"
# 5 samples, 4 current reports: the synthetic DOCX and PDF are the same agency and year
AGENCIES = {"上海市人民政府办公厅", "样例县人民政府", "济宁经济技术开发区党工委组织部", "淮安市洪泽区人民政府"}


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DICTIONARY.read_text("utf-8"), flags=re.S)


def _statements(sql: str) -> list[str]:
    return [s for s in sql.split(";") if s.strip() and not all(line.startswith("--") for line in s.strip().splitlines())]


@pytest.fixture(scope="module")
def made_run(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A checkout root where `xxgk run` (what `make run` runs) has run; its stdout."""
    root = tmp_path_factory.mktemp("checkout")
    env = {k: v for k, v in os.environ.items() if k not in ("XXGK_SOURCE", "XXGK_OUTPUT")}
    run = subprocess.run(
        [str(Path(sys.executable).with_name("xxgk")), "run", "--seed", str(REPO / "tests" / "fixtures" / "samples")],
        cwd=root, env={**env, "PREFECT_API_URL": prefect_server}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return root, run.stdout


def _delta_duckdb() -> tuple[duckdb.DuckDBPyConnection, list[Any]]:
    delta_sql = _blocks("sql")[0]
    statements = _statements(delta_sql)
    assert len(statements) == 5
    con = duckdb.connect()
    con.execute(f"LOAD '{_delta_extension()}'")  # offline: the PyPI wheel's build, as the dictionary says
    for view in statements[:3]:
        con.execute(view)
    return con, statements


def test_the_delta_examples_run_on_what_make_run_writes(made_run: tuple[Path, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(made_run[0])  # the repository root of a user who ran `make run`
    con, statements = _delta_duckdb()
    totals = con.sql(statements[3]).fetchall()
    assert {agency for _, agency, _, _ in totals} == AGENCIES and len(totals) == 2 * 4
    assert (2019, "上海市人民政府办公厅", "new_received", 859) in totals
    blanks = dict(con.sql(statements[4]).fetchall())
    assert sum(blanks.values()) > 0 and set(blanks) <= {"zero_confirmed", "unknown", None}

    python = _blocks("python")[0]
    scope: dict[str, object] = {}
    exec(compile(python, str(DICTIONARY), "exec"), scope)  # the documented example, as printed
    assert len(scope["cells"]) > 0 and set(scope["cells"]["table"]) == {"t4"}  # type: ignore[index]
    assert len(scope["reports"]) == 5 and int(scope["reports"]["is_current"].sum()) == 4  # type: ignore[index]
    assert "failed" in scope and len(scope["checks"]) > 0  # type: ignore[arg-type]
    assert con.sql("SELECT count(*) FROM reports WHERE is_current").fetchone() == (4,)


def test_the_snapshot_examples_run_on_what_make_run_writes(made_run: tuple[Path, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root, stdout = made_run
    assert "snapshot: xxgk-output/out/snapshot/" in stdout, stdout[-2000:]
    monkeypatch.chdir(root)
    delta, statements = _delta_duckdb()
    from_delta = delta.sql(statements[3]).fetchall()

    (set_variable, totals_sql, reports_sql) = _statements(_blocks("sql")[1])
    con = duckdb.connect()  # no extension: plain parquet
    con.execute(set_variable)
    totals = con.sql(totals_sql).fetchall()
    assert totals == from_delta and (2019, "上海市人民政府办公厅", "new_received", 859) in totals
    by_year = con.sql(reports_sql).fetchall()
    assert sum(n for _, _, n in by_year) == 5 and sum(n for _, cur, n in by_year if cur) == 4

    scope: dict[str, Any] = {}
    exec(compile(_blocks("python")[1], str(DICTIONARY), "exec"), scope)  # Polars and pandas, as printed
    cells, reports, current = scope["cells"], scope["reports"], scope["current"]
    delta_t4 = delta.sql("SELECT count(*) FROM cells WHERE year = 2024 AND \"table\" = 't4'").fetchone()
    assert delta_t4 is not None and len(cells) == delta_t4[0] > 0 and set(cells["table"]) == {"t4"}
    assert len(reports) == 5 and set(current["agency"]) == AGENCIES and len(current) == 4
    assert set(current["report_id"]) == {r for (r,) in delta.sql("SELECT report_id FROM reports WHERE is_current").fetchall()}


def test_the_spark_example_reads_the_snapshot(made_run: tuple[Path, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(made_run[0])
    delta, statements = _delta_duckdb()
    from_delta = delta.sql(statements[3]).fetchall()
    scope: dict[str, Any] = {}
    started = time.monotonic()
    exec(compile(_blocks("python")[2], str(DICTIONARY), "exec"), scope)  # Spark, as printed
    print(f"\nthe Spark example: {time.monotonic() - started:.1f} s (load {os.getloadavg()[0]:.1f})")
    got = sorted((r["year"], r["agency"], r["row"], r["total"]) for r in scope["totals"])
    assert got == sorted(from_delta) and len(got) == 2 * 4


def _delta_extension() -> str:
    """The path the data dictionary's one-liner prints."""
    import duckdb_extension_delta

    (path,) = Path(duckdb_extension_delta.__file__).parent.glob("extensions/*/*")
    return str(path)
