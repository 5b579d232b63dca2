"""Reading printed cells: exact numbers, never invented ones."""

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from tasks.extract.values import parse_value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", (12, "reported")),
        ("０", (0, "reported")),
        ("2631\n2", (26312, "reported")),
        ("", (None, "blank")),
        ("\xa0 ", (None, "blank")),
        ("-", (None, "dash")),
        ("—", (None, "dash")),
        ("／", (None, "dash")),
        ("+1036", (1036, "reported")),
        ("-8", (-8, "reported")),
        ("251000元", (251000, "reported")),
        ("96171.6", (Decimal("96171.6"), "reported")),
        ("1,234", (1234, "reported")),
        ("无", (None, "text")),
        ("12件3", (None, "text")),
        ("1,23", (None, "text")),
    ],
)
def test_parse_value(raw, expected):
    assert parse_value(raw) == expected


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_any_printed_integer_reads_back_exactly(n):
    assert parse_value(str(n)) == (n, "reported")


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_any_printed_amount_reads_back_exactly(d):
    text = f"{d:.4f}"
    assert parse_value(text) == (Decimal(text), "reported")


@given(st.text(max_size=30))
def test_any_text_gives_a_status_and_never_raises(s):
    value, status = parse_value(s)
    assert status in {"reported", "blank", "dash", "text"}
    assert (value is None) == (status != "reported")
