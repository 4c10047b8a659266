"""Forking a job process while another thread is inside SQLite must not hang the job.

In the diskcache mode Dash forks one process per job from a gunicorn worker whose other threads keep
serving requests, and many of those requests read diskcache (the job board, Dash's job results), i.e.
SQLite. A fork copies SQLite's internal mutexes in whatever state they are: when another thread held one
at that instant, the child blocks forever in its first `sqlite3.connect` (seen under load: jobs that
started and never ended, holding their slot while their process was alive; STACK.md pitfall 2).

So every diskcache call in this process runs under one lock, and a fork waits for it (os.register_at_fork):
no thread is inside SQLite while a child is made. The cost is that diskcache calls of one process take
turns; each is a millisecond or so.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading

_LOCK = threading.RLock()
_INSTALLED = False
METHODS = ("get", "set", "add", "delete", "incr", "decr", "pop", "touch", "read", "push", "pull", "peek",
           "clear", "expire", "evict", "cull", "check", "volume", "stats", "close", "__getitem__", "__setitem__",
           "__delitem__", "__contains__", "__len__", "iterkeys")
"""diskcache.Cache methods that reach SQLite, each under the lock for its call."""


def _locked(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    call.__neon_forksafe__ = True
    return call


def _locked_transact(transact):
    # A transaction holds the lock for its whole body: released between its calls, another thread of this
    # process could take the lock and then wait on SQLite for this very transaction (a lock-order
    # deadlock that ends in diskcache.Timeout).
    @contextlib.contextmanager
    @functools.wraps(transact)
    def call(self, *args, **kwargs):
        with _LOCK, transact(self, *args, **kwargs) as value:
            yield value

    call.__neon_forksafe__ = True
    return call


def _reset_in_child() -> None:
    global _LOCK
    _LOCK = threading.RLock()  # the child's only thread owns nothing; the parent's lock stays the parent's


def install() -> None:
    """Wrap diskcache.Cache's SQLite-reaching methods in the lock and make os.fork wait for it (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    import diskcache

    for name in METHODS:
        method = getattr(diskcache.Cache, name, None)
        if method is not None and not getattr(method, "__neon_forksafe__", False):
            setattr(diskcache.Cache, name, _locked(method))
    if not getattr(diskcache.Cache.transact, "__neon_forksafe__", False):
        diskcache.Cache.transact = _locked_transact(diskcache.Cache.transact)
    os.register_at_fork(before=lambda: _LOCK.acquire(), after_in_parent=lambda: _LOCK.release(),
                        after_in_child=_reset_in_child)
    _INSTALLED = True
