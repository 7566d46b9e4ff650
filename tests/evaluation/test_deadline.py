"""``--timeout-s`` is a total deadline per request: a trickling server cannot stall evaluate."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest

from blindpairs.cli import main
from evaluation.backends.base import BackendItemError
from evaluation.backends.http import ChatClient, RetryPolicy
from tests.evaluation.helpers import SECRET, make_items, write_benchmark

REPLY = json.dumps({"choices": [{"message": {"content": "yes"}}]}).encode()


class _LoopbackServer:
    """A threaded TCP server on a free loopback port, serving while the ``with`` block
    lasts; subclasses set ``self.stop`` (set on exit, ends their handlers' waits)."""

    stop: threading.Event

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class TricklingServer(_LoopbackServer):
    """Sends its reply one byte every ``pause_s`` seconds (from the status line on when
    ``headers`` is false, else after prompt headers), until the client hangs up."""

    def __init__(self, pause_s: float, headers: bool) -> None:
        self.requests = 0
        self.stop = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.requests += 1
                _read_request(self.request)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                head += b"Content-Length: %d\r\n\r\n" % (len(REPLY) * 1000)
                if headers:
                    self.request.sendall(head)
                    head = b""
                for byte in head + REPLY * 1000:
                    if outer.stop.wait(pause_s):
                        return
                    try:
                        self.request.sendall(bytes([byte]))
                    except OSError:  # the client gave up: what the deadline is for
                        return

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def _read_request(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if b"content-length" in line
    )
    while len(body) < length:
        body += sock.recv(65536)


@pytest.fixture(params=[True, False], ids=["trickled-body", "trickled-headers"])
def trickling(request: pytest.FixtureRequest) -> Iterator[TricklingServer]:
    # each byte comes well within a socket timeout of 0.5 s, the whole reply never
    with TricklingServer(pause_s=0.05, headers=request.param) as server:
        yield server


def _in_thread(fn, guard_s: float = 120.0):
    """Run ``fn`` in a thread; the guard only stops a broken build from hanging the suite."""
    out: dict = {}
    thread = threading.Thread(target=lambda: out.setdefault("v", _catch(fn)), daemon=True)
    thread.start()
    thread.join(guard_s)
    assert not thread.is_alive(), "the request outlived its deadline by minutes"
    return out["v"]


def _catch(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - returned to the test
        return exc


def test_a_trickling_reply_is_cut_off_at_the_deadline(trickling: TricklingServer) -> None:
    client = ChatClient(trickling.url, SECRET, 0.5, RetryPolicy(max_retries=1, backoff_base_s=0))
    start = time.monotonic()
    got = _in_thread(lambda: client.complete({"model": "m", "messages": []}))
    assert isinstance(got, BackendItemError)
    assert "within 0.5 s" in str(got) and "gave up after 2 tries" in str(got)
    assert trickling.requests == 2
    assert time.monotonic() - start < 60  # far below the reply's length at that pace (~2000 s)


def test_evaluate_finishes_against_a_trickling_server(
    tmp_path: Path, trickling: TricklingServer, monkeypatch, capsys
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(1))
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m", "--base-url", trickling.url]
    argv += ["--api-key-env", "TEST_LLM_KEY", "--timeout-s", "0.5", "--max-retries", "0"]
    rc = _in_thread(lambda: main(argv))
    assert trickling.requests == 2  # one try per question, each cut off
    rows = (ws / "evaluation" / "openai_m" / "responses.jsonl").read_text().splitlines()
    assert all("within 0.5 s" in json.loads(r)["error"] for r in rows)
    assert rc != 0  # questions failed: not a clean run


class SlowProxy(_LoopbackServer):
    """An HTTP proxy that answers ``CONNECT`` one byte every ``pause_s`` seconds (a
    status line, then header lines without end): the tunnel, part of connecting,
    never opens. ``sent`` counts the bytes it got out before the client hung up."""

    def __init__(self, pause_s: float, limit: int = 300) -> None:
        self.sent = 0
        self.stop = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += self.request.recv(65536)
                reply = b"HTTP/1.1 200 Connection established\r\n" + b"X-Pad: 1\r\n" * 40
                for byte in reply[:limit]:
                    if outer.stop.wait(pause_s):
                        return
                    try:
                        self.request.sendall(bytes([byte]))
                    except OSError:  # the client hung up
                        return
                    outer.sent += 1
                outer.stop.wait(60)

        super().__init__(Handler)


def test_the_deadline_covers_connecting_through_a_slow_proxy(monkeypatch) -> None:
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with SlowProxy(pause_s=0.02) as proxy:
        monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy.server.server_address[1]}")
        client = ChatClient("https://api.example.invalid/v1", SECRET, 0.5, RetryPolicy(0))
        got = _in_thread(lambda: client.complete({"model": "m", "messages": []}))
        sent = proxy.sent
    assert isinstance(got, BackendItemError) and "within 0.5 s" in str(got), got
    # cut off while connecting: far fewer bytes than the 300 it trickles (6 s)
    assert sent < 200, sent
