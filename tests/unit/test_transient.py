"""What the tasks retry (`retry_condition_fn=steps.transient_only` over `storage.is_transient`):
transient I/O only, never a misconfiguration, a document error, a missing object or a bug."""

from __future__ import annotations

import errno

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from prefect.states import Failed

from tasks.errors import AccessDenied, BucketNotFound, CorruptDocument, EndpointUnreachable, MissingCredentials
from tasks.steps import transient_only
from tasks.storage import ObjectNotFound, TypedErrors, UnsafeKey, is_transient


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


@pytest.mark.parametrize(
    "exc",
    [_client_error("SlowDown", 503), _client_error("InternalError", 500), _client_error("503", 503),
     ReadTimeoutError(endpoint_url="http://x"), ConnectionResetError(), TimeoutError(), OSError(errno.EIO, "I/O error")],
)  # fmt: skip
def test_transient(exc: BaseException) -> None:
    assert is_transient(exc)
    assert transient_only(None, None, Failed(data=exc))


@pytest.mark.parametrize(
    "exc",
    [AccessDenied("x"), MissingCredentials("x"), EndpointUnreachable("x"), BucketNotFound("x"), CorruptDocument("x"),
     ObjectNotFound("x"), UnsafeKey("x"), PermissionError(), _client_error("AccessDenied", 403),
     _client_error("NoSuchKey", 404), ValueError("a bug"), KeyError("a bug")],
)  # fmt: skip
def test_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)
    assert not transient_only(None, None, Failed(data=exc))


def test_botocore_misconfigurations_are_translated() -> None:
    typed = TypedErrors(object(), "s3", "http://127.0.0.1:9")
    params = {"Bucket": "b"}
    assert isinstance(typed.translate(NoCredentialsError(), "get_object", params), MissingCredentials)
    assert isinstance(typed.translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "list", params),
                      EndpointUnreachable)  # fmt: skip
    assert isinstance(typed.translate(_client_error("InvalidAccessKeyId", 403), "get_object", params), AccessDenied)
    assert isinstance(typed.translate(_client_error("NoSuchBucket", 404), "list", params), BucketNotFound)
    other = _client_error("NoSuchKey", 404)
    assert typed.translate(other, "get_object", params) is other  # left for the store to handle
