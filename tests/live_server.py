"""A real server process for tests that speak HTTP: start, wait until it answers, stop.

Used by ``tests/interop`` (gunicorn with several workers, driven by taxii2-client and
stix2) and ``tests/cli/test_serve.py`` (``atlas-taxii serve --demo``).  Only
127.0.0.1 is ever contacted.  Waiting is bounded: a server that does not come up in
:data:`START_TIMEOUT` seconds fails the test with its own output attached, so a broken
start is diagnosed from the test report alone.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Seconds a server may take to start (gunicorn master, workers, app creation).
START_TIMEOUT = 60.0
#: Seconds a server may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server subprocess whose output goes to files in ``log_dir``."""

    def __init__(
        self,
        argv: Sequence[str],
        port: int,
        log_dir: Path,
        name: str = "server",
        *,
        tls: ssl.SSLContext | None = None,
    ):
        """``tls``: the server speaks HTTPS, and this context trusts its certificate."""
        self.argv = list(argv)
        self.port = port
        self.tls = tls
        self.stdout_path = log_dir / f"{name}.out"
        self.stderr_path = log_dir / f"{name}.err"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, *, ready_marker: str | None = None) -> ServerProcess:
        """Start the process and wait until the port answers HTTP (and, when
        ``ready_marker`` is given, until that text has appeared on its stdout)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_TAXII_")}
        env["PYTHONUNBUFFERED"] = "1"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self._process = subprocess.Popen(
                self.argv, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not (self._answers() and (ready_marker is None or ready_marker in self.stdout)):
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited with {self._process.returncode}\n{self.output}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start in {START_TIMEOUT} s\n{self.output}")
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        connection = (
            http.client.HTTPSConnection("127.0.0.1", self.port, timeout=5, context=self.tls)
            if self.tls
            else http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        )
        try:
            connection.request("GET", "/taxii2/")
            connection.getresponse().read()
        except OSError:
            return False
        finally:
            connection.close()
        return True

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def output(self) -> str:
        stderr = self.stderr_path.read_text(errors="replace")
        return f"--- stdout\n{self.stdout}\n--- stderr\n{stderr[-20_000:]}"

    def stop(self) -> int | None:
        """Stop gracefully (SIGTERM to gunicorn's master), kill if it hangs; return
        the exit status."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Only our own process group: the server and the workers it forked.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return process.wait(STOP_TIMEOUT)


def python_module(module: str, *args: str) -> list[str]:
    """``python -m module args…`` with this interpreter."""
    return [sys.executable, "-m", module, *args]
