"""Stages meet only through the core contract: a private (underscore) file is named by one
package at most, and the embedding identity is defined once."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from blindpairs import schemas, stages

REPO = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"^_[\w.-]+\.(parquet|json)$")


def test_each_private_file_name_belongs_to_one_package() -> None:
    """``blindpairs/`` (the contract: ``Workspace`` names public paths) counts as one
    package; a name two packages spell out means one reads the other's private file."""
    owners: dict[str, set[str]] = defaultdict(set)
    for package in ("blindpairs", *stages.packages()):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                value = node.value if isinstance(node, ast.Constant) else None
                if isinstance(value, str) and PRIVATE.match(value):
                    owners[value].add(package)
    assert owners  # the scan sees the stages' private files
    assert {name: sorted(p) for name, p in owners.items() if len(p) > 1} == {}


def test_the_embedding_identity_is_one_function() -> None:
    from embeddings import store
    from pairs.incremental import search_key

    assert store.identity is schemas.embedding_identity
    assert store.identity_key is schemas.embedding_identity_key
    meta = {"encoder_id": "e", "weights": "w", "preprocessing": {"size": (224, 224)}, "dim": 8}
    ident = schemas.embedding_identity({**meta, "extra": 1})
    assert ident["preprocessing"] == {"size": [224, 224]} and "extra" not in ident
    assert set(ident) == set(schemas.EMBEDDING_META_KEYS)

    class Side:
        def __init__(self, m: dict) -> None:
            self.meta = m

    class Inputs:
        clip, dino = Side(meta), Side({**meta, "encoder_id": "d"})

    class Params:
        search_clip, search_dino = 0.9, 0.7

    key = search_key(Inputs(), Params())  # type: ignore[arg-type]
    assert key["clip"] == ident and key["dino"]["encoder_id"] == "d"
