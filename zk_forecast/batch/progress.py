"""Progress lines of a run: a one-line display on a terminal, timestamped log lines otherwise (cron); every line
is kept for ``run.log``."""

from __future__ import annotations

import datetime as _dt
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Timestamped log lines (not a terminal) or a one-line progress display (a terminal).

    Parameters
    ----------
    stream : text stream
        Where the lines go.
    total : int
        Steps in the run (for the progress bar).
    """

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.lines: list[str] = []
        self.done = 0
        self.current = "prepare"

    @staticmethod
    def _stamp() -> str:
        return _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")

    def log(self, msg: str) -> None:
        """One line (each line of a multi-line message gets its own time stamp)."""
        self.show(self.record(msg))

    def record(self, msg: str) -> list[str]:
        """Keep a message's lines for ``run.log`` without showing them yet; returns the lines."""
        lines = [f"{self._stamp()} [nightly] {part}" for part in msg.splitlines() or [""]]
        self.lines.extend(lines)
        return lines

    def show(self, lines: list[str]) -> None:
        """Show recorded lines on the stream (without the time stamp on a terminal)."""
        for line in lines:
            self.stream.write(("\r\033[K" + line.split(" [nightly] ", 1)[1] if self.tty else line) + "\n")
        self.stream.flush()

    def step(self, name: str) -> None:
        """A step starts."""
        self.current = name
        line = f"{self._stamp()} [nightly] step {name} started / 开始"
        self.lines.append(line)
        if self.tty:
            width = 20
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r\033[K[{bar}] {self.done}/{self.total} {name} …")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step_done(self, name: str, seconds: float) -> None:
        """A step ended after ``seconds`` [s]."""
        self.done += 1
        line = f"{self._stamp()} [nightly] step {name} done in {seconds:.1f} s / 完成"
        self.lines.append(line)
        if not self.tty:
            self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        """Clear the progress display."""
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def text(self) -> str:
        """Every line so far, for ``run.log``."""
        return "\n".join(self.lines) + "\n"
