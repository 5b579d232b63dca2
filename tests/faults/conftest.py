"""Fault-test fixtures: one Prefect test server per session, the pipeline's settings for tests,
and the corpus every fault test ingests (copies of the samples made unique, plus hostile files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile.generate import BY_NAME, SAMPLES

CORPUS_HOSTILE = {"a_encrypted.pdf": "pdf_encrypted", "z_truncated.pdf": "truncated_hongze_60"}
"""Sorted first and last: one is quarantined in the first batch, one in the last."""


JINING_AGENCY = "济宁经济技术开发区党工委组织部"


def renamed(county: str) -> bytes:
    """The jining text report under another agency's name (another agency, the same year)."""
    text = (SAMPLES / "jining_org_dept_2021_text" / "source.txt").read_bytes()
    return text.replace(JINING_AGENCY.encode(), f"{county}县人民政府".encode())


def corpus() -> dict[str, bytes]:
    """Object key → bytes: 5 samples (a byte appended: new sha256, still parsing), 3 variants of
    the text sample under other agencies' names, and 2 hostile files. 10 uploads, 10 agencies-or-errors."""
    out: dict[str, bytes] = {}
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        (src,) = folder.glob("source.*")
        out[f"m_{folder.name}{src.suffix}"] = src.read_bytes() + b"\n"
    for county in ("甲", "乙", "丙"):
        out[f"n_{county}.txt"] = renamed(county)
    for key, case in CORPUS_HOSTILE.items():
        out[key] = BY_NAME[case].build()
    return out


def write_corpus(folder: Path) -> dict[str, bytes]:
    files = corpus()
    for key, data in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(data)
    return files


@pytest.fixture(autouse=True)
def pipeline_env(prefect_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XXGK_WORKERS", "2")
    monkeypatch.setenv("XXGK_BATCH_SECONDS", "1")
    monkeypatch.setenv("XXGK_BATCH_SIZE", "3")
    for name in ("XXGK_SOURCE", "XXGK_OUTPUT", "XXGK_STRICT", "XXGK_S3_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    return prefect_server
