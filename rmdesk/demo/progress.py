"""The demo load's progress on a terminal (a bar redrawn in place) or in a log (a line per stage)."""

from __future__ import annotations

import time
from collections.abc import Callable

STAGES = {
    "org": "org units",
    "users": "users",
    "customers": "customers",
    "indexes": "indexes",
    "tasks": "tasks",
    "commit": "commit",
    "scores": "target scores",
    "eod": "end-of-day batch",
}
PREFIX = "Loading the demo bank:"
BAR_WIDTH = 24
REDRAW_SECONDS = 0.1  # a terminal redraw at most this often, so the bar costs nothing measurable


def duration(seconds: float) -> str:
    """1:05 or 1:02:05, as an ETA reads."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """A `progress(stage, done, total, rows)` callback for build_demo_bank.

    Interactive: each stage's line is redrawn in place with a bar, percentage, rows written per second
    and the time left, and left standing when the stage ends. Otherwise one line per finished stage, so
    a log is not flooded.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        interactive: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write, self.interactive, self.clock = write, interactive, clock
        self.stage = ""
        self.started = clock()  # when the stage began: when the one before it ended
        self.rows_before = 0  # rows written before the stage began
        self.drawn_at: float | None = None  # when the open in-place line was last drawn

    def __call__(self, stage: str, done: int, total: int, rows: int) -> None:
        now = self.clock()
        self.stage = stage
        finished = done >= total
        if self.interactive:
            if finished or self.drawn_at is None or now - self.drawn_at >= REDRAW_SECONDS:
                # \r and \033[K: back to the line's start, then clear what a longer line left behind.
                self.write(f"\r{self._line(done, total, rows, now, bar=True)}\033[K")
                self.drawn_at = now
        elif finished:
            self.write(self._line(done, total, rows, now, bar=False) + "\n")
        if finished:
            if self.interactive:
                self.write("\n")
                self.drawn_at = None
            self.started, self.rows_before = now, rows

    def close(self) -> None:
        """End a line left open by a stage that did not finish (the load failed)."""
        if self.interactive and self.drawn_at is not None:
            self.write("\n")
            self.drawn_at = None

    def _line(self, done: int, total: int, rows: int, now: float, *, bar: bool) -> str:
        label = STAGES.get(self.stage, self.stage)
        elapsed = now - self.started
        written = rows - self.rows_before
        rate = f"{written / elapsed:,.0f} rows/s" if written > 0 and elapsed > 0 else ""
        if self.stage == "commit":
            text = f"{PREFIX} {label}"
        else:
            text = f"{PREFIX} {label} {done:,}/{total:,}"
            if bar:
                filled = BAR_WIDTH * done // total if total else BAR_WIDTH
                text += f" [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // total if total else 100:3d}%"
        if done >= total:
            return text + f" in {elapsed:.1f} s" + (f" ({rate})" if rate else "")
        if rate:  # a stage that writes rows at a steady pace: the time left is worth a guess
            text += f"  {rate}"
            if done:
                text += f"  ETA {duration(elapsed * (total - done) / done)}"
        return text
