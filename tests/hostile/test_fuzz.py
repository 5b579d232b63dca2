"""Fuzzing contract (pdfminer.six's): any bytes in, a result or a typed `XxgkError` out — never any
other exception. Random bytes and mutated samples of every medium (bit flips, truncation, splices,
inserted junk) go to `extract_bytes`, `sniff` and each reader directly. Each call runs under a
wall-clock alarm so a hang fails the test quickly instead of stalling CI; max_examples keep the
file well under a minute.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hostile.generate import (
    HONGZE_PDF,
    JINING_TEXT,
    SHANGHAI_HTML,
    SYNTH_DOCX,
    SYNTH_PDF,
    document_xml,
    replace_member,
    sample_bytes,
)
from tasks.errors import XxgkError
from tasks.extract import extract_bytes
from tasks.extract.docx import read_docx
from tasks.extract.html import read_html
from tasks.extract.pdf import read_pdf
from tasks.extract.sniff import decode_text, sniff
from tasks.extract.text import read_text

CALL_LIMIT_S = 20.0
"""Far above any sample's parse time (< 1 s): reaching it means the reader hangs."""

SCALE = int(os.environ.get("XXGK_FUZZ_SCALE", "1"))
"""Multiplies every max_examples: `XXGK_FUZZ_SCALE=50 pytest tests/hostile/test_fuzz.py` for a long campaign."""


def fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        database=None,
    )

SAMPLE_FILES = {
    "pdf": SYNTH_PDF,
    "docx": SYNTH_DOCX,
    "html": SHANGHAI_HTML,
    "text": JINING_TEXT,
}


class Hang(BaseException):  # not an Exception: readers' broad handlers must not swallow it
    """A call ran past CALL_LIMIT_S."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no outcome within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(fn: Callable[[bytes], Any], data: bytes) -> str:
    """"ok" or the XxgkError's type; anything else (or a hang) fails the test with the input's size."""
    try:
        with time_limit(CALL_LIMIT_S):
            fn(data)
    except XxgkError as exc:
        assert str(exc).strip(), f"{exc.type} with an empty message"
        return exc.type
    return "ok"


# ------------------------------------------------------------------ mutations


@st.composite
def mutated(draw: st.DrawFn, base: bytes, donors: tuple[bytes, ...] = ()) -> bytes:
    """`base` with 1–4 edits: bit flips, byte overwrites, a cut, an insertion of junk, a splice
    from a donor document, a duplicated or deleted chunk."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "splice", "dup", "delete"]))
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            for _ in range(draw(st.integers(1, 16))):
                j = draw(st.integers(0, len(data) - 1))
                data[j] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[i] = draw(st.sampled_from(b"\x00\xff<>([/\n\t"))
        elif kind == "truncate":
            del data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "splice" and donors:
            donor = draw(st.sampled_from(donors))
            a = draw(st.integers(0, len(donor) - 1))
            data[i:i] = donor[a : a + draw(st.integers(1, 2048))]
        elif kind == "dup":
            data[i:i] = data[i : i + draw(st.integers(1, 512))]
        else:
            del data[i : i + draw(st.integers(1, 512))]
    return bytes(data)


def _samples() -> tuple[bytes, ...]:
    return tuple(sample_bytes(p) for p in SAMPLE_FILES.values())


PREFIXES = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>", b"\xef\xbb\xbf", b"<?xml version='1.0'?>",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xff\xfe", "一、总体情况\n".encode()]  # fmt: skip


# ------------------------------------------------------------------ random bytes


@fuzz(300)
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=4096))
def test_random_bytes_behind_any_header(prefix: bytes, body: bytes) -> None:
    data = prefix + body
    outcome(extract_bytes, data)
    outcome(sniff, data)
    decode_text(data)  # never raises: the last resort decodes with replacement characters


@fuzz(60)
@given(body=st.binary(max_size=2048))
def test_random_bytes_to_every_reader(body: bytes) -> None:
    for reader in (read_pdf, read_docx, read_html, read_text):
        outcome(reader, body)
        outcome(reader, b"%PDF-1.4\n" + body if reader is read_pdf else b"PK\x03\x04" + body)


# ------------------------------------------------------------------ mutated documents


@fuzz(25)
@given(data=mutated(sample_bytes(SYNTH_PDF), donors=(sample_bytes(HONGZE_PDF),)))
def test_mutated_pdf(data: bytes) -> None:
    outcome(read_pdf, data)
    outcome(extract_bytes, data)


@fuzz(50)
@given(data=mutated(sample_bytes(SYNTH_DOCX), donors=_samples()))
def test_mutated_docx_zip_bytes(data: bytes) -> None:
    outcome(read_docx, data)
    outcome(extract_bytes, data)


XML_DONORS = (
    b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
    b'<w:tcPr><w:gridSpan w:val="99999999"/><w:vMerge/></w:tcPr>',
    b'<w:trPr><w:gridBefore w:val="-3"/></w:trPr>',
    b"<!DOCTYPE d [<!ENTITY e 'x'>]>",
    b"&e;&amp;&#0;&#xD800;",
    b"<![CDATA[ ]]><!-- --><?pi x?>",
    b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice/>',
)


@fuzz(60)
@given(xml=mutated(document_xml(), donors=XML_DONORS))
def test_mutated_document_xml_in_a_valid_zip(xml: bytes) -> None:
    data = replace_member(sample_bytes(SYNTH_DOCX), "word/document.xml", xml)
    outcome(read_docx, data)
    outcome(extract_bytes, data)


HTML_DONORS = (
    b'<table><tr><td rowspan="0" colspan="99999">1</td></tr></table>',
    b'<td rowspan="-1">', b"</table></table></tr>", b"<br><br/>", b"<script>var s='<table>';</script>",
    b'<meta charset="x-unknown">', b'<meta charset="utf-16">', b"\x00\x00", "\ufeff".encode(),
)  # fmt: skip


@fuzz(50)
@given(data=mutated(sample_bytes(SHANGHAI_HTML), donors=(*HTML_DONORS, sample_bytes(JINING_TEXT))))
def test_mutated_html(data: bytes) -> None:
    outcome(read_html, data)
    outcome(extract_bytes, data)


TEXT_DONORS = (b"\t", b"\n\n", b"|---|---|\n", b"| a | 1 |\n", "\u3000".encode(), "－".encode(), b"\r", b"\xff\xfe")


@fuzz(60)
@given(data=mutated(sample_bytes(JINING_TEXT), donors=(*TEXT_DONORS, sample_bytes(JINING_TEXT).decode().encode("gb18030"))))
def test_mutated_text(data: bytes) -> None:
    outcome(read_text, data)
    outcome(extract_bytes, data)


@pytest.mark.parametrize("medium", sorted(SAMPLE_FILES))
def test_samples_themselves_are_fine(medium: str) -> None:
    assert outcome(extract_bytes, sample_bytes(SAMPLE_FILES[medium])) == "ok"
