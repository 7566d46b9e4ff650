"""Options of ``blindpairs evaluate`` (CLI flags and the ``evaluate:`` config section)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from blindpairs.config import env_name, option
from blindpairs.names import check_name
from evaluation.loaders import FORMATS
from evaluation.prompts import DEFAULT_TEMPLATE, TEMPLATES
from evaluation.scoring import DEFAULT_PROFILE, PROFILES


def model_list(value: Any) -> tuple[str, ...]:
    """Parse ``"openai:gpt-4o,random"`` or a YAML list into model ids."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(v).strip() for v in items if str(v).strip())


def positive(kind: type) -> Any:
    def parse(value: Any) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError(f"expected a number > 0, got {value!r}")
        return number

    return parse


def non_negative(kind: type) -> Any:
    def parse(value: Any) -> Any:
        number = kind(value)
        if number < 0:
            raise ValueError(f"expected a number >= 0, got {value!r}")
        return number

    return parse


def run_name(value: Any) -> str:
    """A run name that is one safe folder name, or "" for the default."""
    text = str(value)
    return check_name(text, "run name") if text else ""


@dataclass(frozen=True)
class EvaluateParams:
    """Everything that decides what ``evaluate`` asks and how it scores."""

    models: tuple[str, ...] = option(
        (),
        "models to score, comma-separated: openai:<model>, hf:<model_id>, "
        "predictions:<file>, clip:<encoder_id>, random",
        parse=model_list,
        metavar="ID[,ID...]",
    )
    benchmark: str = option(
        "", "benchmark to score (default: <workspace>/benchmark)", metavar="PATH"
    )
    benchmark_format: str = option("auto", "benchmark format", choices=FORMATS)
    prompt: str = option(DEFAULT_TEMPLATE, "prompt template version", choices=tuple(TEMPLATES))
    scoring: str = option(
        DEFAULT_PROFILE,
        "answer extraction rules: blindpairs (never guesses), or those of lmms-eval or "
        "VLMEvalKit to reproduce their numbers",
        choices=tuple(PROFILES),
    )
    swap_options: bool = option(
        False,
        "ask each question again with options swapped (reported apart: both-orders pair "
        "accuracy, chance 1 in 16; the headline stays MMVP's)",
    )
    limit: int = option(0, "score only the first N items (0: all)", parse=non_negative(int))
    run_name: str = option(
        "",
        "result folder and leaderboard name: letters, digits, '.', '_', '-', not first '.' or '-' "
        "(default: from the model id)",
        parse=run_name,
        metavar="NAME",
    )
    force: bool = option(False, "re-score even when scores are up to date (the cache is kept)")
    # openai-compatible endpoints
    base_url: str = option(
        "",
        "chat-completions base URL (default: $OPENAI_BASE_URL or api.openai.com/v1)",
        metavar="URL",
    )
    api_key_env: str = option(
        "OPENAI_API_KEY",
        "environment variable that holds the API key",
        parse=env_name,
        metavar="NAME",
    )
    concurrency: int = option(8, "requests in flight at once", parse=positive(int))
    timeout_s: float = option(
        60.0,
        "deadline in seconds for one request: connect, send and the whole reply",
        parse=positive(float),
    )
    max_retries: int = option(5, "retries on 429/5xx/timeouts", parse=non_negative(int))
    backoff_base_s: float = option(
        1.0, "first retry delay (doubles each try, with jitter)", parse=non_negative(float)
    )
    backoff_max_s: float = option(
        60.0, "longest retry delay (also caps Retry-After)", parse=non_negative(float)
    )
    max_tokens: int = option(256, "longest reply in tokens", parse=positive(int))
    temperature: float = option(0.0, "sampling temperature", parse=non_negative(float))
    token_param: str = option(
        "auto",
        "how openai: models are capped: max_tokens (+ temperature), max_completion_tokens "
        "(reasoning models: o1/o3/o4/gpt-5, which reject max_tokens and temperature), or auto: "
        "by model name, switching once when the endpoint rejects the parameter",
        choices=("auto", "max_tokens", "max_completion_tokens"),
    )
    max_completion_tokens: int = option(
        4096,
        "cap sent as max_completion_tokens; it includes a reasoning model's hidden reasoning, "
        "so it must be far above --max-tokens",
        parse=positive(int),
    )
    # judge, baselines, local models
    judge: str = option(
        "",
        "openai:<model> that grades replies with MMVP's yes/no protocol (default: none)",
        metavar="ID",
    )
    judge_mode: str = option(
        "unparsed",
        "judge every reply (MMVP) or only those the parser cannot read",
        choices=("unparsed", "all"),
    )
    judge_protocol: str = option(
        "blindpairs",
        "mmvp: exactly MMVP's grader (temperature 0.2, the answer as its letter, only a bare "
        "yes/no accepted, every reply judged); blindpairs: temperature 0, the answer as letter "
        "and text, yes/no with trailing punctuation accepted",
        choices=("blindpairs", "mmvp"),
    )
    seed: int = option(0, "seed of the random baseline and of retry jitter")
    clip_text: str = option(
        "{question} {option}",
        "text scored against the image per option by clip:<encoder>",
        metavar="TEMPLATE",
    )
    device: str = option(
        "auto",
        "device of local models (hf:, clip:): auto, cpu, cuda",
        choices=("auto", "cpu", "cuda"),
    )

    def api_key(self) -> str | None:
        """The API key from the environment (never stored in params or outputs)."""
        return os.environ.get(self.api_key_env) or None

    def resolved_base_url(self) -> str:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
