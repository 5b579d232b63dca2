"""Credentials are removed from every URL and S3 URI by parsing it (tasks/redact.py), in every form."""

from __future__ import annotations

import logging

import pytest

from tasks.quality import safe_source, scrub
from tasks.redact import redact_location, redact_text
from tasks.storage import open_store


@pytest.mark.parametrize(
    ("location", "written"),
    [
        ("https://user:pw@host/a.pdf", "https://host/a.pdf"),  # no query string after it
        ("s3://KEY:SECRET@bucket/key", "s3://bucket/key"),
        ("https://user:pw@host/a.pdf?X-Amz-Signature=abc&X-Amz-Credential=K#frag", "https://host/a.pdf"),
        ("https://host/a.pdf?X-Amz-Credential=AKIA&X-Amz-Signature=abc", "https://host/a.pdf"),
        ("HTTPS://user:pw@HOST/x", "https://HOST/x"),
        ("https://user:pw@host", "https://host"),
        ("https://user@host/a", "https://host/a"),
        ("https://us%40er:p%3Aw@host/a", "https://host/a"),
        ("https://user:p@ss@host:8443/a", "https://host:8443/a"),  # an unescaped @ in the password
        ("https://user:pa/ss@host/a.pdf", "https://REDACTED/ss@host/a.pdf"),  # an unescaped / in the password
        ("ftp://a:b@[::1]:21/x", "ftp://[::1]:21/x"),
        ("s3://bucket/mirror/https://user:pw@host/a.pdf", "s3://bucket/mirror/https://host/a.pdf"),  # a key holding a URL
        ("s3://K:S@bucket/mirror/https://user:pw@host/a.pdf?sig=1", "s3://bucket/mirror/https://host/a.pdf"),
        ("s3://bucket/a?b#c.pdf", "s3://bucket/a?b#c.pdf"),  # ? and # are key characters in S3
        ("file:///tmp/a?b.pdf", "file:///tmp/a?b.pdf"),
        ("/data/uploads/a?b.pdf", "/data/uploads/a?b.pdf"),  # a path: nothing to redact
        ("incoming/报告.pdf", "incoming/报告.pdf"),
        ("https://[::1/x", "https://REDACTED"),  # unparseable: nothing of the authority is kept
        ("s3://bucket/a\x00b\x1b.pdf", "s3://bucket/a%00b%1B.pdf"),  # one line, no raw control character
        ("", ""),
    ],
)
def test_every_form_is_redacted(location: str, written: str) -> None:
    assert redact_location(location) == written
    assert safe_source(location) == written


def test_messages_lose_the_credentials_of_every_url_in_them() -> None:
    msg = ("could not fetch https://user:pw@host/a.pdf (ConnectTimeout); source s3://KEY:SECRET@bucket/k, "
           "see 'https://h/x?X-Amz-Signature=sig' and s3://b/mirror/http://u:p@h2/y")  # fmt: skip
    out = redact_text(msg)
    assert out == ("could not fetch https://host/a.pdf (ConnectTimeout); source s3://bucket/k, "
                   "see 'https://h/x' and s3://b/mirror/http://h2/y")  # fmt: skip
    assert scrub(msg) == out
    for secret in ("user:pw", "KEY", "SECRET", "sig", "u:p"):
        assert secret not in out.replace("X-Amz", "")


def test_a_location_to_open_keeps_its_control_characters() -> None:
    assert redact_location("/tmp/a\x01b", escape=False) == "/tmp/a\x01b"
    assert redact_location("s3://K:S@b/a\x01", escape=False) == "s3://b/a\x01"


def test_log_records_are_redacted_as_they_are_created(caplog: pytest.LogCaptureFixture) -> None:
    import tasks  # noqa: F401 - installs the redaction

    log = logging.getLogger("tasks.test_redact")
    with caplog.at_level(logging.INFO, logger="tasks.test_redact"):
        log.info("fetched %s and %s", "https://user:pw@host/a.pdf", "s3://KEY:SECRET@bucket/k")
        log.warning("source https://u:p@h/x?X-Amz-Signature=sig (%d%%)", 5)
    assert [r.getMessage() for r in caplog.records] == [
        "fetched https://host/a.pdf and s3://bucket/k",
        "source https://h/x (5%)",
    ]
    assert "pw" not in caplog.text and "SECRET" not in caplog.text and "sig" not in caplog.text


def test_an_s3_location_with_credentials_opens_the_bucket_without_them(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tasks.storage"):
        store = open_store("s3://AKIAZQ9:Zq9-secret@bucket/prefix")
    assert (store.bucket, store.prefix) == ("bucket", "prefix/")  # type: ignore[attr-defined]
    assert store.uri == "s3://bucket/prefix/" and store.url("a.pdf") == "s3://bucket/prefix/a.pdf"
    assert "ignored" in caplog.text and "Zq9" not in caplog.text
