"""An optional LLM judge after MMVP's grader (MMVP's ``scripts/gpt_grader.py``).

The judge sees the prompt, the correct answer and the reply, and must say
``yes`` or ``no``; anything else counts as "could not determine" (not correct).

Two protocols (``--judge-protocol``):

- ``mmvp``: exactly MMVP's grader: its system and user text, temperature 0.2,
  no token cap, the correct answer passed as its letter (``(a)``, as MMVP's
  ``Correct Answer`` column holds it), only ``^(yes|no)$`` accepted, and every
  reply judged, the verdict alone deciding (``--judge-mode`` is ignored).
- ``blindpairs`` (default) differs in: temperature 0 and at most 5 tokens
  (repeatable), the answer passed as letter and option text (``(a) Open``),
  ``Yes.``/``no!`` accepted, and by default (``--judge-mode unparsed``) only the
  replies the deterministic parser cannot read are judged.

A reasoning model as the judge (``o3-mini``, ``gpt-5``, ...; by name, or after an
HTTP 400 under ``--token-param auto``) rejects any temperature and ``max_tokens``:
it is asked with ``--max-completion-tokens`` at its own temperature, and
scores.json's ``judge_sampling`` says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from blindpairs.errors import ConfigError
from evaluation.backends import split_id
from evaluation.backends.http import ChatClient
from evaluation.backends.openai_chat import TokenCap, make_client
from evaluation.params import EvaluateParams

JUDGE_VERSION = "mmvp-grader-v1"  # the blindpairs protocol
MMVP_JUDGE_VERSION = "mmvp-grader-exact-v1"
SYSTEM = (
    "You are a helpful and precise assistant for checking the quality of the answer. "
    "Please answer in only yes or no."
)
USER = (
    "Given the following question {question}, the correct answer is {answer}. "
    "Does the following answer correctly answers the question, answer:{response}?"
)
_YES_NO = re.compile(r"^\s*(yes|no)\s*[.!]?\s*$", re.IGNORECASE)
_MMVP_YES_NO = re.compile(r"^(yes|no)$", re.IGNORECASE)  # gpt_grader.py, with re.match


@dataclass(frozen=True)
class Protocol:
    """How the judge is asked and read."""

    version: str
    temperature: float
    max_tokens: int | None
    verdict: re.Pattern[str]
    answer_with_text: bool  # "(a) Open" rather than "(a)"
    judge_every_reply: bool  # the verdict alone decides, for every reply


PROTOCOLS: dict[str, Protocol] = {
    "blindpairs": Protocol(JUDGE_VERSION, 0.0, 5, _YES_NO, True, False),
    "mmvp": Protocol(MMVP_JUDGE_VERSION, 0.2, None, _MMVP_YES_NO, False, True),
}


@dataclass(frozen=True)
class Verdict:
    """The judge's raw reply and what it means (None: could not determine)."""

    reply: str
    correct: bool | None


def judge_prompt(prompt: str, correct_label: str, response: str) -> str:
    """MMVP's grader question; ``correct_label`` is e.g. ``"(a) Open"``."""
    return USER.format(question=prompt, answer=correct_label, response=response)


def correct_answer(label: str, option: str, protocol: Protocol) -> str:
    """The correct answer as the judge sees it: ``(a) Open``, or MMVP's bare ``(a)``."""
    letter = label.rstrip(".:")
    return f"{label} {option}" if protocol.answer_with_text else letter


def read_verdict(reply: str, protocol: Protocol = PROTOCOLS["blindpairs"]) -> bool | None:
    m = protocol.verdict.match(reply)
    return None if not m else m.group(1).lower() == "yes"


class Judge:
    """Grades replies through an ``openai:`` backend."""

    def __init__(self, judge_id: str, params: EvaluateParams) -> None:
        prefix, model = split_id(judge_id)
        if prefix != "openai":
            raise ConfigError(f"--judge {judge_id!r}: the judge must be an openai:<model> backend")
        self.id = judge_id
        self.model = model
        self.protocol = PROTOCOLS[params.judge_protocol]
        self.cache_id = f"judge|{judge_id}|{self.protocol.version}"
        self.concurrency = params.concurrency
        self.cap = TokenCap(model, params.token_param)
        self.max_completion_tokens = params.max_completion_tokens
        self.client: ChatClient = make_client(params, f"--judge {judge_id}")

    def payload(self, question: str, param: str) -> dict:
        """The request: the protocol's temperature and cap; a reasoning model (which
        rejects both) gets ``--max-completion-tokens`` and its own sampling instead."""
        payload: dict = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
            ],
        }
        if param == "max_completion_tokens":
            payload["max_completion_tokens"] = self.max_completion_tokens
            return payload
        payload["temperature"] = self.protocol.temperature
        if self.protocol.max_tokens is not None:
            payload["max_tokens"] = self.protocol.max_tokens
        return payload

    def sampling(self) -> str:
        """How the judge was asked, for scores.json (the protocol's, or a reasoning
        model's own temperature)."""
        if self.cap.param == "max_completion_tokens":
            return (
                f"max_completion_tokens={self.max_completion_tokens}, the model's own "
                f"temperature (it rejects the protocol's {self.protocol.temperature:g})"
            )
        cap = "" if self.protocol.max_tokens is None else f", max_tokens={self.protocol.max_tokens}"
        return f"temperature={self.protocol.temperature:g}{cap}"

    def grade(self, question: str) -> Verdict:
        """Ask the judge ``question``; raise BackendItemError when it cannot be reached."""
        text, _attempts, _seconds = self.cap.complete(
            self.client, lambda param: self.payload(question, param)
        )
        return Verdict(text, read_verdict(text, self.protocol))
