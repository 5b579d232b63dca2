"""Shared fixtures: the samples' extraction dicts (extracted once) and the GX module (imported once)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tasks.extract import extract_path

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"


def _extract(name: str) -> dict[str, Any]:
    path = next((SAMPLES / name).glob("source.*"))
    d = extract_path(path).to_dict()
    d["report_id"] = name
    d["agency_id"] = "A" + name.split("_")[0]
    return d


@pytest.fixture(scope="session")
def sample_dicts() -> dict[str, dict[str, Any]]:
    return {p.name: _extract(p.name) for p in sorted(SAMPLES.iterdir()) if p.is_dir()}


@pytest.fixture
def sample(sample_dicts):  # type: ignore[no-untyped-def]
    """A deep copy of one sample's extraction dict, safe to mutate."""
    return lambda name: copy.deepcopy(sample_dicts[name])


@pytest.fixture(scope="session")
def gxmod():  # type: ignore[no-untyped-def]
    """`tasks.checks.gx`, imported once per session (importing GX takes seconds)."""
    from tasks.checks import gx

    return gx
