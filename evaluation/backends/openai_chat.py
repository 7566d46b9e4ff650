"""``openai:<model>``: any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, vLLM, SGLang, Ollama, LM Studio and llama.cpp's server.
Images go as base64 data URLs in the user message.

Token cap (``--token-param``): chat models take ``max_tokens`` (``--max-tokens``)
and ``temperature``; OpenAI's reasoning models (o1, o3, o4, gpt-5, ...) reject
both and take ``max_completion_tokens`` (``--max-completion-tokens``, which
also counts their hidden reasoning, hence its larger default). ``auto`` (the
default) picks by model name and, when an endpoint answers HTTP 400 naming the
parameter it does not support, switches once to the other form for the rest
of the run, so it works for both kinds.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from urllib.parse import urlparse

from blindpairs.errors import ConfigError
from blindpairs.workspace import safe_name
from evaluation.backends.base import BackendItemError, Query, Reply
from evaluation.backends.http import ChatClient, RetryPolicy
from evaluation.params import EvaluateParams
from evaluation.rows import sniff_mime


def data_url(image: bytes) -> str:
    """``data:image/png;base64,...`` for encoded image bytes."""
    mime = sniff_mime(image) or "image/png"
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def make_client(params: EvaluateParams, what: str) -> ChatClient:
    """A chat client from the params; fails fast when api.openai.com is used without a key."""
    base_url = params.resolved_base_url()
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{what}: base URL {base_url!r} is not an http(s) URL; set --base-url")
    key = params.api_key()
    if key is None and parsed.hostname == "api.openai.com":
        raise ConfigError(
            f"{what}: no API key: set ${params.api_key_env} (or name another variable with "
            "--api-key-env), or point --base-url at a server that needs none"
        )
    policy = RetryPolicy(params.max_retries, params.backoff_base_s, params.backoff_max_s)
    return ChatClient(base_url, key, params.timeout_s, policy, seed=params.seed)


# OpenAI's reasoning models: o1, o3-mini, o4-mini, gpt-5, gpt-5-mini, ... (optionally "openai/").
REASONING_MODEL = re.compile(r"^(?:[\w.-]+/)?(?:o\d+|gpt-5)(?:[-.:].*)?$", re.IGNORECASE)
_REJECTED_PARAM = re.compile(
    r"HTTP 400\b.*\b(max_tokens|max_completion_tokens|temperature)\b", re.IGNORECASE
)


def token_param(model: str, setting: str) -> str:
    """``max_tokens`` or ``max_completion_tokens`` for ``model`` under ``--token-param``."""
    if setting != "auto":
        return setting
    return "max_completion_tokens" if REASONING_MODEL.match(model) else "max_tokens"


class TokenCap:
    """Which cap a model's requests carry; under ``auto``, switched once for the rest of
    the run when the endpoint rejects it (HTTP 400 naming the parameter)."""

    def __init__(self, model: str, setting: str) -> None:
        self.auto = setting == "auto"
        self.param = token_param(model, setting)
        self._lock = threading.Lock()

    def complete(self, client: ChatClient, build: Callable[[str], dict]) -> tuple[str, int, float]:
        """``client.complete(build(param))``, retried once with the other cap if rejected."""
        param = self.param
        try:
            return client.complete(build(param))
        except BackendItemError as exc:
            if not (self.auto and _REJECTED_PARAM.search(str(exc))):
                raise
            other = "max_tokens" if param == "max_completion_tokens" else "max_completion_tokens"
            with self._lock:
                self.param = other
            return client.complete(build(other))


class OpenAIChatBackend:
    """Asks one model on a chat-completions endpoint, ``concurrency`` requests at a time."""

    random_weights = False
    cacheable = True

    def __init__(self, model: str, params: EvaluateParams) -> None:
        self.id = f"openai:{model}"
        self.model = model
        # generation settings are part of the model's identity in the cache
        self.cache_id = f"{self.id}|max_tokens={params.max_tokens}|T={params.temperature:g}"
        self.cap = TokenCap(model, params.token_param)
        self.max_completion_tokens = params.max_completion_tokens
        if self.cap.param == "max_completion_tokens":
            self.cache_id = f"{self.id}|max_completion_tokens={params.max_completion_tokens}"
        self.slug = slug(model, params)
        self.concurrency = params.concurrency
        self.max_tokens = params.max_tokens
        self.temperature = params.temperature
        self.client = make_client(params, self.id)

    def answer(self, query: Query) -> Reply:
        content = [
            {"type": "text", "text": query.prompt},
            {"type": "image_url", "image_url": {"url": data_url(query.item.image)}},
        ]
        text, attempts, seconds = self.cap.complete(
            self.client, lambda param: self.payload(content, param)
        )
        return Reply(text=text, latency_s=seconds, attempts=attempts)

    def payload(self, content: list, param: str) -> dict:
        """The request body, capped with ``param``."""
        body: dict = {"model": self.model, "messages": [{"role": "user", "content": content}]}
        if param == "max_completion_tokens":
            body["max_completion_tokens"] = self.max_completion_tokens
        else:
            body["max_tokens"] = self.max_tokens
            body["temperature"] = self.temperature
        return body

    def close(self) -> None:
        pass


def slug(arg: str, params: EvaluateParams) -> str:
    return safe_name(f"openai:{arg}")


def create(arg: str, params: EvaluateParams) -> OpenAIChatBackend:
    return OpenAIChatBackend(arg, params)
