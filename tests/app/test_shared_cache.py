"""The shared cache (app/shared_cache.py + core.lru): what one process computes, another reads; nothing of a
user's run gets there; a broken entry is recomputed; values are our own bytes (no pickle) in the files and
in Redis."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from app import shared_cache
from app.settings import Settings
from core import codec, lru, service

ROOT = Path(__file__).resolve().parents[2]
SPEC = service.BattleSpec(ticker="AAPL")

# One "worker": plug the shared cache into a bare Flask app (what create_app does), run the arena's battle.
# With FORBID set, computing a battle raises: the result can only come from the shared store.
WORKER = """
import json, os, sys
from flask import Flask
from app import shared_cache
from app.settings import Settings
from core import service
import core.arena.battle as battle
if os.environ.get("FORBID"):
    def _no(*a, **k):
        raise AssertionError("computed again")
    battle._battle = _no
shared_cache.install(Flask("w"), Settings(live_data=False, job_cache_dir=sys.argv[1]))
print(json.dumps(service.run_arena(service.BattleSpec(ticker="AAPL")).result.to_json_dict()))
"""


class Recorder:
    """A SharedStore that keeps everything in a dict and remembers every key written."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value, timeout):
        self.data[key] = value


def _worker(folder: Path, forbid: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FORBID": "1" if forbid else ""}
    out = subprocess.run([sys.executable, "-c", WORKER, str(folder)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_battle_computed_by_one_process_is_read_by_another(tmp_path):
    first = _worker(tmp_path, forbid=False)
    second = _worker(tmp_path, forbid=True)  # would raise if it had to compute the battle
    assert second == first
    folder = tmp_path / "shared-cache"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    entries = [raw for raw in (p.read_bytes() for p in folder.iterdir()) if raw[4:5] != b"I"]  # not the count
    # each file: a 4-byte expiry, our tag, then core.codec's bytes (no pickle in the folder)
    assert entries and all(raw[4:5] == b"B" and raw[5:].startswith(codec.MAGIC) for raw in entries)


def test_battles_and_stress_of_a_users_run_never_reach_the_shared_store(monkeypatch):
    from dataclasses import replace

    from callbacks import arena as arena_cb
    from callbacks import replay as replay_cb
    from core.arena import clear_cache

    def run_inputs(spec, runs_dir, session):  # stands in for a trained run's data and agents (core.runs)
        frame, provenance = service.battle_data("AAPL")
        agents, _message = service.load_agents_for("AAPL", provenance.sha256)
        return spec, frame, provenance, agents, ""

    monkeypatch.setattr(service, "_run_battle_inputs", run_inputs)
    store = Recorder()
    lru.set_shared_store(store, prefix="t")
    clear_cache()
    service._STRESS.clear()
    arena_cb._FIGURES.clear()
    replay_cb._PAYLOADS.clear()
    run_spec = replace(SPEC, agents="0123456789abcdef")
    view = service.run_arena(run_spec, runs_dir="/nowhere", session="s1")
    assert view.result.private
    service.arena_cost_stress(run_spec, runs_dir="/nowhere", session="s1")
    arena_cb.battle_figures(view.result)
    replay_cb.replay_payload(view.result)
    assert store.data == {}
    # the same battle from the registry (no run) is shared: the recorder sees battle, stress and figures
    # (the stand-in run has the registry's agents, so its entries in this process have the same keys)
    clear_cache()
    service._STRESS.clear()
    arena_cb._FIGURES.clear()
    shared = service.run_arena(SPEC).result
    service.arena_cost_stress(SPEC)
    arena_cb.battle_figures(shared)
    assert not shared.private
    assert {key.split(":")[2] for key in store.data} == {"battle", "stress", "arena-figures"}


def test_an_uploaded_files_figure_stays_in_the_process():
    from callbacks import market as market_cb

    store = Recorder()
    lru.set_shared_store(store, prefix="t")
    lines = (ROOT / "data" / "AAPL.csv").read_bytes().splitlines(keepends=True)
    data = service.load_market_csv(b"".join(lines[:-5]), "mine.csv")  # a user's own file
    market_cb._FIGURES.clear()
    market_cb.figure_for(data)
    assert store.data == {}
    market_cb.figure_for(service.load_market("AAPL", live=False))
    assert [key.split(":")[2] for key in store.data] == ["market-figure"]


@pytest.mark.parametrize("garbage", [b"", b"junk", codec.MAGIC + b"\xff\xff\xff\xff{", b"\x80\x04pickle?"])
def test_a_corrupt_shared_entry_is_recomputed_not_an_error(garbage):
    from core.arena import clear_cache

    store = Recorder()
    lru.set_shared_store(store, prefix="t")
    clear_cache()
    good = service.run_arena(SPEC).result
    (key,) = [k for k in store.data if ":battle:" in k]
    store.data[key] = garbage
    clear_cache()
    again = service.run_arena(SPEC).result
    assert again is not good and again.to_json_dict() == good.to_json_dict()
    assert codec.loads(store.data[key]).cache_key == good.cache_key  # the bad entry was overwritten


def test_a_damaged_cache_file_is_a_miss(tmp_path):
    store = shared_cache.FlaskCacheStore(shared_cache.install(Flask("t"), Settings(job_cache_dir=tmp_path)))
    store.set("k", b"value", 60)
    assert store.get("k") == b"value"
    for path in (tmp_path / "shared-cache").iterdir():
        if path.read_bytes()[4:5] == b"B":
            path.write_bytes(b"\x00\x00")  # truncated: no expiry, no tag
    assert store.get("k") is None


def test_codec_refuses_classes_outside_its_list():
    import dataclasses

    @dataclasses.dataclass
    class Evil:
        x: int = 1

    with pytest.raises(codec.CodecError):
        codec.dumps(Evil())
    import struct

    tree = json.dumps({"$dc": ["os.system", [["command", "true"]]]}).encode()
    with pytest.raises(codec.CodecError, match="ALLOWED"):
        codec.loads(codec.MAGIC + struct.pack("<I", len(tree)) + tree)


def test_redis_backend_when_redis_server_exists(request, tmp_path, monkeypatch):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis-deps)")
    import redis

    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/3"
    client = redis.Redis.from_url(url)
    client.flushdb()
    from core.arena import clear_cache

    shared_cache.install(Flask("r"), Settings(job_cache_dir=tmp_path, redis_url=url))
    clear_cache()
    first = service.run_arena(SPEC).result
    keys = [k for k in client.keys("neon-cache:*") if b":battle:" in k]
    assert len(keys) == 1 and client.get(keys[0]).startswith(codec.MAGIC)  # our bytes, not a pickle
    assert not (tmp_path / "shared-cache").exists()  # Redis, not the files
    import core.arena.battle as battle

    monkeypatch.setattr(battle, "_battle", lambda *a, **k: (_ for _ in ()).throw(AssertionError("computed")))
    clear_cache()
    assert service.run_arena(SPEC).result.to_json_dict() == first.to_json_dict()
    client.flushdb()
