"""A background thread that runs one step over and over: woken early by ``wake()``, otherwise every ``interval``
seconds, and surviving any error of the step (a database outage must not end it)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from travesia.core.logging import get_logger

log = get_logger("travesia.background")


class Loop:
    def __init__(self, name: str, step: Callable[[], object], interval: float) -> None:
        self.name, self.step, self.interval = name, step, interval
        self.woken = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self.woken.set()

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.step()
            except Exception as exc:
                log.warning("background step error", extra={"loop": self.name, "error": type(exc).__name__})
            self.woken.wait(self.interval)
            self.woken.clear()
