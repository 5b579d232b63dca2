"""End-to-end fixtures: one Prefect test server per session, the pipeline pointed at moto or SeaweedFS.

- `prefect_server` (session): `prefect_test_harness`, a real Prefect API server on SQLite (~10 s).
  Every e2e test uses it, through `pipeline_env`.
- `pipeline_env` (autouse): the pipeline's XXGK_* settings for tests (2 extraction processes, a
  short batch window and poll interval), set with monkeypatch.
- `moto_env` / `seaweed_env`: XXGK_S3_* pointing the pipeline at moto's server (S3 + SQS) or at
  SeaweedFS (S3 only; the polling path); each returns the `StorageSettings` for test set-up.
- Helpers (plain functions) to read the outputs back: pyarrow datasets over a local folder or
  over S3 (pyarrow's own S3 client), DuckDB over the same, and the cell comparison with
  `tasks.extract.extract_bytes`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pytest
import tables
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, s3_settings

from tasks.settings import StorageSettings

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
DATASETS = ("cells", "reports", "checks", "t2_active_disclosure", "t3_applications", "t4_review_litigation")
BAD_PDF = b"%PDF-1.4\n% not really a PDF: no objects, no /Root\n%%EOF\n"


def sample(name: str) -> bytes:
    """The source file of tests/fixtures/samples/<name>."""
    (path,) = (SAMPLES / name).glob("source.*")
    return path.read_bytes()


def jining_variant(county: str) -> bytes:
    """The 2021 text report under another agency's name (same year, different agency)."""
    return sample("jining_org_dept_2021_text").replace("济宁经济技术开发区党工委组织部".encode(), f"{county}县人民政府".encode())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def report_id_of(data: bytes) -> str:
    from tasks.agency import report_id

    return report_id(sha256(data))


def extracted(data: bytes) -> dict[str, Any]:
    """What `xxgk extract` prints for these bytes (the §10 dict); a fresh copy each call."""
    return json.loads(_extracted(data))


@functools.lru_cache(maxsize=32)
def _extracted(data: bytes) -> str:
    from tasks.extract import extract_bytes

    return json.dumps(extract_bytes(data).to_dict(), ensure_ascii=False)


# ---------------------------------------------------------------- Prefect


@pytest.fixture(autouse=True)
def pipeline_env(prefect_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XXGK_WORKERS", "2")  # extraction processes (the pool lives for the session)
    monkeypatch.setenv("XXGK_BATCH_SECONDS", "1.5")
    monkeypatch.setenv("XXGK_POLL_SECONDS", "0.3")
    for name in ("XXGK_SOURCE", "XXGK_OUTPUT", "XXGK_STRICT", "XXGK_BATCH_SIZE", "XXGK_S3_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    return prefect_server


def _point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> StorageSettings:
    monkeypatch.setenv("XXGK_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("XXGK_S3_SQS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("XXGK_S3_ACCESS_KEY_ID", DUMMY_KEY_ID)
    monkeypatch.setenv("XXGK_S3_SECRET_ACCESS_KEY", DUMMY_SECRET)
    monkeypatch.setenv("XXGK_S3_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("XXGK_S3_REGION", "us-east-1")
    monkeypatch.setenv("XXGK_S3_MAX_ATTEMPTS", "3")
    return s3_settings(endpoint)


@pytest.fixture
def moto_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> StorageSettings:
    return _point_at(monkeypatch, moto_server)


@pytest.fixture
def seaweed_env(seaweedfs_s3: str, monkeypatch: pytest.MonkeyPatch) -> StorageSettings:
    return _point_at(monkeypatch, seaweedfs_s3)


def put(settings: StorageSettings, bucket: str, key: str, data: bytes) -> None:
    raw_client("s3", settings).put_object(Bucket=bucket, Key=key, Body=data)  # type: ignore[attr-defined]


def wait_for(probe: Callable[[], Any], timeout: float = 20.0, interval: float = 0.3) -> Any:
    """`probe()` once it is truthy; its last value when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def run_watch(*args: Any, limit_s: float = 90.0, **kwargs: Any) -> int:
    """`flows.watch.watch(...)`, stopped after `limit_s` whatever happens: a regression fails the
    test (fewer batches than expected) instead of hanging the suite."""
    from flows.watch import watch

    stop = kwargs.pop("stop", None) or threading.Event()
    timer = threading.Timer(limit_s, stop.set)
    timer.daemon = True
    timer.start()
    try:
        return watch(*args, stop=stop, **kwargs)
    finally:
        timer.cancel()


# ---------------------------------------------------------------- reading outputs back


class Outputs:
    """The parquet datasets (and other files) under an output root, read with pyarrow and DuckDB."""

    def __init__(self, fs: pafs.FileSystem, root: str, uri: str | None = None, options: dict[str, str] | None = None) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.uri = (uri or root).rstrip("/")  # for deltalake
        self.options = options

    @classmethod
    def local(cls, root: Path | str) -> Outputs:
        return cls(pafs.LocalFileSystem(), str(root))

    @classmethod
    def s3(cls, settings: StorageSettings, uri: str) -> Outputs:
        """`uri` = s3://bucket/prefix, read through pyarrow's S3 client (not the pipeline's boto3)."""
        endpoint = urlparse(settings.endpoint_url or "")
        fs = pafs.S3FileSystem(
            access_key=DUMMY_KEY_ID,
            secret_key=DUMMY_SECRET,
            region=settings.region,
            endpoint_override=endpoint.netloc,
            scheme=endpoint.scheme,
            force_virtual_addressing=False,
        )
        return cls(fs, uri.removeprefix("s3://"), uri, tables.s3_options(settings))

    def files(self, sub: str = "") -> list[str]:
        """Paths of every file under root/sub, relative to the root."""
        selector = pafs.FileSelector(f"{self.root}/{sub}".rstrip("/"), recursive=True, allow_not_found=True)
        return sorted(
            i.path[len(self.root) + 1 :] for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File
        )

    def read(self, rel: str) -> bytes:
        with self.fs.open_input_stream(f"{self.root}/{rel}") as fh:
            return fh.read()

    def json(self, rel: str) -> Any:
        return json.loads(self.read(rel))

    def table(self, name: str) -> pa.Table:
        """The dataset through its Delta log, as a reader sees it (tests/tables.py): `cells` and
        the wide views hold the current reports, `checks` and `reports` every version."""
        t = tables.table(self.uri, name, self.options)
        assert t is not None, f"no Delta table {name} under {self.uri}"
        return t

    def has(self, name: str) -> bool:
        return tables.raw(self.uri, name, self.options) is not None

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.table(name).to_pylist()

    def duck(self) -> duckdb.DuckDBPyConnection:
        """DuckDB with every dataset registered as a view of the same Arrow tables (the data
        dictionary's own DuckDB examples, with the delta extension, are tested apart)."""
        con = duckdb.connect()
        for name in DATASETS:
            if self.has(name):
                con.register(name, self.table(name))
        return con

    def counts(self) -> dict[str, int]:
        return {name: self.table(name).num_rows for name in DATASETS if self.has(name)}


def _num(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def assert_cells_equal(rows: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    """The published cell rows of one report equal the extraction's cells, one for one."""
    got = {(r["table"], r["block"], r["row"], r["col"]): r for r in rows}
    assert len(got) == len(rows) == len(expected["cells"]), "each cell exactly once"
    for c in expected["cells"]:
        r = got[(c["table"], c.get("block"), c["row"], c["col"])]
        where = f"{c['table']}/{c.get('block')}/{c['row']}/{c['col']}"
        assert _num(r["value"]) == _num(c["value"]), where
        assert r["status"] == c["status"], where
        assert r["raw"] == c.get("raw"), where
        assert r["unit"] == c.get("unit"), where
        assert r["page"] == c.get("page"), where
        if c.get("bbox") is None:
            assert r["bbox"] is None, where
        else:
            assert r["bbox"] == pytest.approx(c["bbox"], abs=1e-2), where
