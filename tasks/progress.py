"""A progress bar for long commands on a terminal: done/total, rate and time left (rich, which
comes with Prefect). Off when stderr is not a terminal (logs, CI, pipes): nothing is drawn then.

The command opens it (`with terminal_progress("extracting"):`); the steps that do the work call
`add_total(n)` when they learn how much there is and `advance()` per item, wherever they run in
this process (Prefect's task threads included). Both are no-ops when no bar is open. Log lines
and prints made while the bar is open appear above it.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

_LOCK = threading.Lock()
_BAR: tuple[Any, Any] | None = None  # (rich Progress, task id)


@contextmanager
def terminal_progress(description: str, unit: str = "reports", enabled: bool | None = None) -> Iterator[None]:
    """A bar on stderr for the duration of the block, if stderr is a terminal (or `enabled`)."""
    global _BAR
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), _rate_column(unit),
        TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("left"),
        console=Console(file=sys.stderr), redirect_stdout=True, redirect_stderr=True,
    )  # fmt: skip
    terminal = sys.stderr
    with progress:  # sys.stderr is now rich's proxy, printing above the bar
        restore = _route_log_handlers(terminal, sys.stderr, progress.console)
        with _LOCK:
            _BAR = (progress, progress.add_task(description, total=None))
        try:
            yield
        finally:
            with _LOCK:
                _BAR = None
            restore()


def _route_log_handlers(terminal: Any, proxy: Any, live: Any) -> Any:
    """Make the log handlers already writing to the terminal print above the bar while it is
    shown — Prefect's console handler through the bar's own console (`live`: rich refuses to write
    a Console through its proxy), a basicConfig handler through `proxy`; returns the undo."""
    import logging

    undo: list[Callable[[], object]] = []
    for handler in {*logging.getLogger().handlers, *logging.getLogger("prefect").handlers}:
        console = getattr(handler, "console", None)  # Prefect's handler prints through a rich Console
        if console is not None and getattr(console, "file", None) is terminal:
            cast(Any, handler).console = live  # Prefect's handler's attribute, not logging.Handler's
            undo.append(functools.partial(setattr, handler, "console", console))
        elif isinstance(handler, logging.StreamHandler) and handler.stream is terminal:
            handler.setStream(proxy)
            undo.append(functools.partial(handler.setStream, terminal))

    def restore() -> None:
        for step in undo:
            step()

    return restore


def _rate_column(unit: str) -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} {unit}/s" if speed else f"– {unit}/s")

    return Rate()


def add_total(n: int) -> None:
    """`n` more items to do."""
    with _LOCK:
        if _BAR is not None:
            progress, task = _BAR
            current = progress.tasks[0].total or 0
            progress.update(task, total=current + n)


def advance(n: int = 1) -> None:
    """`n` items done."""
    with _LOCK:
        if _BAR is not None:
            progress, task = _BAR
            progress.advance(task, n)
