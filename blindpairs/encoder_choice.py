"""The encoder choice: one option type, with one meaning, for the embed and mine stages.

``encoders`` names a preset pair (``schemas.ENCODER_SETS``); ``clip`` and ``dino``
override one of its ids, and ``none`` leaves that role out (embed only: mine needs
both). The choice lives in the ``embed`` section of a config file: a stage whose own
section sets none of ``encoders``/``clip``/``dino`` takes them from there
(:func:`blindpairs.config.stage_section`), so mine mines what embed embedded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from blindpairs.config import option, optional_text
from blindpairs.schemas import ENCODER_SETS

NONE = "none"  # an encoder id that leaves its role out


@dataclass(frozen=True)
class EncoderChoice:
    """Which CLIP and DINOv2 encoders a stage uses (a base of the stages' params)."""

    SHARED_SECTION: ClassVar[str] = "embed"

    encoders: str = option(
        "paper",
        "encoder pair: paper (CLIP ViT-L/14 openai + DINOv2 ViT-L/14), small (CLIP ViT-B/32 "
        "LAION-2B + DINOv2 ViT-S/14) or tiny (random weights; tests and smoke runs only)",
        choices=tuple(ENCODER_SETS),
    )
    clip: str | None = option(
        None,
        "CLIP encoder id, overriding --encoders ('none': no CLIP; list: blindpairs encoders)",
        parse=optional_text,
        metavar="ID",
    )
    dino: str | None = option(
        None,
        "DINOv2 encoder id, overriding --encoders ('none': no DINOv2)",
        parse=optional_text,
        metavar="ID",
    )

    def chosen(self) -> dict[str, str]:
        """Role (``clip``/``dino``) -> encoder id; a role set to ``none`` is left out."""
        clip_id, dino_id = ENCODER_SETS[self.encoders]
        ids = {"clip": self.clip or clip_id, "dino": self.dino or dino_id}
        return {role: eid for role, eid in ids.items() if eid.lower() != NONE}
