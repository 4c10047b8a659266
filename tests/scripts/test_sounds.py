"""The committed alert sounds are exactly what the project's script generates, and are valid WAV files."""

from __future__ import annotations

import runpy
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_alert_sounds_match_the_generator(tmp_path):
    module = runpy.run_path(str(ROOT / "scripts" / "make_sounds.py"))
    module["main"](tmp_path)
    for name in ("buy_alert.wav", "sell_alert.wav"):
        assert (tmp_path / name).read_bytes() == (ROOT / "assets" / name).read_bytes()
        with wave.open(str(ROOT / "assets" / name)) as wav:
            assert wav.getnchannels() == 1 and wav.getsampwidth() == 2 and wav.getframerate() == 22_050
            assert 0.1 < wav.getnframes() / wav.getframerate() < 0.5
