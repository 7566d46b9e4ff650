"""The encoder choice: one option type, with one meaning, for the embed and mine stages.

``encoders`` names a preset pair (``schemas.ENCODER_SETS``); ``clip`` and ``dino``
override one of its ids, and ``none`` leaves that role out (embed only: mine needs
both). The choice is taken whole from one place (:func:`blindpairs.config.stage_section`):
the stage's command line if it gives any of ``encoders``/``clip``/``dino``, else the
stage's own config section if it sets any, else the ``embed`` section, so mine mines
what embed embedded. ``choice_from`` says which, for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from blindpairs.config import option, optional_text
from blindpairs.errors import ConfigError
from blindpairs.schemas import ENCODER_SETS

NONE = "none"  # an encoder id that leaves its role out
# Role -> encoder family. An encoder id starts with its family's name ("clip:ViT-L-14/openai",
# "clip-tiny-random", "dinov2:vit_large_patch14_dinov2.lvd142m"), as the registry's ids do.
FAMILIES = {"clip": "clip", "dino": "dinov2"}


def encoder_family(encoder_id: str) -> str | None:
    """The family an encoder id names (``clip`` or ``dinov2``), or None."""
    for family in FAMILIES.values():
        if encoder_id.startswith((f"{family}:", f"{family}-")):
            return family
    return None


@dataclass(frozen=True)
class EncoderChoice:
    """Which CLIP and DINOv2 encoders a stage uses (a base of the stages' params)."""

    SHARED_SECTION: ClassVar[str] = "embed"
    ORIGIN_FIELD: ClassVar[str] = "choice_from"

    encoders: str = option(
        "paper",
        "encoder pair: paper (CLIP ViT-L/14 openai + DINOv2 ViT-L/14), small (CLIP ViT-B/32 "
        "LAION-2B + DINOv2 ViT-S/14) or tiny (random weights; tests and smoke runs only)",
        choices=tuple(ENCODER_SETS),
    )
    clip: str | None = option(
        None,
        "CLIP encoder id, overriding --encoders (list: blindpairs encoders); 'none': embed "
        "embeds no CLIP, mine refuses it (it needs both encoders)",
        parse=optional_text,
        metavar="ID",
    )
    dino: str | None = option(
        None,
        "DINOv2 encoder id, overriding --encoders; 'none': embed embeds no DINOv2, mine "
        "refuses it (it needs both encoders)",
        parse=optional_text,
        metavar="ID",
    )
    # where the choice came from ("the command line", "c.yaml [embed]", "the defaults"),
    # set by config.stage_section; not an option
    choice_from: str = field(default="the params", compare=False, repr=False)

    def chosen(self) -> dict[str, str]:
        """Role (``clip``/``dino``) -> encoder id; a role set to ``none`` is left out."""
        clip_id, dino_id = ENCODER_SETS[self.encoders]
        ids = {"clip": self.clip or clip_id, "dino": self.dino or dino_id}
        return {role: eid for role, eid in ids.items() if eid.lower() != NONE}

    def encoder_ids(self, need_both: bool = False) -> dict[str, str]:
        """:meth:`chosen`, checked: each id is of its role's family (a ``clip`` names a
        CLIP encoder, a ``dino`` a DINOv2 one) and at least one role is left (both when
        ``need_both``). ConfigError names the choice and where it came from."""
        chosen = self.chosen()
        where = f"(from {self.choice_from})"
        for role, encoder_id in chosen.items():
            family = FAMILIES[role]
            if encoder_family(encoder_id) != family:
                known = ", ".join(ids[role == "dino"] for ids in ENCODER_SETS.values())
                raise ConfigError(
                    f"{role} {encoder_id!r} {where}: not a {family} encoder; use one of "
                    f"{known} (all: blindpairs encoders)"
                )
        if not chosen:
            raise ConfigError(f"clip and dino are both 'none' {where}: choose an encoder")
        missing = sorted(FAMILIES.keys() - chosen.keys())
        if need_both and missing:
            raise ConfigError(
                f"needs both encoders, but {'/'.join(missing)} is 'none' {where}; choose "
                "them with --encoders/--clip/--dino or in this stage's own config section"
            )
        return chosen
