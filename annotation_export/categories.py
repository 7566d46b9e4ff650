"""MMVP's nine visual patterns, adapted to remote sensing: the one editable list.

Edit :data:`CATEGORIES` to change what annotators can pick; ``id`` is what is
stored in annotations and the benchmark, ``name`` is what annotators see.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One visual pattern an annotator can pick for a pair."""

    id: str
    name: str
    mmvp: str  # the MMVP visual pattern it adapts
    hint: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "orientation",
        "Orientation and direction",
        "Orientation and Direction",
        "which way runways, roads, field rows, ships or shadows point",
    ),
    Category(
        "presence",
        "Presence of specific features",
        "Presence of Specific Features",
        "whether a pool, bridge, ship, vehicle or building is there at all",
    ),
    Category(
        "state",
        "State and condition",
        "State and Condition",
        "flooded or dry, built or under construction, harvested, burnt, snow-covered",
    ),
    Category(
        "count",
        "Quantity and count",
        "Quantity and Count",
        "how many buildings, tanks, aircraft, boats or lanes",
    ),
    Category(
        "position",
        "Positional and relational context",
        "Positional and Relational Context",
        "where one object is relative to another (left of the river, next to the road)",
    ),
    Category(
        "color",
        "Color and appearance",
        "Color and Appearance",
        "roof colour, water colour or turbidity, vegetation tone",
    ),
    Category(
        "structure",
        "Structural and physical characteristics",
        "Structural and Physical Characteristics",
        "shape of footprints, road layout, field geometry, texture",
    ),
    Category(
        "markings",
        "Text and markings",
        "Texts",
        "runway numbers, helipad letters, road or parking markings",
    ),
    Category(
        "viewpoint",
        "Viewpoint, scale and perspective",
        "Viewpoint and Perspective",
        "off-nadir look, shadow length, apparent scale or resolution",
    ),
)

_BY_KEY: dict[str, Category] = {}
for _c in CATEGORIES:
    _BY_KEY[_c.id.casefold()] = _c
    _BY_KEY[_c.name.casefold()] = _c


def find_category(value: str) -> Category | None:
    """The category whose id or display name is ``value`` (case-insensitive), or None."""
    return _BY_KEY.get(str(value).strip().casefold())
