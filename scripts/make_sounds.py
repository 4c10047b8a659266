"""Generate the replay page's trade alert sounds: assets/buy_alert.wav and assets/sell_alert.wav.

Deterministic (pure synthesis, no randomness), so the committed files can be checked against this script.
Buy: a short rising two-note chime; sell: a falling one. 16-bit mono PCM, 22,050 Hz, ~0.25 s.
`python scripts/make_sounds.py [OUT_DIR]`
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np

RATE = 22_050


def chime(freqs: tuple[float, float], note_s: float = 0.11, volume: float = 0.35) -> np.ndarray:
    """Two soft sine notes with a fast attack and an exponential decay (plus a quiet octave overtone)."""
    parts = []
    for freq in freqs:
        t = np.arange(int(RATE * note_s)) / RATE
        envelope = np.minimum(t / 0.005, 1.0) * np.exp(-t * 28.0)
        tone = np.sin(2 * np.pi * freq * t) + 0.25 * np.sin(4 * np.pi * freq * t)
        parts.append(envelope * tone)
    signal = np.concatenate(parts + [np.zeros(int(RATE * 0.03))])
    return volume * signal / np.max(np.abs(signal))


def write_wav(path: Path, signal: np.ndarray) -> None:
    pcm = np.round(signal * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


SOUNDS = {"buy_alert.wav": (880.0, 1318.5), "sell_alert.wav": (659.3, 392.0)}


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, freqs in SOUNDS.items():
        write_wav(out_dir / name, chime(freqs))
        print(f"wrote {out_dir / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "assets")
