"""Misconfiguration as a user meets it: `xxgk extract s3://…` and `xxgk ingest` pointed at storage
they cannot use (no credentials, nothing listening, access refused, no such bucket, no such folder)
print one line — `xxgk: <type>: <message>` — exit 3, print no traceback and nothing on stdout.

The S3 side is moto's server (and a proxy in front of it answering 403 to everything); the
unreachable endpoint is a free port nothing listens on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, free_port, raw_client, unique_name
from s3proxy import Fault, S3FaultProxy

from tasks.settings import StorageSettings

XXGK = str(Path(sys.executable).with_name("xxgk"))
SAMPLE = Path(__file__).parent / "fixtures" / "samples" / "hongze_2024_pdf" / "source.pdf"


def _env(endpoint: str, *, credentials: bool = True) -> dict[str, str]:
    """This environment without any AWS_* / XXGK_* setting, pointed at `endpoint`; no credentials
    anywhere in boto3's chain unless asked (no profile file, no instance metadata)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XXGK_", "PREFECT_"))}
    env.update({
        "XXGK_S3_ENDPOINT_URL": endpoint, "XXGK_S3_ADDRESSING_STYLE": "path", "XXGK_S3_MAX_ATTEMPTS": "2",
        "XXGK_S3_CONNECT_TIMEOUT_S": "2", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true", "PYTHONIOENCODING": "utf-8",
    })  # fmt: skip
    if credentials:
        env.update({"XXGK_S3_ACCESS_KEY_ID": DUMMY_KEY_ID, "XXGK_S3_SECRET_ACCESS_KEY": DUMMY_SECRET})
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XXGK, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def assert_one_typed_line(proc: subprocess.CompletedProcess[str], error_type: str, *needles: str) -> None:
    detail = f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 3, detail
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, detail
    assert lines[0].startswith(f"xxgk: {error_type}: "), detail
    for needle in needles:
        assert needle in lines[0], detail
    assert "Traceback" not in proc.stderr and proc.stdout == "", detail
    assert DUMMY_SECRET not in proc.stderr


@pytest.fixture
def bucket(moto_settings: StorageSettings) -> str:
    name = unique_name("uploads")
    client = raw_client("s3", moto_settings)
    client.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    client.put_object(Bucket=name, Key="incoming/hongze.pdf", Body=SAMPLE.read_bytes())  # type: ignore[attr-defined]
    return name


class Refusing(S3FaultProxy):
    """Every request answered 403 AccessDenied, as S3 does for a key without permission."""

    def fault_for(self, method: str, path: str) -> Fault:
        return ("status", 403)


@pytest.fixture
def refusing(moto_server: str) -> Iterator[str]:
    proxy = Refusing(moto_server)
    try:
        yield proxy.url
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()


def _unreachable() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


# ------------------------------------------------------------------ xxgk extract s3://…


def test_extract_without_credentials(moto_server: str, bucket: str, tmp_path: Path) -> None:
    proc = _run(["extract", f"s3://{bucket}/incoming/hongze.pdf"], _env(moto_server, credentials=False), tmp_path)
    assert_one_typed_line(proc, "MissingCredentials", "XXGK_S3_ACCESS_KEY_ID")


def test_extract_from_an_unreachable_endpoint(bucket: str, tmp_path: Path) -> None:
    endpoint = _unreachable()
    proc = _run(["extract", f"s3://{bucket}/incoming/hongze.pdf"], _env(endpoint), tmp_path)
    assert_one_typed_line(proc, "EndpointUnreachable", endpoint)


def test_extract_with_access_denied(refusing: str, bucket: str, tmp_path: Path) -> None:
    proc = _run(["extract", f"s3://{bucket}/incoming/hongze.pdf"], _env(refusing), tmp_path)
    assert_one_typed_line(proc, "AccessDenied", bucket)


def test_extract_from_a_missing_bucket(moto_server: str, tmp_path: Path) -> None:
    missing = unique_name("no-such-bucket")
    proc = _run(["extract", f"s3://{missing}/incoming/hongze.pdf"], _env(moto_server), tmp_path)
    assert_one_typed_line(proc, "BucketNotFound", missing)


def test_extract_of_a_missing_key_is_still_a_document_error(moto_server: str, bucket: str, tmp_path: Path) -> None:
    proc = _run(["extract", f"s3://{bucket}/incoming/nope.pdf"], _env(moto_server), tmp_path)
    assert proc.returncode == 3 and '"FileNotFound"' in proc.stdout, proc.stdout + proc.stderr


# ------------------------------------------------------------------ xxgk ingest


def _ingest(source: str, output: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run(["ingest", source, "--output", output], env, cwd)


def test_ingest_without_credentials(moto_server: str, bucket: str, tmp_path: Path) -> None:
    proc = _ingest(f"s3://{bucket}/incoming", str(tmp_path / "out"), _env(moto_server, credentials=False), tmp_path)
    assert_one_typed_line(proc, "MissingCredentials")
    assert not (tmp_path / "out").exists()


def test_ingest_from_an_unreachable_endpoint(tmp_path: Path) -> None:
    endpoint = _unreachable()
    proc = _ingest("s3://uploads/incoming", str(tmp_path / "out"), _env(endpoint), tmp_path)
    assert_one_typed_line(proc, "EndpointUnreachable", endpoint)


def test_ingest_with_access_denied(refusing: str, bucket: str, tmp_path: Path) -> None:
    proc = _ingest(f"s3://{bucket}/incoming", str(tmp_path / "out"), _env(refusing), tmp_path)
    assert_one_typed_line(proc, "AccessDenied", bucket)


def test_ingest_from_a_missing_bucket(moto_server: str, tmp_path: Path) -> None:
    missing = unique_name("no-such-bucket")
    proc = _ingest(f"s3://{missing}/incoming", str(tmp_path / "out"), _env(moto_server), tmp_path)
    assert_one_typed_line(proc, "BucketNotFound", missing)


def test_ingest_into_a_missing_bucket(moto_server: str, bucket: str, tmp_path: Path) -> None:
    missing = unique_name("no-such-output")
    proc = _ingest(f"s3://{bucket}/incoming", f"s3://{missing}/curated", _env(moto_server), tmp_path)
    assert_one_typed_line(proc, "BucketNotFound", missing)


def test_ingest_from_a_missing_folder(tmp_path: Path) -> None:
    proc = _ingest(str(tmp_path / "no-such-folder"), str(tmp_path / "out"), _env(_unreachable()), tmp_path)
    assert_one_typed_line(proc, "SourceNotFound", str(tmp_path / "no-such-folder"))
    assert "tables:" not in proc.stdout and not (tmp_path / "out").exists()


def test_ingest_when_the_temporary_server_cannot_start(tmp_path: Path) -> None:
    """No PREFECT_API_URL, and a Prefect database the temporary server cannot open: uvicorn exits 3 at
    start-up, which Prefect takes for a port in use and restarts for ever; the command gives up after
    a few launches with one typed line naming the server's own error, and writes nothing."""
    source = tmp_path / "in"
    source.mkdir()
    (source / "hongze.pdf").write_bytes(SAMPLE.read_bytes())
    env = _env(_unreachable())
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"),
                "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{SAMPLE}/not-a-folder/prefect.db"})  # fmt: skip
    # three start-ups of the server: 5-60 s each on a loaded 2-core machine
    proc = _run(["ingest", str(source), "--output", str(tmp_path / "out")], env, tmp_path, timeout=600)
    assert_one_typed_line(proc, "ServerUnavailable", "unable to open database file", "temporary-server.log")
    assert "unable to open database file" in (tmp_path / "prefect" / "temporary-server.log").read_text()
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ xxgk watch


def test_watch_of_a_missing_folder(tmp_path: Path) -> None:
    proc = _run(["watch", str(tmp_path / "no-such-folder"), "--output", str(tmp_path / "out"), "--max-batches", "1"],
                _env(_unreachable()), tmp_path)  # fmt: skip
    assert_one_typed_line(proc, "SourceNotFound", str(tmp_path / "no-such-folder"))


def test_watch_of_a_missing_queue(moto_server: str, bucket: str, tmp_path: Path) -> None:
    queue = f"{moto_server}/123456789012/{unique_name('no-such-queue')}"
    env = {**_env(moto_server), "XXGK_S3_SQS_ENDPOINT_URL": moto_server}
    proc = _run(["watch", f"s3://{bucket}", "--output", str(tmp_path / "out"), "--queue", queue, "--max-batches", "1"],
                env, tmp_path)  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("xxgk: ")]
    assert line.startswith("xxgk: QueueNotFound: ") and queue in line, proc.stderr
    assert "Traceback" not in proc.stderr and DUMMY_SECRET not in proc.stderr


def test_ingest_from_a_location_without_a_bucket(tmp_path: Path) -> None:
    proc = _ingest("s3://", str(tmp_path / "out"), _env(_unreachable()), tmp_path)
    assert_one_typed_line(proc, "InvalidLocation", "s3://")
