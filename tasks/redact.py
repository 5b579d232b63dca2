"""Locations fit to write: credentials removed from every URL and S3 URI, by parsing them.

A location is written in many places — the parquet `source` column, quarantine records, the ledger,
quality JSON and HTML, Prefect artifacts, events and run parameters, logs — and may carry
credentials: `https://user:pw@host/a.pdf`, `s3://KEY:SECRET@bucket/key`, a presigned URL's query
string, or an object key that itself holds such a URL (`s3://b/mirror/https://user:pw@host/a.pdf`).

- `redact_location(loc)`: every URL inside `loc` is split with `urllib.parse.urlsplit`; its user
  information (everything up to the authority's last `@`) is dropped, and for schemes other than
  `s3` and `file` (where `?` and `#` are characters of the key or path) so are its query string and
  fragment. A location without a scheme (a path, a key) loses only a query string of parameters
(`?token=…`). Control characters are
  percent-encoded, so a key holding one is still written as one line.
- `redact_text(text)`: the same for every URL found in a message.
- `install_log_redaction()`: every log record of the process is formatted and redacted as it is
  created (tasks/__init__.py installs it), so no handler — console, file, Prefect's API — sees a
  credential.

Pure: urllib.parse and re only.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

_SCHEME = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://")
_KEEP_QUERY = frozenset({"s3", "file"})
_QUERY_IN_PATH = re.compile(r"\?[^?#/]*=.*$", re.S)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]{}]*")


def _authority(parts: SplitResult) -> str:
    netloc = parts.netloc.rpartition("@")[2]
    _, sep, port = netloc.rpartition(":")
    if sep and not netloc.endswith("]") and port and not port.isdigit():
        # "user:pa/ss@host": an unescaped "/" in a password ends the authority early; what is left
        # before it is a user name and part of the password, not a host and a port
        return "REDACTED"
    return netloc


def _one(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 literal: keep the scheme only
        return url.split("://", 1)[0] + "://REDACTED"
    keep = parts.scheme.lower() in _KEEP_QUERY
    return urlunsplit((parts.scheme, _authority(parts), parts.path,
                       parts.query if keep else "", parts.fragment if keep else ""))  # fmt: skip


def redact_location(location: str | None, escape: bool = True) -> str:
    """`location` with the credentials of every URL inside it removed (see the module docstring);
    `escape=False` keeps control characters, for a location that is still to be opened (a local
    path may hold one)."""
    if not location:
        return location or ""
    starts = [m.start() for m in _SCHEME.finditer(location)]
    if not starts:
        location = _QUERY_IN_PATH.sub("", location)  # "key?token=…": a query string, not part of a key
        return _escape(location) if escape else location
    out = [location[: starts[0]]]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(location)
        segment = location[start:end]
        if i + 1 < len(starts):  # a URL followed by another one: only its authority can hold credentials here
            scheme, rest = segment.split("://", 1)
            authority, slash, tail = rest.partition("/")
            segment = f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"
        else:
            segment = _one(segment)
        out.append(segment)
    return _escape("".join(out)) if escape else "".join(out)


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: f"%{ord(m.group(0)):02X}", text)


def redact_text(text: str | None) -> str:
    """A message with every URL in it redacted (`redact_location`)."""
    if not text or "://" not in text:
        return text or ""
    return _URL_IN_TEXT.sub(lambda m: redact_location(m.group(0)), text)


_installed = False


def install_log_redaction() -> None:
    """Format and redact every log record as it is created (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):  # type: ignore[no-untyped-def]
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is left for logging to report
            return record
        if "://" in message:
            record.msg, record.args = redact_text(message), None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
