"""Registry: names only (ticker, personality, seed; no traversal), the seed layout, missing/corrupt files ->
typed errors with a hint, drift warnings."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core import PERSONALITIES
from core.env import OBS_DIM
from core.policy import NumpyPolicy
from core.registry import (
    BadModelName,
    ModelCorrupt,
    ModelMissing,
    available_tickers,
    card_warnings,
    library_versions,
    load_card,
    load_policy,
    load_sb3,
    missing_files,
    model_paths,
    models_root,
    save_agent,
    seeds,
    validate_seed,
    validate_ticker,
)


def random_policy(seed: int = 0, obs_dim: int = OBS_DIM, n_actions: int = 5) -> NumpyPolicy:
    rng = np.random.default_rng(seed)
    shapes = [(obs_dim, 16), (16, 16), (16, n_actions)]
    return NumpyPolicy([rng.normal(size=s) for s in shapes], [rng.normal(size=s[1]) for s in shapes])


def minimal_card(ticker: str, personality: str, sha: str = "a" * 64) -> dict:
    return {
        "card_version": 1,
        "ticker": ticker,
        "personality": personality,
        "data": {"sha256": sha},
        "split": {},
        "config": {},
        "scaler": {},
        "versions": library_versions(),
    }


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    for name in PERSONALITIES:
        save_agent("AAPL", name, card=minimal_card("AAPL", name), policy=random_policy(), root=tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "bad",
    ["../etc", "..", "/etc/passwd", "AAPL/../../x", "..%2F..%2Fetc", "%2e%2e", "a\\b", "", " ", "AA PL", "A" * 40,
     "C:", "~root", ".hidden"],
)
def test_traversal_and_odd_tickers_are_refused(root, bad):
    with pytest.raises(BadModelName):
        model_paths(bad, "aggressive", root)
    with pytest.raises(ValueError):
        load_policy(bad, "aggressive", root)


def test_personality_names_cannot_traverse(root):
    for bad in ("../aggressive", "aggressive.json", "/etc/passwd", ""):
        with pytest.raises(BadModelName, match="choose one of"):
            model_paths("AAPL", bad, root)


def test_valid_tickers_are_normalised_and_stay_under_the_root(root):
    assert validate_ticker(" btc-usd ") == "BTC-USD"
    for ok in ("AAPL", "BTC-USD", "^GSPC", "EURUSD=X", "BRK.B"):
        paths = model_paths(ok, "momentum", root)
        assert paths.card.parent.parent.parent == root.resolve()
        assert paths.card.parent.name == "momentum" and paths.card.name == "seed0.json"
        assert model_paths(ok, "momentum", root, seed=4).npz.name == "seed4.npz"


def test_models_root_honours_the_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("NEON_MODELS_DIR", str(tmp_path))
    assert models_root() == tmp_path.resolve()
    monkeypatch.delenv("NEON_MODELS_DIR")
    assert models_root().name == "models"


def test_round_trip_and_listing(root):
    policy, card = load_policy("aapl", "momentum", root)
    obs = np.random.default_rng(1).normal(size=(20, OBS_DIM))
    np.testing.assert_array_equal(policy.logits(obs), random_policy().logits(obs))
    assert card["personality"] == "momentum"
    assert available_tickers(root) == ["AAPL"]
    assert available_tickers(root / "nowhere") == []


def test_missing_model_says_how_to_train(root):
    with pytest.raises(ModelMissing, match="python -m core train --ticker TSLA"):
        load_card("TSLA", "aggressive", root)
    model_paths("AAPL", "aggressive", root).npz.unlink()
    with pytest.raises(ModelMissing, match="train"):
        load_policy("AAPL", "aggressive", root)
    with pytest.raises(ModelMissing, match="train"):
        load_sb3("AAPL", "aggressive", root)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'{"ticker": "AAPL"}'])
def test_corrupt_card_raises_model_corrupt(root, content):
    model_paths("AAPL", "aggressive", root).card.write_bytes(content)
    with pytest.raises(ModelCorrupt, match="train"):
        load_card("AAPL", "aggressive", root)


def test_card_of_another_model_is_corrupt(root):
    paths = model_paths("AAPL", "aggressive", root)
    paths.card.write_text(json.dumps(minimal_card("AAPL", "momentum")))
    with pytest.raises(ModelCorrupt, match="another model"):
        load_card("AAPL", "aggressive", root)


def test_corrupt_npz_raises_model_corrupt(root):
    paths = model_paths("AAPL", "aggressive", root)
    paths.npz.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ModelCorrupt):
        load_policy("AAPL", "aggressive", root)


def test_npz_with_pickled_objects_is_refused(root):
    paths = model_paths("AAPL", "aggressive", root)
    arrays = random_policy().to_arrays()
    arrays["w0"] = np.array([{"evil": 1}], dtype=object)
    with open(paths.npz, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(ModelCorrupt):
        load_policy("AAPL", "aggressive", root)


def test_npz_of_the_wrong_shape_is_corrupt(root):
    paths = model_paths("AAPL", "aggressive", root)
    random_policy(obs_dim=OBS_DIM + 3).save(paths.npz)
    with pytest.raises(ModelCorrupt, match="inputs"):
        load_policy("AAPL", "aggressive", root)


def test_corrupt_zip_raises_model_corrupt(root):
    paths = model_paths("AAPL", "aggressive", root)
    paths.zip.write_bytes(b"not a zip at all")
    with pytest.raises(ModelCorrupt, match="train"):
        load_sb3("AAPL", "aggressive", root)
    with zipfile.ZipFile(paths.zip, "w") as zf:
        zf.writestr("data", "{}")
    with pytest.raises(ModelCorrupt):
        load_sb3("AAPL", "aggressive", root)


def test_save_is_atomic_and_leaves_no_temp_files(root):
    assert sorted(p.name for p in (root / "AAPL").iterdir()) == sorted(PERSONALITIES)
    for name in PERSONALITIES:
        assert sorted(p.name for p in (root / "AAPL" / name).iterdir()) == ["seed0.json", "seed0.npz"]


@pytest.mark.parametrize("bad", [-1, 2**31, True, "0", "../0", 1.0, None, "seed0"])
def test_seeds_must_be_whole_numbers_in_range(root, bad):
    with pytest.raises(BadModelName, match="seed"):
        model_paths("AAPL", "momentum", root, seed=bad)
    with pytest.raises(BadModelName):
        load_policy("AAPL", "momentum", root, seed=bad)
    assert validate_seed(np.int64(3)) == 3 and validate_seed(2**31 - 1) == 2**31 - 1


def test_several_seeds_save_load_and_list(root):
    for seed in (3, 1):
        for name in PERSONALITIES:
            card = minimal_card("AAPL", name) | {"seed": seed}
            save_agent("AAPL", name, card=card, policy=random_policy(seed), root=root, seed=seed)
    assert seeds("AAPL", root) == [0, 1, 3]
    policy, card = load_policy("AAPL", "momentum", root, seed=3)
    obs = np.random.default_rng(2).normal(size=(10, OBS_DIM))
    np.testing.assert_array_equal(policy.logits(obs), random_policy(3).logits(obs))
    assert card["seed"] == 3
    model_paths("AAPL", "aggressive", root, seed=1).card.unlink()
    assert seeds("AAPL", root) == [0, 3]  # seed 1 lacks a card for aggressive: incomplete, not listed
    assert seeds("AAPL", root, ["momentum"]) == [0, 1, 3]
    assert seeds("TSLA", root) == [] and available_tickers(root) == ["AAPL"]
    with pytest.raises(ModelMissing, match="seed 7"):
        load_card("AAPL", "momentum", root, seed=7)
    # a card filed under another seed's name describes another model
    paths = model_paths("AAPL", "momentum", root, seed=3)
    paths.card.write_text(json.dumps(minimal_card("AAPL", "momentum") | {"seed": 1}))
    with pytest.raises(ModelCorrupt, match="another model"):
        load_card("AAPL", "momentum", root, seed=3)


def test_odd_files_in_a_personality_folder_are_not_seeds(root):
    folder = root / "AAPL" / "momentum"
    for name in ("seed-1.json", "seed01.json", "seedx.json", "seed1.json.tmp", ".seed2.json", "seed.json"):
        (folder / name).write_text("{}")
    (folder / "seed5.json").mkdir()
    assert seeds("AAPL", root, ["momentum"]) == [0]


def test_missing_files_reports_what_the_web_cannot_read(root):
    assert missing_files("AAPL", root) == []
    model_paths("AAPL", "momentum", root).npz.unlink()
    (problem,) = missing_files("AAPL", root)
    assert problem.startswith("momentum")
    assert len(missing_files("TSLA", root)) == len(PERSONALITIES)


def test_card_warnings_for_data_and_version_drift():
    card = minimal_card("AAPL", "aggressive", sha="b" * 64)
    assert card_warnings(card, "b" * 64) == []
    assert card_warnings(card) == []
    (warning,) = card_warnings(card, "c" * 64)
    assert "different data" in warning and "retrain" in warning
    card["versions"] = dict(card["versions"], torch="0.1.0")
    drift = card_warnings(card, "b" * 64)
    assert len(drift) == 1 and "torch 0.1.0" in drift[0]
