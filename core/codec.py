"""A safe binary encoding of engine results for caches shared between processes (core.lru's shared store).

Why not pickle: the shared store may be Redis, and unpickling runs whatever code the bytes name. Here
decoding only ever builds plain values, numpy arrays of numeric/bool/datetime dtypes, pandas frames,
series and indexes, dates, and the dataclasses listed in ALLOWED; anything else raises CodecError, which a
cache treats as a miss (it recomputes).

Layout: MAGIC, a 4-byte length, a JSON tree, then the raw bytes of every array (each node says its offset):
a battle's arrays cost a memcpy each way, not a text round trip. Round trips are exact (NaN included).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import struct

import numpy as np
import pandas as pd

MAGIC = b"NEONC1\n"
ALLOWED = frozenset({
    "core.arena.results.BattleResult", "core.arena.results.ContestantResult", "core.arena.results.SeedRun",
    "core.sim.SimResult", "core.sim.Costs", "core.arena.stress.CostStress", "core.arena.stress.BreakEven",
})
"""The only classes decoding may instantiate (module.qualname)."""
_ARRAY_KINDS = "biufcmM"  # bool, ints, floats, complex, timedelta, datetime: raw bytes, no Python objects


class CodecError(ValueError):
    """The value cannot be encoded, or the bytes are not a valid encoding (corrupt, truncated, foreign)."""


def dumps(value) -> bytes:
    blobs: list[bytes] = []
    offset = [0]

    def array(a: np.ndarray) -> dict:
        a = np.ascontiguousarray(a)
        node = {"$a": [a.dtype.str, list(a.shape), offset[0], a.nbytes]}
        blobs.append(a.tobytes())
        offset[0] += a.nbytes
        return node

    def enc(v):
        if isinstance(v, np.generic):  # before the Python types: np.float64 is a float, np.str_ a str
            if isinstance(v, np.str_):
                return str(v)
            if v.dtype.kind not in "biuf":
                raise CodecError(f"cannot encode numpy scalar of dtype {v.dtype}")
            return {"$n": [v.dtype.str, v.item()]}
        if v is None or isinstance(v, (bool, str, int, float)):
            return v  # json writes NaN/Infinity and reads them back
        if isinstance(v, list):
            return [enc(x) for x in v]
        if isinstance(v, tuple):
            return {"$t": [enc(x) for x in v]}
        if isinstance(v, dict):
            return {"$d": [[enc(k), enc(x)] for k, x in v.items()]}
        if isinstance(v, np.ndarray):
            if v.dtype.kind in _ARRAY_KINDS:
                return array(v)
            if v.dtype.kind in "OU":
                return {"$ao": [list(v.shape), [enc(x) for x in v.ravel().tolist()]]}
            raise CodecError(f"cannot encode array of dtype {v.dtype}")
        if isinstance(v, pd.DataFrame):
            return {"$df": [enc(list(v.columns)), [series(v.iloc[:, i]) for i in range(v.shape[1])], enc(v.index)]}
        if isinstance(v, pd.Series):
            return {"$s": [series(v), enc(v.index), enc(v.name)]}
        if isinstance(v, pd.RangeIndex):
            return {"$ri": [v.start, v.stop, v.step, enc(v.name)]}
        if isinstance(v, pd.Index):
            return {"$ix": [series(pd.Series(v)), enc(v.name)]}
        if isinstance(v, pd.Timestamp):
            return {"$ts": v.isoformat()}
        if isinstance(v, dt.datetime):
            return {"$dt": v.isoformat()}
        if isinstance(v, dt.date):
            return {"$date": v.isoformat()}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            name = f"{type(v).__module__}.{type(v).__qualname__}"
            if name not in ALLOWED:
                raise CodecError(f"{name} is not in core.codec.ALLOWED")
            return {"$dc": [name, [[f.name, enc(getattr(v, f.name))] for f in dataclasses.fields(v)]]}
        raise CodecError(f"cannot encode {type(v).__qualname__}")

    def series(s: pd.Series) -> dict:
        dtype = str(s.dtype)
        values = s.to_numpy()
        if values.dtype.kind in _ARRAY_KINDS and isinstance(s.dtype, np.dtype):
            return {"$col": [dtype, array(values)]}
        return {"$col": [dtype, [enc(x) for x in values.tolist()]]}

    tree = json.dumps(enc(value), separators=(",", ":")).encode()
    return b"".join([MAGIC, struct.pack("<I", len(tree)), tree, *blobs])


def loads(raw: bytes):
    if not isinstance(raw, (bytes, bytearray, memoryview)) or not bytes(raw[: len(MAGIC)]) == MAGIC:
        raise CodecError("not a core.codec encoding")
    try:
        (size,) = struct.unpack_from("<I", raw, len(MAGIC))
        start = len(MAGIC) + 4
        tree = json.loads(bytes(raw[start:start + size]))
        return _Decoder(memoryview(raw)[start + size:]).dec(tree)
    except CodecError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed input is a CodecError, never a crash
        raise CodecError(f"corrupt encoding: {type(exc).__name__}: {exc}") from None


class _Decoder:
    def __init__(self, data: memoryview) -> None:
        self.data = data

    def array(self, node) -> np.ndarray:
        dtype, shape, offset, nbytes = node
        dtype = np.dtype(dtype)
        if dtype.kind not in _ARRAY_KINDS or offset + nbytes > len(self.data):
            raise CodecError("bad array node")
        # a copy: cached values are shared read-only, but a writable array behaves like the computed one
        return np.frombuffer(self.data[offset:offset + nbytes], dtype=dtype).reshape(shape).copy()

    def column(self, node) -> pd.Series:
        dtype, values = node["$col"]
        if isinstance(values, dict):
            return pd.Series(self.array(values["$a"]), dtype=dtype, copy=False)
        return pd.Series([self.dec(x) for x in values], dtype=dtype)

    def dec(self, v):
        if isinstance(v, list):
            return [self.dec(x) for x in v]
        if not isinstance(v, dict):
            return v
        (tag, body), = v.items()
        if tag == "$t":
            return tuple(self.dec(x) for x in body)
        if tag == "$d":
            return {self.dec(k): self.dec(x) for k, x in body}
        if tag == "$n":
            dtype = np.dtype(body[0])
            if dtype.kind not in "biuf":
                raise CodecError("bad scalar node")
            return dtype.type(self.dec(body[1]))
        if tag == "$a":
            return self.array(body)
        if tag == "$ao":
            out = np.empty(len(body[1]), dtype=object)
            out[:] = [self.dec(x) for x in body[1]]
            return out.reshape(body[0])
        if tag == "$df":
            columns, cols, index = body
            if not cols:
                return pd.DataFrame(index=self.dec(index), columns=pd.Index(self.dec(columns)))
            frame = pd.concat([self.column(c) for c in cols], axis=1)
            frame.columns = pd.Index(self.dec(columns))
            frame.index = self.dec(index)
            return frame
        if tag == "$s":
            out = self.column(body[0])
            out.index, out.name = self.dec(body[1]), self.dec(body[2])
            return out
        if tag == "$ri":
            return pd.RangeIndex(body[0], body[1], body[2], name=self.dec(body[3]))
        if tag == "$ix":
            return pd.Index(self.column(body[0]), name=self.dec(body[1]))
        if tag == "$ts":
            return pd.Timestamp(body)
        if tag == "$dt":
            return dt.datetime.fromisoformat(body)
        if tag == "$date":
            return dt.date.fromisoformat(body)
        if tag == "$dc":
            name, items = body
            if name not in ALLOWED:
                raise CodecError(f"{name} is not in core.codec.ALLOWED")
            module, _, qualname = name.rpartition(".")
            cls = getattr(importlib.import_module(module), qualname)
            return cls(**{k: self.dec(x) for k, x in items})
        raise CodecError(f"unknown node {tag!r}")
