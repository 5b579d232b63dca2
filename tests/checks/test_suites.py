"""The committed suites in expectations/ are what the spec generates, and GX accepts them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tasks.checks.suites import COMMAND, DEFAULT_DIR, build_suites, dumps

ROOT = Path(__file__).resolve().parents[2]


def test_committed_suites_match_the_spec() -> None:
    built = build_suites()
    committed = {p.stem: p.read_text("utf-8") for p in sorted(DEFAULT_DIR.glob("*.json"))}
    drift = sorted(set(built) ^ set(committed)) + sorted(n for n in built if n in committed and dumps(built[n]) != committed[n])
    assert not drift, f"expectations/ drifted from tasks/spec ({', '.join(drift)}): run `{COMMAND}` and commit"


def test_generation_is_deterministic() -> None:
    assert {n: dumps(s) for n, s in build_suites().items()} == {n: dumps(s) for n, s in build_suites().items()}


def test_gx_round_trips_every_suite(gxmod) -> None:  # type: ignore[no-untyped-def]
    for name, d in build_suites().items():
        suite = gxmod.gx.ExpectationSuite(**json.loads(dumps(d)))
        assert suite.to_json_dict() == d, name


def test_every_suite_has_a_frame(gxmod) -> None:  # type: ignore[no-untyped-def]
    assert set(gxmod.SUITE_FRAMES) == set(build_suites())


@pytest.mark.parametrize("path", sorted((ROOT / "tasks" / "checks").glob("*.py")), ids=lambda p: p.name)
def test_only_gx_module_imports_great_expectations(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    assert not mods & {"prefect", "boto3", "botocore"}
    if path.name != "gx.py":
        assert "great_expectations" not in mods
