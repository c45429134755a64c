"""A progress bar for long commands, on stderr so that stdout stays clean for the result."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TextIO

BAR_WIDTH = 30
# Redraw at most this often on a terminal; in a log, one line per stage and per tenth.
REDRAW_SECONDS = 0.1


class ProgressBar:
    """A callable `(stage, done, total)`; `total` 0 means not known yet (a count is shown instead)."""

    def __init__(self, stream: TextIO, labels: Mapping[str, str]) -> None:
        self.stream = stream
        self.labels = labels
        self.terminal = bool(getattr(stream, "isatty", lambda: False)())
        self.stage = ""
        self.last_draw = 0.0
        self.last_tenth = -1
        self.drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        label = self.labels.get(stage, stage)
        new_stage = stage != self.stage
        if new_stage and self.drawn and self.terminal:
            self.stream.write("\n")
        if new_stage:
            self.stage, self.last_tenth = stage, -1
        if total:
            percent = min(100, done * 100 // total)
            filled = BAR_WIDTH * percent // 100
            line = f"{label:<12} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}%  {done:,}/{total:,}"
        else:
            percent = 0
            line = f"{label:<12} {done:,}"
        if self.terminal:
            now = time.monotonic()
            if not new_stage and done != total and now - self.last_draw < REDRAW_SECONDS:
                return
            self.last_draw = now
            self.stream.write(f"\r{line}")
        else:
            tenth = percent // 10
            if not new_stage and (not total or tenth == self.last_tenth):
                return
            self.last_tenth = tenth
            self.stream.write(f"{line}\n")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn and self.terminal:
            self.stream.write("\n")
            self.stream.flush()
