"""Model backends: a registry from id prefix to factory.

Ids are ``<prefix>:<argument>`` (``openai:gpt-4o``, ``hf:Qwen/Qwen2-VL-2B-Instruct``,
``predictions:answers.jsonl``, ``clip:clip-tiny-random``) or a bare name
(``random``). Factories import their heavy dependencies themselves.
"""

from __future__ import annotations

import importlib
from typing import Any

from blindpairs.errors import ConfigError
from evaluation.backends.base import Backend

# prefix -> (module with create(arg, params), whether the argument is required)
BACKENDS: dict[str, tuple[str, bool]] = {
    "openai": ("evaluation.backends.openai_chat", True),
    "hf": ("evaluation.backends.hf", True),
    "predictions": ("evaluation.backends.predictions", True),
    "clip": ("evaluation.backends.clip", True),
    "random": ("evaluation.backends.random_choice", False),
}


def split_id(model_id: str) -> tuple[str, str]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; ConfigError when unknown."""
    prefix, _, arg = model_id.partition(":")
    if prefix not in BACKENDS:
        known = ", ".join(f"{p}:..." if need else p for p, (_, need) in BACKENDS.items())
        raise ConfigError(f"unknown model {model_id!r} (known backends: {known})")
    if BACKENDS[prefix][1] and not arg.strip():
        raise ConfigError(f"model {model_id!r} needs an argument, e.g. {prefix}:<name>")
    return prefix, arg.strip()


def create_backend(model_id: str, params: Any) -> Backend:
    """Build the backend of ``model_id`` (loads local models; checks endpoints' settings)."""
    prefix, arg = split_id(model_id)
    module = importlib.import_module(BACKENDS[prefix][0])
    return module.create(arg, params)


def default_run_name(model_id: str, params: Any) -> str:
    """The result folder of ``model_id``: its backend's ``slug(arg, params)``."""
    prefix, arg = split_id(model_id)
    return importlib.import_module(BACKENDS[prefix][0]).slug(arg, params)


def source_digest(model_id: str) -> str:
    """A digest of what a backend reads besides its id (e.g. a predictions file), or ''.

    Used to tell whether earlier scores are up to date without loading the model.
    """
    prefix, arg = split_id(model_id)
    module = importlib.import_module(BACKENDS[prefix][0])
    digest = getattr(module, "source_digest", None)
    return digest(arg) if digest is not None else ""
