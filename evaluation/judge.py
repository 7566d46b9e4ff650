"""An optional LLM judge following MMVP's grader protocol (scripts/gpt_grader.py).

The judge sees the prompt, the correct answer and the reply, and must say
``yes`` or ``no``. As in MMVP, anything but a bare yes/no counts as "could
not determine" (not correct). ``--judge-mode unparsed`` (default) asks only
about replies the deterministic parser cannot read; ``all`` asks about every
reply, as MMVP does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from blindpairs.errors import ConfigError
from evaluation.backends import split_id
from evaluation.backends.http import ChatClient
from evaluation.backends.openai_chat import make_client
from evaluation.params import EvaluateParams

JUDGE_VERSION = "mmvp-grader-v1"
SYSTEM = (
    "You are a helpful and precise assistant for checking the quality of the answer. "
    "Please answer in only yes or no."
)
USER = (
    "Given the following question {question}, the correct answer is {answer}. "
    "Does the following answer correctly answers the question, answer:{response}?"
)
_YES_NO = re.compile(r"^\s*(yes|no)\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """The judge's raw reply and what it means (None: could not determine)."""

    reply: str
    correct: bool | None


def judge_prompt(prompt: str, correct_label: str, response: str) -> str:
    """MMVP's grader question; ``correct_label`` is e.g. ``"(a) Open"``."""
    return USER.format(question=prompt, answer=correct_label, response=response)


def read_verdict(reply: str) -> bool | None:
    m = _YES_NO.match(reply)
    return None if not m else m.group(1).lower() == "yes"


class Judge:
    """Grades replies through an ``openai:`` backend."""

    def __init__(self, judge_id: str, params: EvaluateParams) -> None:
        prefix, model = split_id(judge_id)
        if prefix != "openai":
            raise ConfigError(f"--judge {judge_id!r}: the judge must be an openai:<model> backend")
        self.id = judge_id
        self.model = model
        self.cache_id = f"judge|{judge_id}|{JUDGE_VERSION}"
        self.concurrency = params.concurrency
        self.client: ChatClient = make_client(params, f"--judge {judge_id}")

    def grade(self, question: str) -> Verdict:
        """Ask the judge ``question``; raise BackendItemError when it cannot be reached."""
        payload = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
            ],
            "temperature": 0.0,
            "max_tokens": 5,
        }
        text, _attempts, _seconds = self.client.complete(payload)
        return Verdict(text, read_verdict(text))
