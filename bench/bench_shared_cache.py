"""What the shared cache saves: each cached thing computed cold, read from this process's LRU, and read from
the FileSystemCache (what another gunicorn worker gets: read the file + decode). Also the bytes stored.

`python -m bench.bench_shared_cache`. Figures only: medians of a few repeats on this machine.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

REPEATS = 5


def _median_ms(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    from app import create_app
    from app.settings import Settings
    from callbacks import arena as arena_cb
    from callbacks import market as market_cb
    from core import lru, service
    from core.arena import clear_cache

    folder = Path(tempfile.mkdtemp(prefix="neon-shared-bench-"))
    create_app(Settings(live_data=False, job_cache_dir=folder, redis_url=""))  # plugs the FileSystemCache in
    store = lru.shared_store()
    spec = service.BattleSpec(ticker="AAPL")
    full = service.load_market("AAPL", live=False)

    def battle():
        return service.run_arena(spec).result

    def stress():
        return service.arena_cost_stress(spec)

    def market():
        return market_cb.figure_for(full)

    def arena_figs():
        return arena_cb.battle_figures(battle())

    cases = [("battle (AAPL, out-of-sample)", battle, [clear_cache]),
             ("cost stress", stress, [service._STRESS.clear]),
             ("market figure (full history)", market, [market_cb._FIGURES.clear]),
             ("arena figures (candles + equity)", arena_figs, [arena_cb._FIGURES.clear])]
    print("| cached thing | cold compute ms | in-process hit ms | shared-file hit ms | stored bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, fn, forget in cases:
        lru.set_shared_store(None)
        for f in forget:
            f()
        battle()  # inputs (battle, data) warm, so each row times its own thing only
        for f in forget:
            f()
        cold = _median_ms(lambda fn=fn, forget=forget: ([f() for f in forget], fn()), repeats=3)
        local = _median_ms(fn)
        lru.set_shared_store(store, prefix=lru._STORE["prefix"])
        for f in forget:
            f()
        fn()  # computed once more: now written to the files
        shared = _median_ms(lambda fn=fn, forget=forget: ([f() for f in forget], fn()))
        size = sum(p.stat().st_size for p in (folder / "shared-cache").iterdir())
        print(f"| {name} | {cold:.1f} | {local:.3f} | {shared:.1f} | {size / 1e3:,.0f} KB (folder total) |")


if __name__ == "__main__":
    main()
