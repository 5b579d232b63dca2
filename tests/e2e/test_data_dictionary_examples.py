"""The data dictionary's examples run as printed, from the repository root, on what `make run`
writes: `xxgk run` in a scratch checkout root (its defaults: xxgk-output/bucket → xxgk-output/out),
then every ```sql statement through DuckDB and every ```python block through Python there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
DICTIONARY = REPO / "docs" / "data-dictionary.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DICTIONARY.read_text("utf-8"), flags=re.S)


def test_the_examples_run_on_what_make_run_writes(tmp_path: Path, pipeline_env: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if k not in ("XXGK_SOURCE", "XXGK_OUTPUT")}
    run = subprocess.run(
        [str(Path(sys.executable).with_name("xxgk")), "run", "--seed", str(REPO / "tests" / "fixtures" / "samples")],
        cwd=tmp_path, env={**env, "PREFECT_API_URL": pipeline_env}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    monkeypatch.chdir(tmp_path)  # the repository root of a user who ran `make run`

    (sql,) = _blocks("sql")
    statements = [s for s in sql.split(";") if s.strip() and not all(line.startswith("--") for line in s.strip().splitlines())]
    assert len(statements) == 5
    con = duckdb.connect()
    con.execute(f"LOAD '{_delta_extension()}'")  # offline: the PyPI wheel's build, as the dictionary says
    for view in statements[:3]:
        con.execute(view)
    totals = con.sql(statements[3]).fetchall()
    # 5 samples, 4 current reports: the synthetic DOCX and PDF are the same agency and year
    agencies = {"上海市人民政府办公厅", "样例县人民政府", "济宁经济技术开发区党工委组织部", "淮安市洪泽区人民政府"}
    assert {agency for _, agency, _, _ in totals} == agencies and len(totals) == 2 * 4
    assert (2019, "上海市人民政府办公厅", "new_received", 859) in totals
    blanks = dict(con.sql(statements[4]).fetchall())
    assert sum(blanks.values()) > 0 and set(blanks) <= {"zero_confirmed", "unknown", None}

    (python,) = _blocks("python")
    scope: dict[str, object] = {}
    exec(compile(python, str(DICTIONARY), "exec"), scope)  # the documented example, as printed
    assert len(scope["cells"]) > 0 and set(scope["cells"]["table"]) == {"t4"}  # type: ignore[index]
    assert len(scope["reports"]) == 5 and int(scope["reports"]["is_current"].sum()) == 4  # type: ignore[index]
    assert "failed" in scope and len(scope["checks"]) > 0  # type: ignore[arg-type]
    assert con.sql("SELECT count(*) FROM reports WHERE is_current").fetchone() == (4,)


def _delta_extension() -> str:
    """The path the data dictionary's one-liner prints."""
    import duckdb_extension_delta

    (path,) = Path(duckdb_extension_delta.__file__).parent.glob("extensions/*/*")
    return str(path)
