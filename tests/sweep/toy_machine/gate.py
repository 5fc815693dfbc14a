"""A barrier the fault tests control: a design point waits at it until let through.

A point that reaches the gate (a folder) announces itself with a file ``arrived-*``
holding its process id and label, then waits for a ticket: the test writes how many
points may pass (``allow(n)``) or opens the gate for all (``open()``); each passing
point claims ticket ``i`` with an exclusive create, so exactly ``n`` pass.  A test so
knows which points are running, which are finished and which process holds which
point, before it kills or interrupts anything: no race to lose, nothing to skip.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

NEVER = 600.0   # a point left at a closed gate this long fails (a broken test, not a hang)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def wait(gate: str, label: str) -> None:
    """Called by a point: announce, then block until a ticket is free or the gate opens."""
    d = Path(gate)
    me = f"{time.monotonic_ns():020d}-{os.getpid()}"   # names sort in arrival order
    _write(d / f"arrived-{me}", f"{os.getpid()} {label}")
    deadline = time.monotonic() + NEVER
    while time.monotonic() < deadline:
        try:
            allowed = (d / "tickets").read_text()
        except FileNotFoundError:
            allowed = "0"
        if allowed == "open":
            _write(d / f"through-{me}", "")
            return
        for i in range(int(allowed)):
            try:
                os.close(os.open(d / f"ticket-{i}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            _write(d / f"through-{me}", "")
            return
        time.sleep(0.005)
    raise RuntimeError(f"gate {gate} stayed closed for {NEVER:g} s")


class Gate:
    """The test's side of the barrier."""

    def __init__(self, folder: Path):
        self.path = Path(folder)
        self.path.mkdir(parents=True, exist_ok=True)

    def __str__(self) -> str:
        return str(self.path)

    def allow(self, n: int) -> None:
        """Let ``n`` points through in all (counted from the start)."""
        _write(self.path / "tickets", str(n))

    def open(self) -> None:
        _write(self.path / "tickets", "open")

    def arrivals(self, waiting_only: bool = False) -> list[tuple[int, str]]:
        """(pid, label) of the points that reached the gate, in arrival order."""
        out = []
        for p in sorted(self.path.glob("arrived-*")):
            if waiting_only and (self.path / f"through-{p.name[8:]}").exists():
                continue
            pid, _, label = p.read_text().partition(" ")
            out.append((int(pid), label))
        return out

    def waiting(self) -> list[tuple[int, str]]:
        """Points held at the gate (arrived, not let through), in arrival order."""
        return self.arrivals(waiting_only=True)

    def await_arrivals(self, n: int, alive=lambda: True, timeout: float = 300.0) -> None:
        """Block until ``n`` points have arrived; fails (never skips) if the sweep ended
        first or the deadline passed."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals()) < n:
            assert alive(), f"the sweep ended with {len(self.arrivals())} of {n} points at the gate"
            assert time.monotonic() < deadline, f"only {len(self.arrivals())} of {n} points arrived"
            time.sleep(0.005)
