"""A background heartbeat for long runs: refreshes the run's heartbeat every N seconds.

The thread is a daemon and also stops at interpreter exit (``atexit``), when the run ends
through its tracker, or when the run turns out to be no longer running (taken over or closed by
hand). A failed beat is logged and tried again at the next interval: the job is never stopped
by its tracker's heartbeat.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)
#: How long ``stop`` waits for a beat in flight (one short MERGE) before leaving the daemon be.
_JOIN_SECONDS = 60.0


class BackgroundHeartbeat:
    """Call ``beat`` every ``seconds`` on a daemon thread until stopped or ``beat`` returns False."""

    def __init__(self, beat: Callable[[], bool], seconds: float, run: object) -> None:
        self._beat = beat
        self._seconds = seconds
        self._run = run
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"pt_spark-heartbeat-{run}", daemon=True)
        atexit.register(self.stop)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the heartbeat thread is still running."""
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopped.wait(self._seconds):
            try:
                if not self._beat():
                    log.warning("process run %s is no longer running: its heartbeat stopped", self._run)
                    return
            except Exception as error:  # a beat never ends the job; the next one tries again
                log.warning("process run %s: a heartbeat failed (%s)", self._run, str(error).splitlines()[0])

    def stop(self) -> None:
        """Stop the thread (waiting for a beat in flight); safe to call more than once."""
        self._stopped.set()
        atexit.unregister(self.stop)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(_JOIN_SECONDS)


__all__ = ["BackgroundHeartbeat"]
