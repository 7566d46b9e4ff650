"""A small OpenAI-compatible chat-completions client on the standard library.

Retries with exponential backoff and jitter on 429, 408, 5xx, timeouts and
dropped connections, honouring ``Retry-After``. ``timeout_s`` is a total
deadline per try (connect, TLS handshake, send, headers and the whole body; not
the DNS lookup): a server that trickles its reply is cut off when it passes
(:class:`Deadline`). The API key only ever goes
into the ``Authorization`` header; every message that leaves this module
passes through :class:`Redactor` first.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import http.client
import json
import logging
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from evaluation.backends.base import BackendFatal, BackendItemError

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
FATAL_STATUS = frozenset({401, 403})


class Redactor:
    """Replaces every secret it knows with ``***``."""

    def __init__(self, *secrets: str | None) -> None:
        self._secrets = tuple(s for s in secrets if s)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between tries."""

    max_retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_s)
        full = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return full * rng.uniform(0.5, 1.0)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number or an HTTP date; None when absent or bad."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Deadline:
    """Shuts down every socket it watches once ``seconds`` have passed, so that a
    blocked connect, TLS handshake or read returns at once however slowly the server
    answers. It watches a duplicate of each socket's descriptor, which stays valid when
    TLS takes the socket over."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._end = time.monotonic() + seconds
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock.dup())
            if self.expired:
                _shutdown(self._socks[-1])

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()


def _connect(
    deadline: Deadline,
    address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """``socket.create_connection`` whose sockets ``deadline`` watches from creation on,
    so connecting counts towards it (only the DNS lookup does not)."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, where in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        if deadline.expired:
            break
        sock = socket.socket(family, kind, proto)
        try:
            deadline.watch(sock)
            left = max(deadline.remaining(), 1e-3)  # 0 would make the socket non-blocking
            sock.settimeout(left if timeout is None else min(timeout, left))
            if source_address:
                sock.bind(source_address)
            sock.connect(where)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"cannot connect to {host}:{port}")


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _opener(deadline: Deadline) -> urllib.request.OpenerDirector:
    """urllib's opener (proxies and all) whose connections ``deadline`` watches."""

    def watched(base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        class Watched(base):  # type: ignore[valid-type, misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                self._create_connection = functools.partial(_connect, deadline)

        return Watched

    class Plain(urllib.request.HTTPHandler):
        def do_open(self, http_class: Any, req: Any, **kw: Any) -> Any:
            return super().do_open(watched(http_class), req, **kw)

    class Secure(urllib.request.HTTPSHandler):
        def do_open(self, http_class: Any, req: Any, **kw: Any) -> Any:
            return super().do_open(watched(http_class), req, **kw)

    return urllib.request.build_opener(Plain(), Secure())


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChatClient:
    """POST ``{base_url}/chat/completions`` with retries; returns the reply text."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        timeout_s: float,
        policy: RetryPolicy,
        seed: int | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.policy = policy
        self.redact = Redactor(api_key)
        self._rng = random.Random(seed)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _post_once(self, body: bytes) -> str:
        request = urllib.request.Request(self.url, data=body, headers=self._headers())
        deadline = Deadline(self.timeout_s)
        try:
            raw = self._exchange(request, deadline)
        finally:
            deadline.cancel()
        return _reply_text(raw)

    def _exchange(self, request: urllib.request.Request, deadline: Deadline) -> bytes:
        late = f"no complete reply from {self.url} within {self.timeout_s:g} s"
        try:
            with _opener(deadline).open(request, timeout=self.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            if deadline.expired:
                raise _Retryable(late) from None
            detail = _error_detail(exc)
            message = f"HTTP {exc.code} from {self.url}: {detail}"
            if exc.code in RETRY_STATUS:
                retry_after = parse_retry_after(exc.headers.get("Retry-After"))
                raise _Retryable(message, retry_after) from None
            if exc.code in FATAL_STATUS:
                raise BackendFatal(self.redact(message + " (check the API key)")) from None
            raise BackendItemError(self.redact(message)) from None
        except urllib.error.URLError as exc:
            if deadline.expired:
                raise _Retryable(late) from None
            raise _Retryable(f"cannot reach {self.url}: {exc.reason}") from None
        except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
            raise _Retryable(late) from None
        except (OSError, http.client.HTTPException) as exc:  # reset, refused, TLS, ...
            if deadline.expired:
                raise _Retryable(late) from None
            raise _Retryable(f"connection to {self.url} failed: {type(exc).__name__}") from None
        if deadline.expired:  # a reply without a length, cut short
            raise _Retryable(late)
        return raw

    def complete(self, payload: dict[str, Any]) -> tuple[str, int, float]:
        """Send ``payload``; return ``(text, attempts, seconds)`` or raise BackendItemError."""
        body = json.dumps(payload).encode("utf-8")
        start = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                text = self._post_once(body)
                return text, attempts, time.monotonic() - start
            except _Retryable as exc:
                message = self.redact(str(exc))
                if attempts > self.policy.max_retries:
                    raise BackendItemError(f"{message} (gave up after {attempts} tries)") from None
                wait = self.policy.delay(attempts, exc.retry_after, self._rng)
                log.debug("try %d failed (%s); retrying in %.2f s", attempts, message, wait)
                time.sleep(wait)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(2000)
    except Exception:  # the body of an error reply is a courtesy
        return exc.reason or ""
    try:
        err = json.loads(raw).get("error")
        if isinstance(err, dict):
            return str(err.get("message", ""))[:300]
        return str(err)[:300]
    except (ValueError, AttributeError):
        return raw.decode("utf-8", "replace")[:300]


def _reply_text(raw: bytes) -> str:
    """The first choice's message content; a malformed body is retried."""
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _Retryable(f"malformed chat-completions reply: {raw[:200]!r}") from None
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")
