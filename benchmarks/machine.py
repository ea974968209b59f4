"""What a benchmark run needs to know about the machine and the processes on it.

Linux only (``/proc``): the resident memory and CPU time of a server's process tree,
the load average, and the machine a table was measured on.  A server's figures are
read from its processes, never from the client's, so the client's own CPU use can be
reported beside them.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MachineInfo",
    "ProcessTree",
    "cpu_seconds_of",
    "load_average",
    "machine_info",
    "peak_rss_bytes",
    "rss_bytes",
]

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold
    spaces), or ``None`` when the process is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:  # field 4: ppid
                found.append(int(entry.name))
    return found


def cpu_seconds_of(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (processes that are gone count 0)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return total / _TICKS


def _status_bytes(pid: int, field: str) -> int:
    """A memory field (``VmRSS``, ``VmHWM``) of ``/proc/<pid>/status`` in bytes; 0 when
    the process is gone."""
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_bytes(pid: int) -> int:
    """Resident bytes of a process now."""
    return _status_bytes(pid, "VmRSS")


def peak_rss_bytes(pid: int) -> int:
    """The most resident bytes a process has had (``VmHWM``)."""
    return _status_bytes(pid, "VmHWM")


@dataclass(frozen=True, slots=True)
class ProcessTree:
    """A server: its master process (gunicorn's arbiter) and the workers it forked."""

    master: int

    def workers(self) -> list[int]:
        """The master's child processes, found afresh (a restarted worker has a new pid)."""
        return _children(self.master)

    def rss(self) -> tuple[int, int]:
        """Resident bytes of (every worker together, the master)."""
        return sum(rss_bytes(pid) for pid in self.workers()), rss_bytes(self.master)

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the master and its workers."""
        return cpu_seconds_of([self.master, *self.workers()])


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


@dataclass(frozen=True, slots=True)
class MachineInfo:
    """The machine a table was measured on, as docs/performance.md shows it."""

    cpu: str
    cores: int
    ram_gib: float
    python: str
    system: str

    def describe(self) -> str:
        """One line: CPU, cores, RAM, Python, system."""
        return (
            f"{self.cpu}, {self.cores} cores, {self.ram_gib:.0f} GiB RAM, "
            f"Python {self.python}, {self.system}"
        )


def machine_info() -> MachineInfo:
    """Describe this machine from ``/proc``."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in (_PROC / "cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0.0
    try:
        for line in (_PROC / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    return MachineInfo(
        cpu=cpu,
        cores=os.cpu_count() or 1,
        ram_gib=ram,
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
    )
