"""Figure caches that every gunicorn worker shares (core.lru's shared store, plugged in by app/shared_cache.py).

A figure crosses processes as the JSON text the browser receives (plotly's encoder: typed arrays as base64),
never as a pickle, and comes back as the plain dict Dash would send anyway. Only figures of shared inputs
go there: callers pass `share=False` for an uploaded file or a user's trained run.
"""

from __future__ import annotations

import json

from core import service


def encode(figure) -> bytes:
    from plotly.io.json import to_json_plotly

    return to_json_plotly(figure).encode()


def decode(raw: bytes):
    return json.loads(raw)


def decode_tuple(raw: bytes) -> tuple:
    return tuple(json.loads(raw))


def figure_lru(maxsize: int, namespace: str, *, several: bool = False) -> service.LRU:
    """An in-process LRU of figure dicts (or tuples of them: `several`) backed by the shared store."""
    return service.LRU(maxsize, shared=namespace, encode=encode, decode=decode_tuple if several else decode)
