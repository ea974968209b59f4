"""Idle and slow clients cannot stop a live ``atlas-taxii serve`` (issue 9, item 4).

Before, gunicorn's gthread worker gave each new connection a thread that waited for
the client: 48 idle sockets stopped a default two-worker server (2 x 4 threads) for
25 to 75 s, and clients trickling their headers a byte at a time held the threads for
as long as they liked.  Now heads are read in each worker's event loop and must arrive
within ``HEAD_TIMEOUT`` however they trickle (``taxii_server/cli/workers.py``), so a
normal client keeps being answered while dozens of such connections are open, on
HTTP and on HTTPS.

These are liveness checks with generous bounds, not timings: every poll must be
answered within :data:`ANSWER_WITHIN` seconds (before: none was, for a minute).
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from taxii_server.cli import launcher
from taxii_server.cli.heads import HEAD_TIMEOUT
from tests.hardening.live import INBOX, LiveTaxii, deploy
from tests.live_server import ServerProcess

pytestmark = pytest.mark.slow

IDLE = 48  # sockets that connect and send nothing
TRICKLING = 2 * 2 * launcher.DEFAULT_THREADS  # twice the server's threads
ANSWER_WITHIN = 5.0  # seconds: a liveness bound, far above a normal answer
WATCH = HEAD_TIMEOUT + 6  # seconds of polling: past the head deadline and gunicorn's 5 s


@dataclass
class _Trickler:
    """Sends a request head one byte every half second, for ever; notes when and how
    the server ended the connection."""

    connect: object  # () -> socket
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    answer: bytes = b""

    def run(self, stop: threading.Event) -> None:
        sock = self.connect()  # type: ignore[operator]
        head = b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
        try:
            for byte in head:
                if stop.is_set():
                    return
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
        except OSError:
            self.ended = time.monotonic()
            return
        finally:
            try:
                sock.settimeout(1)
                self.answer = sock.recv(4096)
            except OSError:
                pass
            if self.ended is None and self.answer:
                self.ended = time.monotonic()
            sock.close()


def _poll_while_attacked(
    connect: object, poll: object, *, idle: int = IDLE, trickling: int = TRICKLING
) -> tuple[list[float], list[_Trickler]]:
    """Open the idle and trickling connections, poll for :data:`WATCH` seconds, and
    return each poll's time and the tricklers."""
    stop = threading.Event()
    sockets = [connect() for _ in range(idle)]  # type: ignore[operator]
    tricklers = [_Trickler(connect) for _ in range(trickling)]
    threads = [threading.Thread(target=t.run, args=(stop,), daemon=True) for t in tricklers]
    for thread in threads:
        thread.start()
    took: list[float] = []
    try:
        deadline = time.monotonic() + WATCH
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert poll() == 200  # type: ignore[operator]
            took.append(time.monotonic() - started)
            time.sleep(0.25)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for sock in sockets:
            sock.close()
    return took, tricklers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTaxii]:
    tmp_path = tmp_path_factory.mktemp("slow-clients")
    live = deploy(tmp_path, f"sqlite:///{tmp_path / 'taxii.db'}", workers=2).start()
    try:
        yield live
    finally:
        live.stop()


def test_idle_and_trickling_clients_do_not_stop_a_live_server(server: LiveTaxii) -> None:
    def connect() -> socket.socket:
        return socket.create_connection(("127.0.0.1", server.settings.port), timeout=60)

    def poll() -> int:
        reply = requests.get(
            server.url(INBOX, "objects"),
            headers={"Accept": "application/taxii+json;version=2.1", **server.reader.bearer},
            timeout=60,
        )
        return reply.status_code

    took, tricklers = _poll_while_attacked(connect, poll)
    assert max(took) < ANSWER_WITHIN, sorted(took)[-5:]
    assert len(took) > WATCH  # answered all along, not once at the end
    # Each trickling client was cut off at the head deadline it could not extend.
    for trickler in tricklers:
        assert trickler.ended is not None, "a trickling client was never cut off"
        assert trickler.ended - trickler.started < HEAD_TIMEOUT + 3
        assert trickler.answer.startswith(b"HTTP/1.1 408"), trickler.answer[:100]


def test_a_kept_alive_connection_gets_the_same_head_deadline(server: LiveTaxii) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.settings.port, timeout=60)
    connection.request("GET", "/taxii2/")
    first = connection.getresponse()
    assert first.status == 200 and first.read() and not first.will_close
    sock = connection.sock
    try:
        started = time.monotonic()
        sock.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost")  # the next request begins...
        answer = b""
        while chunk := sock.recv(4096):  # ... and never ends
            answer += chunk
    finally:
        sock.close()
    assert time.monotonic() - started < HEAD_TIMEOUT + 3
    assert answer.startswith(b"HTTP/1.1 408")


# -- HTTPS: the handshake happens in the event loop too ------------------------------------


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_idle_and_trickling_clients_do_not_stop_an_https_server(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    live = deploy(tmp_path, f"sqlite:///{tmp_path / 'taxii.db'}", workers=2)
    port = live.settings.port
    argv = [*live.process.argv, "--certfile", str(cert), "--keyfile", str(key)]
    context = ssl.create_default_context(cafile=str(cert))
    process = ServerProcess(argv, port, tmp_path, tls=context)
    process.start()
    try:

        def plain() -> socket.socket:  # connects and never starts the handshake
            return socket.create_connection(("127.0.0.1", port), timeout=60)

        def handshaken() -> ssl.SSLSocket:  # completes it, then trickles
            return context.wrap_socket(plain(), server_hostname="127.0.0.1")

        def poll() -> int:
            reply = requests.get(
                f"{process.base_url}/taxii2/",
                headers={"Accept": "application/taxii+json;version=2.1"},
                timeout=60,
                verify=str(cert),
            )
            return reply.status_code

        stop_idle = [plain() for _ in range(IDLE)]
        try:
            took, tricklers = _poll_while_attacked(handshaken, poll, idle=0)
        finally:
            for sock in stop_idle:
                sock.close()
    finally:
        process.stop()
    assert max(took) < ANSWER_WITHIN, sorted(took)[-5:]
    assert all(t.ended is not None and t.ended - t.started < HEAD_TIMEOUT + 3 for t in tricklers)


def test_a_post_body_that_trickles_is_cut_off_at_its_deadline(tmp_path: Path) -> None:
    """The body has ``max(request_timeout, client_timeout)`` seconds in all, however
    steadily it trickles: here 3 s, with a client timeout of 1.5 s."""
    live = deploy(tmp_path, f"sqlite:///{tmp_path / 'taxii.db'}", workers=1, request_timeout=3)
    live.process = ServerProcess(
        [sys.executable, "-m", "tests.hardening.timed_server", str(live.config), "1.5"],
        live.settings.port,
        tmp_path,
    )
    live.start()
    try:
        sock = socket.create_connection(("127.0.0.1", live.settings.port), timeout=60)
        head = (
            f"POST /community/collections/{INBOX}/objects/ HTTP/1.1\r\nHost: x\r\n"
            "Accept: application/taxii+json;version=2.1\r\n"
            "Content-Type: application/taxii+json;version=2.1\r\n"
            f"Authorization: Bearer {live.writer.api_key}\r\n"
            "Content-Length: 100000\r\n\r\n"
        ).encode()
        sock.sendall(head)
        started, answer = time.monotonic(), b""
        try:
            for byte in b'{"objects": [' + b" " * 100:
                sock.sendall(bytes([byte]))  # one byte a second: never 1.5 s of silence
                sock.settimeout(1.0)
                try:
                    answer += sock.recv(4096)
                except TimeoutError:
                    continue
                if answer:
                    break
        finally:
            sock.close()
    finally:
        live.stop()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 3 + 5
