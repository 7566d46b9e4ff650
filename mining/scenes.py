"""Scene inputs: paths, globs, GDAL-readable URIs or list files -> scene references."""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import glob
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindpairs.errors import ConfigError
from blindpairs.terminal import terminal_safe
from blindpairs.workspace import safe_name

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".vrt", ".img")
LIST_SUFFIXES = (".txt", ".lst", ".list")
_URI = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://|/vsi)")


@dataclass(frozen=True)
class SceneRef:
    """One input scene: where to read it and the id its tiles carry."""

    uri: str
    scene_id: str

    @property
    def is_local(self) -> bool:
        return not _URI.match(self.uri)


def _absolute(path: Path) -> str:
    """``path`` resolved; as given (made absolute) when it cannot be, e.g. a symlink loop,
    so that the scene fails later with its reason instead of stopping the run."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # RuntimeError: symlink loop (Python < 3.13)
        return str(path.absolute())


def symlink_loop(uri: str) -> str | None:
    """Why a local path cannot be followed because its symbolic links form a loop
    (the failure message), or None when they do not."""
    try:
        os.stat(uri)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (
                f"symlink loop: {uri} leads back to itself through "
                "symbolic links; point the link at the scene file or remove it"
            )
    return None


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return path.is_symlink()


def _expand_one(item: str, base: Path) -> list[str]:
    if _URI.match(item):
        return [item]
    path = (base / item).expanduser() if not Path(item).is_absolute() else Path(item)
    # a name with glob characters that exists as a file is that file (scene[1].tif)
    if any(ch in item for ch in "*?[") and not _exists(path):
        found = sorted(glob.glob(str(path), recursive=True))
        if not found:
            raise ConfigError(f"{terminal_safe(item)}: the pattern matches no file")
        return [_absolute(Path(f)) for f in found if not Path(f).is_dir()]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in RASTER_SUFFIXES)
        if not found:
            raise ConfigError(
                f"{terminal_safe(item)}: the folder holds no raster ({', '.join(RASTER_SUFFIXES)})"
            )
        return [_absolute(p) for p in found]
    if path.suffix.lower() in LIST_SUFFIXES and path.is_file():
        out: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.extend(_expand_one(line, path.parent))
        return out
    # A plain path: existence is checked per scene later, so a missing file (or a
    # symlink loop) is a recorded scene failure, not a crash of the whole run.
    return [_absolute(path)]


def expand_inputs(items: list[str]) -> list[str]:
    """Every scene URI named by ``items`` (deduplicated, order kept)."""
    if not items:
        raise ConfigError("no scenes given: pass paths, globs, URIs or a .txt list of them")
    seen: dict[str, None] = {}
    for item in items:
        for uri in _expand_one(item, Path.cwd()):
            seen.setdefault(uri, None)
    return list(seen)


def base_scene_id(uri: str) -> str:
    """The readable id of a scene: its file stem, made file-name safe."""
    name = uri.rstrip("/").split("/")[-1].split("?")[0]
    for suffix in RASTER_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return safe_name(name)


def assign_scene_ids(uris: list[str], taken: dict[str, str]) -> list[SceneRef]:
    """Scene ids for ``uris``. ``taken`` maps ids already in the workspace to their URI;
    a URI keeps its id, and a new URI whose stem is taken gets a short hash suffix."""
    owner = dict(taken)
    by_uri = {uri: sid for sid, uri in taken.items()}
    refs = []
    for uri in uris:
        sid = by_uri.get(uri)
        if sid is None:
            sid = base_scene_id(uri)
            if sid in owner and owner[sid] != uri:
                sid = f"{sid}-{hashlib.sha1(uri.encode()).hexdigest()[:8]}"
            owner[sid] = uri
            by_uri[uri] = sid
        refs.append(SceneRef(uri=uri, scene_id=sid))
    return refs


@dataclass(frozen=True)
class FileStamp:
    """Cheap change detection for a local file."""

    size: int
    mtime_ns: int


def file_stamp(uri: str) -> FileStamp | None:
    try:
        st = os.stat(uri)
    except OSError:
        return None
    return FileStamp(size=st.st_size, mtime_ns=st.st_mtime_ns)


HASH_BLOCK = 1 << 23  # bytes per read of the content hash
# Content hashes are XXH3-128 (about 15x SHA-256's speed here), written with this prefix.
# Parts tiled before it record a bare SHA-256 hex digest; a scene's file is compared with
# its recorded hash by that hash's own function, so those parts stay current.
XXH3 = "xxh3:"
_LEGACY_SHA256 = re.compile(r"[0-9a-f]{64}")


def _file_hasher(like: str | None) -> tuple[str, Any]:
    """The prefix and a new hash object for a file's content hash: SHA-256 when ``like``
    (the recorded hash it is compared with) is a legacy SHA-256 digest, else XXH3-128."""
    if like is not None and _LEGACY_SHA256.fullmatch(like):
        return "", hashlib.sha256()
    import xxhash

    return XXH3, xxhash.xxh3_128()


def content_hash(
    ref: SceneRef, stop: threading.Event | None = None, like: str | None = None
) -> str:
    """The content hash of a local file's bytes (streamed; see :data:`XXH3`, and ``like``
    in :func:`_file_hasher`); for a remote URI, ``uri:`` and the SHA-256 of the URI.

    When ``stop`` is set the hash ends early and :class:`HashStopped` is raised."""
    if not ref.is_local:
        return "uri:" + hashlib.sha256(ref.uri.encode()).hexdigest()
    prefix, h = _file_hasher(like)
    buf = bytearray(HASH_BLOCK)
    view = memoryview(buf)
    with open(ref.uri, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            if stop is not None and stop.is_set():
                raise HashStopped(ref.uri)
            h.update(view[:n])  # the read releases the GIL; XXH3 takes ~0.3 ms per block
    return prefix + h.hexdigest()


class HashStopped(Exception):
    """A background content hash was stopped before its end (its result is not needed)."""


@contextlib.contextmanager
def hashing(ref: SceneRef, like: str | None = None) -> Iterator[Callable[[], str]]:
    """Start :func:`content_hash` of ``ref`` (by the function of ``like``) in a thread;
    yield a function that waits for it and returns it (or raises what the hash raised).

    The file is hashed while the caller reads the scene (hashlib and file reads release
    the GIL); on exit an unfinished hash is stopped and its thread joined."""
    stop = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="content-hash") as pool:
        future = pool.submit(content_hash, ref, stop, like)
        try:
            yield future.result
        finally:
            stop.set()
