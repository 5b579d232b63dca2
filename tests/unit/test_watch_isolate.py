"""The watcher's poison isolation (flows/watch.py `isolate`): the same failure twice splits a batch
down to the uploads that fail alone; transient I/O never does, however often it repeats."""

from __future__ import annotations

import pytest

from flows.watch import isolate


def _handoff(poison: set[str], calls: list[list[str]], error: Exception):  # type: ignore[no-untyped-def]
    def handoff(keys: list[str], label: str) -> None:
        calls.append(list(keys))
        if poison & set(keys):
            raise error

    return handoff


def test_the_same_failure_twice_splits_the_batch_down_to_the_poison() -> None:
    calls: list[list[str]] = []
    keys = [f"k{i}" for i in range(8)]
    handoff, failed = _handoff({"k5"}, calls, ValueError("does not fit")), {}
    with pytest.raises(ValueError):
        isolate(handoff, keys, "b", failed)  # the first failure: raised, the batch comes again
    dead = isolate(handoff, keys, "b", failed)
    assert [(k, str(e)) for k, e in dead] == [("k5", "does not fit")]
    handed = [c for c in calls if "k5" not in c]
    assert sorted(k for c in handed for k in c) == [k for k in keys if k != "k5"]  # the rest, once each
    assert calls.count(["k5"]) == 2 and failed == {}


def test_a_different_failure_the_second_time_is_not_poison() -> None:
    calls: list[list[str]] = []
    errors = iter([ValueError("one"), ValueError("two")])

    def handoff(keys: list[str], label: str) -> None:
        calls.append(keys)
        raise next(errors)

    failed: dict = {}
    for _ in range(2):
        with pytest.raises(ValueError):
            isolate(handoff, ["a", "b"], "b", failed)
    assert calls == [["a", "b"], ["a", "b"]]


@pytest.mark.parametrize("error", [ConnectionError("API unreachable"), TimeoutError("read timed out")])
def test_transient_failures_are_never_poison(error: Exception) -> None:
    calls: list[list[str]] = []
    handoff, failed = _handoff({"a"}, calls, error), {}
    for _ in range(5):
        with pytest.raises(type(error)):
            isolate(handoff, ["a", "b"], "b", failed)
    assert calls == [["a", "b"]] * 5 and failed == {}


def test_a_failure_caused_by_transient_io_is_never_poison() -> None:
    try:
        try:
            raise ConnectionResetError("connection reset by peer")
        except ConnectionResetError as cause:
            raise RuntimeError("flow run failed") from cause
    except RuntimeError as wrapped:
        error = wrapped
    calls: list[list[str]] = []
    handoff, failed = _handoff({"a"}, calls, error), {}
    for _ in range(3):
        with pytest.raises(RuntimeError):
            isolate(handoff, ["a"], "b", failed)
    assert len(calls) == 3
