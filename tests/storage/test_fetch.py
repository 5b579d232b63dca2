"""`Store.fetch`: the bytes of an upload with what the read itself returned (ETag, VersionId,
length), and reads bounded by a size limit, on a local folder, moto and SeaweedFS."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import raw_client, s3_settings
from s3proxy import S3FaultProxy

from tasks.errors import DocumentTooLarge
from tasks.settings import StorageSettings
from tasks.storage import LocalStore, ObjectNotFound, ObjectTooLarge, S3Store, Store

SLOW = pytest.mark.slow


@pytest.fixture(params=["local", pytest.param("moto", marks=SLOW), pytest.param("seaweedfs", marks=SLOW)])
def store(request: pytest.FixtureRequest, tmp_path: Path, make_bucket: Callable[[StorageSettings], str]) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "bucket")
    settings = request.getfixturevalue(f"{request.param}_settings")
    return S3Store(make_bucket(settings), "scope", settings)


def test_fetch_returns_the_etag_of_the_bytes_read_not_the_listings(store: Store) -> None:
    store.put("r.pdf", b"first version")
    (listed,) = store.list()
    store.put("r.pdf", b"the second, longer version")  # replaced between listing and reading
    got = store.fetch("r.pdf")
    assert got.data == b"the second, longer version"
    now = store.head("r.pdf")
    assert now is not None and got.info.etag == now.etag != listed.etag
    assert got.info.size == len(got.data) and got.info.key == "r.pdf"
    assert got.info.last_modified.tzinfo is not None and got.info.last_modified >= listed.last_modified


def test_fetch_refuses_an_object_over_the_limit(store: Store) -> None:
    store.put("big.pdf", b"x" * 5000)
    with pytest.raises(ObjectTooLarge) as caught:
        store.fetch("big.pdf", max_bytes=4999)
    assert isinstance(caught.value, DocumentTooLarge) and caught.value.type == "DocumentTooLarge"
    head = store.head("big.pdf")
    assert head is not None and caught.value.info.size == 5000 and caught.value.info.etag == head.etag
    assert store.fetch("big.pdf", max_bytes=5000).data == b"x" * 5000  # the limit itself is allowed
    with pytest.raises(ObjectNotFound):
        store.fetch("missing.pdf", max_bytes=10)


@SLOW
def test_fetch_returns_the_version_id_on_a_versioned_bucket(
    moto_settings: StorageSettings, make_bucket: Callable[[StorageSettings], str]
) -> None:
    bucket = make_bucket(moto_settings)
    s3 = raw_client("s3", moto_settings)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})  # type: ignore[attr-defined]
    first = s3.put_object(Bucket=bucket, Key="r.pdf", Body=b"one")["VersionId"]  # type: ignore[attr-defined]
    second = s3.put_object(Bucket=bucket, Key="r.pdf", Body=b"two")["VersionId"]  # type: ignore[attr-defined]
    got = S3Store(bucket, "", moto_settings).fetch("r.pdf")
    assert first != second and got.info.version_id == second and got.data == b"two"


class ChunkedProxy(S3FaultProxy):
    """Answers every GET itself with `total` bytes in chunked encoding (no Content-Length: nothing
    tells the client the size) and counts how many bytes the client let it send."""

    def __init__(self, upstream: str, total: int) -> None:
        self.total = total
        self.sent = 0
        self.finished = threading.Event()
        super().__init__(upstream)

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        if req.command != "GET":
            super().handle(req)
            return
        req.send_response(200)
        req.send_header("Transfer-Encoding", "chunked")
        req.send_header("ETag", '"0123456789abcdef0123456789abcdef"')
        req.send_header("Last-Modified", "Tue, 01 Dec 2026 12:00:00 GMT")
        req.end_headers()
        chunk = b"y" * 65536
        try:
            while self.sent < self.total:
                req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.sent += len(chunk)
            req.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            req.close_connection = True
            self.finished.set()


@pytest.fixture
def chunked_proxy(moto_server: str) -> Iterator[ChunkedProxy]:
    proxy = ChunkedProxy(moto_server, total=256 * 2**20)
    yield proxy
    proxy.close()


@SLOW
def test_a_stream_of_unknown_length_is_read_only_up_to_the_limit(
    chunked_proxy: ChunkedProxy, make_bucket: Callable[[StorageSettings], str], moto_settings: StorageSettings
) -> None:
    store = S3Store(make_bucket(moto_settings), "", s3_settings(chunked_proxy.url, max_attempts=1))
    with pytest.raises(ObjectTooLarge):
        store.fetch("endless.pdf", max_bytes=2**20)
    assert chunked_proxy.finished.wait(30)
    assert chunked_proxy.sent < chunked_proxy.total / 4, chunked_proxy.sent  # the client hung up early
