"""Arrow columns from Python lists, built from buffers: no pandas import.

Every conversion of Python objects by pyarrow (``pa.array``, ``pa.table`` of
lists, ``Table.from_pylist``) first imports pandas when it is installed, to ask
whether the input is a pandas object. That import takes ~0.25 s of the GIL, and
the tile stage, which needs no pandas, paid it while it planned its first scene
(the 8000 px bench scene: stage 1.08-1.19 s with pandas imported beforehand,
1.40-1.74 s without, alternating in-process runs). :func:`table` builds the
tile stage's tables from numpy buffers instead, for the types its schema uses;
any other type is refused (:class:`TypeError`), so a schema change that needs
more shows up in the tests, not as a silent pandas import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

# The most bytes one binary or string array holds (32-bit offsets).
MAX_BINARY_BYTES = 2**31 - 1


def table(columns: dict[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """The table of ``schema`` whose columns are the Python lists (or Arrow arrays) in
    ``columns``, by name; the same table as ``pa.table(columns, schema=schema)``."""
    missing = [name for name in schema.names if name not in columns]
    if missing:
        raise KeyError(f"no values for column(s) {missing} of the schema")
    arrays = [_built(columns[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _built(values: Sequence[Any] | pa.Array, type_: pa.DataType) -> pa.Array:
    """``values`` as an array of ``type_`` (an array of that type is taken as it is)."""
    if not isinstance(values, pa.Array):
        return array(values, type_)
    if values.type != type_:
        raise TypeError(f"a {values.type} array given for a {type_} column")
    return values


def empty(schema: pa.Schema) -> pa.Table:
    """The table of ``schema`` with no rows (``schema.empty_table()`` imports pandas)."""
    return table({name: [] for name in schema.names}, schema)


def array(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """An Arrow array of ``type_`` holding ``values`` (``None`` is null)."""
    for accepts, build in _BUILDERS:
        if accepts(type_):
            return build(values, type_)
    raise TypeError(f"blindpairs.columns builds no {type_} column: add a builder for it")


def _validity(values: Sequence[Any]) -> tuple[pa.Buffer | None, int, np.ndarray | None]:
    """(validity bitmap or None, null count, bool mask of the nulls or None)."""
    nulls = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    n_null = int(nulls.sum())
    if not n_null:
        return None, 0, None
    bits = np.packbits(~nulls, bitorder="little")
    return pa.py_buffer(bits), n_null, nulls


def _primitive(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    bitmap, n_null, nulls = _validity(values)
    if nulls is not None:
        values = [0 if v is None else v for v in values]
    data = np.asarray(values, dtype=type_.to_pandas_dtype())
    if data.ndim != 1:
        raise ValueError(f"expected {len(values)} scalars for a {type_} column")
    return pa.Array.from_buffers(type_, len(data), [bitmap, pa.py_buffer(data)], n_null)


def _binary(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    bitmap, n_null, _ = _validity(values)
    text = pa.types.is_string(type_)
    blobs = [b"" if v is None else (v.encode() if text else bytes(v)) for v in values]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    if offsets[-1] > MAX_BINARY_BYTES:
        raise ValueError(
            f"{offsets[-1]} bytes in one {type_} column, over Arrow's {MAX_BINARY_BYTES}: "
            "use fewer tiles per task (--chunk)"
        )
    data = pa.allocate_buffer(int(offsets[-1]))  # Arrow's pool reuses its memory: no page
    view = np.frombuffer(data, dtype=np.uint8)  # faults, as a fresh bytes object would have
    for blob, start, end in zip(blobs, offsets[:-1], offsets[1:], strict=True):
        view[start:end] = np.frombuffer(blob, dtype=np.uint8)
    buffers = [bitmap, pa.py_buffer(offsets.astype(np.int32)), data]
    return pa.Array.from_buffers(type_, len(blobs), buffers, n_null)


def _list(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    bitmap, n_null, _ = _validity(values)
    fixed = pa.types.is_fixed_size_list(type_)
    filler = [0] * type_.list_size if fixed else []
    items = [filler if v is None else list(v) for v in values]
    if fixed and any(len(v) != type_.list_size for v in items):
        raise ValueError(f"a value of a {type_} column has not {type_.list_size} items")
    child = array([x for v in items for x in v], type_.value_type)
    if fixed:
        return pa.Array.from_buffers(type_, len(items), [bitmap], n_null, children=[child])
    offsets = np.zeros(len(items) + 1, dtype=np.int32)
    np.cumsum([len(v) for v in items], out=offsets[1:])
    buffers = [bitmap, pa.py_buffer(offsets)]
    return pa.Array.from_buffers(type_, len(items), buffers, n_null, children=[child])


def _is_number(type_: pa.DataType) -> bool:
    return pa.types.is_integer(type_) or pa.types.is_floating(type_)


_BUILDERS: tuple[tuple[Callable[[pa.DataType], bool], Callable[..., pa.Array]], ...] = (
    (_is_number, _primitive),
    (pa.types.is_string, _binary),
    (pa.types.is_binary, _binary),
    (pa.types.is_list, _list),
    (pa.types.is_fixed_size_list, _list),
)
