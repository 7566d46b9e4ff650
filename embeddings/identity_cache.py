"""A small on-disk cache of planned embedding identities.

Working out an identity needs open_clip/timm configs, and importing those
libraries takes seconds; with this cache a re-run that has nothing to do
answers without importing them. Entries are keyed by encoder id, its registry
entry (spec), options, checkpoint file size/mtime and the installed
open_clip/timm versions.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from blindpairs import atomic
from embeddings import registry
from embeddings.spec import EncoderOptions

CACHE_NAME = "_identities.json"
_DISTRIBUTIONS = ("open_clip_torch", "timm")


def _versions() -> dict[str, str]:
    out = {}
    for dist in _DISTRIBUTIONS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def _key(encoder_id: str, options: EncoderOptions) -> str:
    ckpt: Any = None
    if options.checkpoint and Path(options.checkpoint).is_file():
        st = Path(options.checkpoint).stat()
        ckpt = [str(Path(options.checkpoint).resolve()), st.st_size, st.st_mtime_ns]
    spec = dataclasses.asdict(registry.get_spec(encoder_id))
    return json.dumps(
        [encoder_id, spec, dataclasses.asdict(options), ckpt, _versions()],
        sort_keys=True,
        default=str,
    )


def cached_describe(cache_dir: Path, encoder_id: str, options: EncoderOptions) -> dict[str, Any]:
    """:func:`registry.describe`, remembered in ``cache_dir/_identities.json``."""
    registry.get_spec(encoder_id)  # unknown ids fail here, cached or not
    path = Path(cache_dir) / CACHE_NAME
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    key = _key(encoder_id, options)
    if key in cache:
        return cache[key]
    ident = registry.describe(encoder_id, options)
    cache[key] = json.loads(json.dumps(ident))
    atomic.write_json(path, cache)
    return cache[key]
