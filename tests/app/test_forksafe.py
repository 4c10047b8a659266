"""A job process forked while another thread is inside diskcache (SQLite) must not inherit a held lock:
os.fork waits for the diskcache lock (app.jobs.forksafe), and the child can use diskcache at once."""

from __future__ import annotations

import os
import threading
import time

import diskcache

from app.jobs import forksafe


def test_a_fork_waits_for_diskcache_calls_and_the_child_can_use_it(tmp_path):
    forksafe.install()
    cache = diskcache.Cache(str(tmp_path / "c"))
    cache.set("k", "v")
    inside, release = threading.Event(), threading.Event()

    def busy():  # stands in for a request thread in the middle of a diskcache call
        with forksafe._LOCK:  # noqa: SLF001
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=busy)
    thread.start()
    inside.wait(5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: diskcache works, nothing is held
        os._exit(0 if cache.get("k") == "v" and forksafe._LOCK.acquire(timeout=2) else 1)  # noqa: SLF001
    waited = time.monotonic() - started
    _, status = os.waitpid(pid, 0)
    thread.join(5)
    assert waited >= 0.25  # the fork waited for the other thread's call to finish
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.transact.__neon_forksafe__ and cache.get.__neon_forksafe__
