"""Benchmarks, seeded images and a fake chat-completions server for the evaluate tests."""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import re
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from blindpairs.schemas import BENCHMARK_COLUMNS

SECRET = "sk-test-Z9q8SECRETkey7x"
DARK, BRIGHT = 40, 210
CATEGORIES = ("color", "count", "orientation")


def png(level: int, fault: int = 0, tag: int = 0, size: int = 16) -> bytes:
    """A grey square of brightness ``level``; pixel (0, 0) encodes ``fault`` (red) and ``tag``."""
    arr = np.full((size, size, 3), level, dtype=np.uint8)
    arr[0, 0, 0] = fault * 10
    arr[0, 0, 1] = tag % 256
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def make_items(n_pairs: int, faults: dict[int, int] | None = None) -> list[dict[str, Any]]:
    """Rows of a benchmark: pair k has a bright and a dark image, same question."""
    faults = faults or {}
    rows = []
    for k in range(1, n_pairs + 1):
        for j, level in enumerate((BRIGHT, DARK) if k % 2 else (DARK, BRIGHT)):
            index = 2 * k - 1 + j
            rows.append(
                {
                    "index": index,
                    "pair_id": f"pair{k:03d}",
                    "image": png(level, faults.get(index, 0), tag=index),
                    "question": "Is the scene bright?",
                    "option_a": "yes",
                    "option_b": "no",
                    "answer": "a" if level == BRIGHT else "b",
                    "category": CATEGORIES[(k - 1) % len(CATEGORIES)],
                    "tile_id": f"tile{index:03d}",
                }
            )
    return rows


def write_benchmark(folder: Path, rows: list[dict[str, Any]]) -> Path:
    """Write the ingest layout: benchmark.parquet, Questions.csv + images/, benchmark.tsv."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{c: r[c] for c in BENCHMARK_COLUMNS} for r in rows])
    pq.write_table(table, folder / "benchmark.parquet")
    (folder / "images").mkdir(exist_ok=True)
    with open(folder / "Questions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Index", "Question", "Options", "Correct Answer"])
        for r in rows:
            (folder / "images" / f"{r['index']}.png").write_bytes(r["image"])
            w.writerow(
                [
                    r["index"],
                    r["question"],
                    f"(a) {r['option_a']} (b) {r['option_b']}",
                    f"({r['answer']})",
                ]
            )
    with open(folder / "benchmark.tsv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["index", "image", "question", "A", "B", "answer", "category"])
        for r in rows:
            w.writerow(
                [
                    r["index"],
                    base64.b64encode(r["image"]).decode(),
                    r["question"],
                    r["option_a"],
                    r["option_b"],
                    r["answer"].upper(),
                    r["category"],
                ]
            )
    return folder


# Faults the fake server injects, chosen by pixel (0, 0) of the image it receives.
(
    OK,
    RATE_LIMIT_ONCE,
    ERROR_TWICE,
    TIMEOUT_ONCE,
    UNPARSEABLE,
    ALWAYS_500,
    MALFORMED_ONCE,
    ECHO_KEY,
) = range(8)


def judge_reply(question: str) -> str:
    """Yes when the graded answer is the correct option's text (MMVP grader wording)."""
    m = re.search(r"the correct answer is \(.\) (.*?)\. Does .*answer:(.*)\?$", question, re.S)
    return "yes" if m and m.group(2).strip(" .").lower() == m.group(1).lower() else "no"


def question_id(prompt: str, image_sha256: str) -> str:
    """How the fake server tells questions apart."""
    return hashlib.sha256(f"{prompt}\x00{image_sha256}".encode()).hexdigest()


class FakeChatServer:
    """A chat-completions server that answers from the image it is sent.

    Bright image -> "yes", dark -> "no" (as option text, so swapped options
    still parse). Faults are keyed by the image's marker pixel and counted per
    question (prompt + image).
    """

    def __init__(self, key: str | None = SECRET, delay_s: float = 0.0, hang_s: float = 1.0):
        self.key = key
        self.delay_s = delay_s
        self.hang_s = hang_s
        self.attempts: Counter[str] = Counter()
        self.successes: Counter[str] = Counter()
        self.statuses: dict[str, list[int]] = defaultdict(list)
        self.judge_requests = 0
        self.payloads: list[dict[str, Any]] = []
        self.judge_questions: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.handle(self, json.loads(body))

        return Handler

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gone
            h.wfile.write(body)

    def _reply(self, h: BaseHTTPRequestHandler, text: str) -> None:
        body = {"choices": [{"message": {"role": "assistant", "content": text}}]}
        self._send(h, 200, json.dumps(body).encode())

    def handle(self, h: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        if h.path != "/v1/chat/completions":
            return self._send(h, 404, b'{"error": "not found"}')
        if self.key and h.headers.get("Authorization") != f"Bearer {self.key}":
            return self._send(h, 401, b'{"error": {"message": "bad key"}}')
        with self.lock:
            self.payloads.append({k: v for k, v in payload.items() if k != "messages"})
        rejected = [k for k in ("max_tokens", "temperature") if k in payload]
        if str(payload.get("model", "")).startswith("reasoning") and rejected:
            # what OpenAI's o-series answer (models named "reasoning*" here)
            message = f"Unsupported parameter: '{rejected[0]}' is not supported with this model."
            return self._send(h, 400, json.dumps({"error": {"message": message}}).encode())
        content = payload["messages"][-1]["content"]
        if isinstance(content, str):  # the judge: text only
            with self.lock:
                self.judge_requests += 1
                self.judge_questions.append(content)
            return self._reply(h, judge_reply(content))
        prompt = next(p["text"] for p in content if p["type"] == "text")
        url = next(p["image_url"]["url"] for p in content if p["type"] == "image_url")
        raw = base64.b64decode(url.split(",", 1)[1])
        arr = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
        fault = int(arr[0, 0, 0]) // 10
        bright = float(arr[1:, 1:].mean()) > 128
        ident = question_id(prompt, hashlib.sha256(raw).hexdigest())
        with self.lock:
            self.attempts[ident] += 1
            attempt = self.attempts[ident]
        if self.delay_s:
            time.sleep(self.delay_s)
        status = self._fault(h, fault, attempt)
        if status is None:
            text = "I am not sure." if fault == UNPARSEABLE else ("yes" if bright else "no")
            with self.lock:
                self.successes[ident] += 1
            self._reply(h, text)
            status = 200
        with self.lock:
            self.statuses[ident].append(status)

    def _fault(self, h: BaseHTTPRequestHandler, fault: int, attempt: int) -> int | None:
        """Send a fault reply and return its status, or None to answer normally."""
        if fault == RATE_LIMIT_ONCE and attempt == 1:
            self._send(h, 429, b'{"error": {"message": "slow down"}}', {"Retry-After": "0"})
            return 429
        if (fault == ERROR_TWICE and attempt <= 2) or fault == ALWAYS_500:
            self._send(h, 500, b'{"error": {"message": "boom"}}')
            return 500
        if fault == TIMEOUT_ONCE and attempt == 1:
            time.sleep(self.hang_s)
            return -1
        if fault == MALFORMED_ONCE and attempt == 1:
            self._send(h, 200, b"<html>oops</html>")
            return -2
        if fault == ECHO_KEY:
            auth = h.headers.get("Authorization", "")
            self._send(h, 400, json.dumps({"error": {"message": f"bad request: {auth}"}}).encode())
            return 400
        return None

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def server_args(server: FakeChatServer, *extra: str) -> list[str]:
    """evaluate flags for a fast run against ``server``."""
    return [
        "--base-url",
        server.url,
        "--api-key-env",
        "TEST_LLM_KEY",
        "--timeout-s",
        "0.3",
        "--max-retries",
        "3",
        "--backoff-base-s",
        "0.01",
        "--backoff-max-s",
        "0.05",
        "--concurrency",
        "4",
        *extra,
    ]
