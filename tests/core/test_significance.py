"""core.significance: stationary-bootstrap structure, the Sharpe-difference test on constructed cases,
PSR/DSR against the paper's worked example and the formula written out with scipy, trivial-policy flags
and seed summaries, plus the canonical edge cases (flat returns, NaN dropped, bad input)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from core import significance as sig
from core.metrics import sharpe_ratio


def _runs(idx: np.ndarray, n: int) -> np.ndarray:
    """Per row, the number of blocks: 1 + the days that do not continue the previous day (mod n)."""
    breaks = idx[:, 1:] != (idx[:, :-1] + 1) % n
    return 1 + breaks.sum(axis=1)


# ------------------------------------------------------------------------------------------- bootstrap


def test_stationary_bootstrap_mean_block_length_is_the_stated_one():
    n, length = 2000, 8.0
    idx = sig.stationary_bootstrap_indices(n, 300, length, seed=1)
    assert idx.shape == (300, n) and idx.dtype.kind == "i"
    assert idx.min() >= 0 and idx.max() < n
    blocks = _runs(idx, n).sum()
    # a new block starts after each day with probability 1/8: about 1 + (n - 1) / 8 blocks a row
    assert blocks / idx.shape[0] == pytest.approx(1 + (n - 1) / length, rel=0.02)
    assert idx.size / blocks == pytest.approx(length, rel=0.02)  # observed mean block length
    # i.i.d. limit: block length 1 starts a new block every day (up to chance continuations, 1 in n)
    iid = sig.stationary_bootstrap_indices(n, 20, 1.0, seed=1)
    assert _runs(iid, n).mean() == pytest.approx(n, rel=0.01)


def test_default_block_length_is_the_cube_root_of_n():
    assert sig.default_block_length(729) == pytest.approx(9.0)
    assert sig.default_block_length(1) == 1.0
    idx = sig.stationary_bootstrap_indices(1000, 400, seed=2)  # None -> 1000 ** (1/3) = 10
    assert idx.size / _runs(idx, 1000).sum() == pytest.approx(10.0, rel=0.03)


def test_stationary_bootstrap_wraps_around_and_draws_days_evenly():
    n = 10
    idx = sig.stationary_bootstrap_indices(n, 500, 50.0, seed=3)  # long blocks run past the end
    prev, cur = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    assert np.any((prev == n - 1) & (cur == 0))  # day n-1 is followed by day 0 inside a block
    counts = np.bincount(idx.ravel(), minlength=n) / idx.size
    np.testing.assert_allclose(counts, 1.0 / n, atol=0.01)  # every day equally likely (stationarity)


def test_stationary_bootstrap_is_reproducible_and_chunk_independent():
    a = sig.stationary_bootstrap_indices(300, 600, 5.0, seed=7)
    np.testing.assert_array_equal(a, sig.stationary_bootstrap_indices(300, 600, 5.0, seed=7))
    assert not np.array_equal(a, sig.stationary_bootstrap_indices(300, 600, 5.0, seed=8))
    # more replicates extend the same sequence of chunks: the first rows do not change
    np.testing.assert_array_equal(
        a[: sig.BOOTSTRAP_CHUNK], sig.stationary_bootstrap_indices(300, sig.BOOTSTRAP_CHUNK, 5.0, seed=7)
    )
    with pytest.raises(ValueError, match="at least 1"):
        sig.stationary_bootstrap_indices(300, 10, 0.5)


# --------------------------------------------------------------------------------- Sharpe-difference test


@pytest.fixture(scope="module")
def market() -> np.ndarray:
    return np.random.default_rng(11).normal(3e-4, 0.012, 750)


def test_p_value_is_the_documented_formula_over_the_bootstrap_indices(market):
    agent = 0.5 * market + np.random.default_rng(12).normal(2e-4, 0.004, market.size)
    res = sig.sharpe_difference_test(agent, market, 252, n_replicates=300, block_length=6.0, seed=5)
    idx = sig.stationary_bootstrap_indices(market.size, 300, 6.0, seed=5)
    boot = np.array([sharpe_ratio(agent[i]) - sharpe_ratio(market[i]) for i in idx])
    d = sharpe_ratio(agent) - sharpe_ratio(market)
    above = np.sum(boot - d > d + sig.TIE_TOLERANCE)
    assert res["difference"] == pytest.approx(d, abs=1e-12)
    assert res["p_value"] == pytest.approx((above + 0.5) / 301, abs=1e-12)  # no ties on noisy data
    assert (res["ci_low"], res["ci_high"]) == pytest.approx(tuple(np.percentile(boot, [2.5, 97.5])), abs=1e-9)
    assert res["block_length"] == 6.0 and res["n_returns"] == 750 and res["dropped"] == 0
    assert res["undefined_replicates"] == 0 and res["note"] == ""


def test_clearly_better_strategy_has_a_small_p_and_the_worse_one_a_large_p(market):
    # same noise, half the exposure plus a steady 8 bps a day: a far higher Sharpe ratio
    better = 0.6 * market + 8e-4
    res = sig.sharpe_difference_test(better, market, 252, seed=0)
    assert res["difference"] > 1.0
    assert res["p_value"] < 0.01
    assert res["ci_low"] > 0
    worse = sig.sharpe_difference_test(market, better, 252, seed=0)
    assert worse["p_value"] > 0.99
    # the mid-p rule is symmetric: swapping the two series gives 1 - p on the same resamples
    assert res["p_value"] + worse["p_value"] == pytest.approx(1.0, abs=1e-12)


def test_identical_series_give_p_one_half_exactly(market):
    res = sig.sharpe_difference_test(market, market.copy(), 252, n_replicates=500, seed=1)
    assert res["difference"] == 0.0
    assert res["p_value"] == 0.5  # every replicate ties with the estimate
    assert res["ci_low"] == res["ci_high"] == 0.0


def test_test_is_seeded_and_reproducible(market):
    noisy = market + np.random.default_rng(4).normal(1e-4, 0.01, market.size)
    first = sig.sharpe_difference_test(noisy, market, 365, n_replicates=400, seed=9)
    assert first == sig.sharpe_difference_test(noisy, market, 365, n_replicates=400, seed=9)
    other = sig.sharpe_difference_test(noisy, market, 365, n_replicates=400, seed=10)
    assert other["p_value"] != first["p_value"]
    assert other["p_value"] == pytest.approx(first["p_value"], abs=0.08)  # same test, other resamples


def test_p_values_are_roughly_uniform_under_the_null():
    rng = np.random.default_rng(21)
    p = [
        sig.sharpe_difference_test(
            rng.normal(5e-4, 0.01, 300), rng.normal(5e-4, 0.01, 300), n_replicates=200, seed=i
        )["p_value"]
        for i in range(40)
    ]
    assert 0.35 < np.mean(p) < 0.65
    assert np.mean(np.array(p) < 0.05) <= 0.15


def test_flat_returns_follow_the_zero_std_convention(market):
    cash = np.zeros(market.size)
    res = sig.sharpe_difference_test(cash, market, 252, n_replicates=200)
    assert res["sharpe_agent"] == 0.0  # no risk, no reward: Sharpe 0, so cash is testable
    assert res["p_value"] > 0.5 and res["undefined_replicates"] == 0
    both_flat = sig.sharpe_difference_test(cash, cash, 252, n_replicates=200)
    assert both_flat["difference"] == 0.0 and both_flat["p_value"] == 0.5
    constant = sig.sharpe_difference_test(np.full(market.size, 1e-3), market, n_replicates=200)
    assert math.isnan(constant["difference"]) and math.isnan(constant["p_value"])
    assert "undefined" in constant["note"]


def test_nan_days_are_dropped_pairwise_and_counted(market):
    agent = 0.6 * market + 5e-4
    dirty_agent, dirty_market = agent.copy(), market.copy()
    dirty_agent[[3, 50, 400]] = np.nan
    dirty_market[[10, 600]] = [np.inf, np.nan]
    res = sig.sharpe_difference_test(dirty_agent, dirty_market, n_replicates=200, seed=2)
    keep = np.ones(market.size, bool)
    keep[[3, 50, 400, 10, 600]] = False
    clean = sig.sharpe_difference_test(agent[keep], market[keep], n_replicates=200, seed=2)
    assert res["dropped"] == 5 and res["n_returns"] == market.size - 5
    assert res["p_value"] == clean["p_value"] and res["difference"] == clean["difference"]


def test_bad_input_is_rejected_with_a_hint(market):
    with pytest.raises(ValueError, match="same window"):
        sig.sharpe_difference_test(market, market[:-1])
    with pytest.raises(ValueError, match="at least 20"):
        sig.sharpe_difference_test(market[:19], market[:19])
    short = market[:30].copy()
    short[:12] = np.nan  # 30 days, 18 usable after dropping NaN
    with pytest.raises(ValueError, match="18 finite returns; at least 20"):
        sig.sharpe_difference_test(short, market[:30])
    with pytest.raises(ValueError, match="at least 100"):
        sig.sharpe_difference_test(market, market, n_replicates=50)
    with pytest.raises(ValueError, match="block_length"):
        sig.sharpe_difference_test(market, market, block_length=0)
    with pytest.raises(ValueError, match="periods_per_year"):
        sig.sharpe_difference_test(market, market, 0)


# ------------------------------------------------------------------------------ PSR and deflated Sharpe


def _dsr_by_hand(
    sr: float, n_trials: int, variance: float, t: int, skew: float, kurt: float
) -> tuple[float, float]:
    """The paper's formulas written out with scipy: (E[max SR], DSR), everything per period."""
    gamma = np.euler_gamma
    sr0 = math.sqrt(variance) * (
        (1 - gamma) * stats.norm.ppf(1 - 1 / n_trials) + gamma * stats.norm.ppf(1 - 1 / (n_trials * math.e))
    )
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    return sr0, float(stats.norm.cdf(z))


def test_deflated_sharpe_reproduces_the_papers_numerical_example():
    # Bailey & Lopez de Prado (2014): N = 100 trials, V[SR] = 1/2 annualised, 250 days a year,
    # T = 1250 days, skew -3, raw kurtosis 10, best SR 2.5 annualised -> E[max SR] 0.1132 a day
    # (1.7894 annualised) and DSR 0.9004.
    variance, sr = 0.5 / 250, 2.5 / math.sqrt(250)
    sr0 = sig.expected_max_sharpe(100, variance)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert sr0 * math.sqrt(250) == pytest.approx(1.7894, abs=5e-5)
    dsr = sig.deflated_sharpe_ratio(sr, 100, variance, 1250, skew=-3.0, kurtosis=10.0)
    assert dsr == pytest.approx(0.9004, abs=5e-5)
    by_hand = _dsr_by_hand(sr, 100, variance, 1250, -3.0, 10.0)
    assert (sr0, dsr) == pytest.approx(by_hand, rel=1e-9)
    # more tries raise the bar: the same Sharpe ratio after 1000 tries is less convincing
    assert sig.deflated_sharpe_ratio(sr, 1000, variance, 1250, -3.0, 10.0) < dsr


def test_psr_with_normal_moments_reduces_to_the_normal_formula():
    for sr, sr_star, t in [(0.1, 0.0, 252), (0.05, 0.02, 1000), (-0.03, 0.0, 60), (0.2, 0.25, 500)]:
        expected = stats.norm.cdf((sr - sr_star) * math.sqrt(t - 1) / math.sqrt(1 + sr**2 / 2))
        assert sig.probabilistic_sharpe_ratio(sr, sr_star, t) == pytest.approx(expected, rel=1e-12)
        assert sig.probabilistic_sharpe_ratio(sr, sr_star, t, 0.0, 3.0) == sig.probabilistic_sharpe_ratio(
            sr, sr_star, t
        )
    assert sig.probabilistic_sharpe_ratio(0.1, 0.1, 100) == 0.5
    # negative skew and fat tails widen the Sharpe ratio's error: a positive edge is less certain
    assert sig.probabilistic_sharpe_ratio(0.1, 0.0, 252, -2.0, 9.0) < sig.probabilistic_sharpe_ratio(
        0.1, 0.0, 252
    )


def test_psr_and_expected_max_reject_bad_input():
    with pytest.raises(ValueError, match="RAW"):
        sig.probabilistic_sharpe_ratio(0.5, 0.0, 252, skew=3.0, kurtosis=0.0)  # excess kurtosis, big SR
    with pytest.raises(ValueError, match="at least 2"):
        sig.probabilistic_sharpe_ratio(0.1, 0.0, 1)
    with pytest.raises(ValueError, match="finite"):
        sig.probabilistic_sharpe_ratio(math.nan, 0.0, 100)
    assert sig.expected_max_sharpe(1, 0.3) == 0.0  # one trial: nothing was selected
    with pytest.raises(ValueError, match="n_trials"):
        sig.expected_max_sharpe(0, 0.3)
    with pytest.raises(ValueError, match="sharpe_variance"):
        sig.expected_max_sharpe(10, -1.0)


def _trials(rng, market, edges: dict[str, float]) -> dict[str, np.ndarray]:
    return {label: 0.8 * market + rng.normal(edge, 0.004, market.size) for label, edge in edges.items()}


def test_deflated_sharpe_of_best_matches_the_formula_on_the_excess_returns(market):
    rng = np.random.default_rng(31)
    labels = [
        f"{p}, seed {s}"
        for p in ("Conservative", "Aggressive", "Momentum", "Mean-Reversion")
        for s in range(5)
    ]
    trials = _trials(rng, market, {label: 0.0 for label in labels})
    res = sig.deflated_sharpe_of_best(trials, market, 252)
    excess = {label: r - market for label, r in trials.items()}
    srs = {label: x.mean() / x.std(ddof=1) for label, x in excess.items()}
    best = max(srs, key=srs.get)
    x = excess[best]
    sr0, dsr = _dsr_by_hand(
        srs[best],
        20,
        np.var(list(srs.values()), ddof=1),
        x.size,
        stats.skew(x),
        stats.kurtosis(x, fisher=False),
    )
    assert res["best"] == best and res["n_trials"] == 20 and res["versus"] == "buy-and-hold"
    assert res["sharpe"] == pytest.approx(srs[best], rel=1e-12)
    assert res["sharpe_annualised"] == pytest.approx(srs[best] * math.sqrt(252), rel=1e-12)
    assert res["expected_max_sharpe"] == pytest.approx(sr0, rel=1e-9)
    assert res["dsr"] == pytest.approx(dsr, rel=1e-9) and res["p_value"] == pytest.approx(1 - dsr)
    assert res["kurtosis"] == pytest.approx(stats.kurtosis(x, fisher=False), rel=1e-9)
    assert res["p_value"] > 0.05  # twenty skill-less tries
    p_text = f"{res['p_value']:.2f}"
    assert sig.deflated_sentence(res) == (
        f"After 20 tries, no agent's edge over buy-and-hold is distinguishable from luck (best p = {p_text})."
    )


def test_a_real_edge_survives_deflation_and_gets_the_positive_sentence(market):
    rng = np.random.default_rng(32)
    edges = {f"Momentum, seed {s}": 0.0 for s in range(9)} | {"Momentum, seed 9": 2e-3}
    res = sig.deflated_sharpe_of_best(_trials(rng, market, edges), market)
    assert res["best"] == "Momentum, seed 9"
    assert res["p_value"] < 0.01
    assert sig.deflated_sentence(res) == (
        "After 10 tries, the best agent (Momentum, seed 9) has an edge over buy-and-hold that is unlikely "
        "to be luck (p < 0.01)."
    )


def test_deflated_sharpe_of_best_edge_cases(market):
    # without a benchmark the edge is over cash; an agent equal to buy-and-hold has a zero edge (flat
    # excess returns: Sharpe 0 by the ZERO_STD rule, skew 0 and kurtosis 3 stand in)
    res = sig.deflated_sharpe_of_best({"a": market, "b": -market}, None)
    assert res["versus"] == "cash" and res["best"] == ("a" if market.mean() > 0 else "b")
    worse = market + np.random.default_rng(33).normal(-1e-3, 0.004, market.size)
    tie = sig.deflated_sharpe_of_best({"copy": market.copy(), "worse": worse}, market)
    assert tie["best"] == "copy" and tie["sharpe"] == 0.0 and (tie["skew"], tie["kurtosis"]) == (0.0, 3.0)
    assert tie["dsr"] < 0.5
    dirty = market.copy()
    dirty[:4] = np.nan
    counted = sig.deflated_sharpe_of_best({"a": dirty, "b": worse}, market)
    assert counted["dropped"] == 4
    with pytest.raises(ValueError, match="at least 2 trials"):
        sig.deflated_sharpe_of_best({"a": market}, market)
    with pytest.raises(ValueError, match="same window"):
        sig.deflated_sharpe_of_best({"a": market, "b": market[:-1]}, market)
    with pytest.raises(ValueError, match="undefined"):
        sig.deflated_sharpe_of_best({"a": market + 1e-3, "b": market}, market)


# ---------------------------------------------------------------------------------------- trivial policy


@pytest.fixture(scope="module")
def bars(market) -> tuple[np.ndarray, np.ndarray]:
    """(regime positions per bar, buy-and-hold's returns): 20-bar in/out regimes."""
    pos = np.repeat(np.tile([1.0, 0.0], market.size // 40 + 1), 20)[: market.size + 1]
    return pos, market


def test_always_long_is_flagged_with_the_cap_taken_into_account(bars):
    _, market = bars
    long_ = np.r_[np.full(740, 0.99), np.full(11, 0.5)]  # near the cap on 98.5% of bars
    res = sig.trivial_policy(long_, market * 0.99, market, cap=1.0, name="Aggressive")
    assert res["trivial"] and res["kind"] == "always-long" and res["long_share"] == pytest.approx(740 / 751)
    assert res["sentence"] == (
        "Aggressive behaves like buy-and-hold on this window (near its full position on 98% of the bars)."
    )
    half = sig.trivial_policy(np.full(751, 0.49), market * 0.49, market, cap=0.5, name="Conservative")
    assert half["kind"] == "always-long"  # 0.49 >= 0.95 x its 0.5 cap
    assert not sig.trivial_policy(np.full(751, 0.49), market * 0.49, market, cap=1.0)["long_share"]


def test_always_flat_is_flagged(bars):
    _, market = bars
    res = sig.trivial_policy(np.zeros(751), np.zeros(750), market, name="Conservative")
    assert res["kind"] == "always-flat" and res["flat_share"] == 1.0
    assert math.isnan(res["correlation"])  # cash does not vary: no correlation, stated as NaN
    assert (
        res["sentence"] == "Conservative behaves like holding cash on this window (flat on 100% of the bars)."
    )


def test_a_switching_strategy_is_not_trivial(bars):
    pos, market = bars
    returns = pos[:-1] * market  # in the market every other 20 bars
    res = sig.trivial_policy(pos, returns, market, name="Momentum")
    assert not res["trivial"] and res["kind"] is None and res["sentence"] is None
    assert res["long_share"] == pytest.approx(0.5, abs=0.03) and res["flat_share"] == pytest.approx(
        0.5, abs=0.03
    )
    assert 0.5 < res["correlation"] < 0.9


def test_a_buy_and_hold_correlated_strategy_is_flagged(bars):
    _, market = bars
    rng = np.random.default_rng(41)
    exposure = rng.uniform(0.6, 0.9, 751)  # never near the cap, never flat
    returns = 0.75 * market + rng.normal(0, 0.001, market.size)
    res = sig.trivial_policy(exposure, returns, market, name="Mean-Reversion")
    assert res["kind"] == "buy-and-hold-like" and res["correlation"] > 0.98
    c = math.floor(res["correlation"] * 1000) / 1000
    assert res["sentence"] == (
        f"Mean-Reversion behaves like buy-and-hold on this window (its daily returns correlate {c:.3f} "
        "with buy-and-hold's)."
    )


def test_trivial_policy_input_checks(bars):
    pos, market = bars
    with_nan = pos.copy()
    with_nan[:3] = np.nan
    assert sig.trivial_policy(with_nan, pos[:-1] * market, market)["dropped"] == 3
    with pytest.raises(ValueError, match="same window"):
        sig.trivial_policy(pos, market[:-1], market)
    with pytest.raises(ValueError, match="cap"):
        sig.trivial_policy(pos, market, market, cap=0)
    with pytest.raises(ValueError, match="no finite"):
        sig.trivial_policy([np.nan], market, market)
    with pytest.raises(ValueError, match="at least 20"):
        sig.trivial_policy(pos, market[:5], market[:5])


# ------------------------------------------------------------------------------------------ seed summary

BH = {"total_return": 0.20, "sharpe": 1.0}


def test_seed_summary_with_an_odd_count():
    seeds = {
        0: {"total_return": 0.10, "sharpe": 0.5},
        1: {"total_return": 0.30, "sharpe": 1.4},
        2: {"total_return": -0.05, "sharpe": -0.2},
        3: {"total_return": 0.25, "sharpe": 1.1},
        4: {"total_return": 0.15, "sharpe": 0.9},
    }
    s = sig.seed_summary(seeds, BH)
    assert s["stats"]["total_return"] == {"median": 0.15, "min": -0.05, "max": 0.30, "n": 5}
    assert s["stats"]["sharpe"] == {"median": 0.9, "min": -0.2, "max": 1.4, "n": 5}
    assert s["median_seed"] == 4
    assert s["beats"] == 2 and s["beats_seeds"] == [1, 3]
    assert s["label"] == "beats buy-and-hold in 2 of 5 seeds"


def test_seed_summary_with_an_even_count_takes_the_lower_middle_seed():
    seeds = {
        "a": {"total_return": 0.40, "sharpe": 2.0},
        "b": {"total_return": 0.10, "sharpe": 0.4},
        "c": {"total_return": 0.30, "sharpe": 1.5},
        "d": {"total_return": 0.05, "sharpe": 0.1},
    }
    s = sig.seed_summary(seeds, BH)
    assert s["stats"]["total_return"]["median"] == pytest.approx(0.20)  # mean of the two middle values
    assert s["median_seed"] == "b"  # the lower of the two middle seeds (0.10, not 0.30)
    assert s["label"] == "beats buy-and-hold in 2 of 4 seeds"
    # a tie at the benchmark is not a beat; ties in the ranking keep the input order
    same = sig.seed_summary(
        {7: {"total_return": 0.2, "sharpe": 1.0}, 8: {"total_return": 0.2, "sharpe": 1.0}}, BH
    )
    assert same["beats"] == 0 and same["median_seed"] == 7


def test_seed_summary_nan_handling_and_bad_input():
    seeds = {
        0: {"total_return": 0.25, "sharpe": math.nan},
        1: {"total_return": math.nan, "sharpe": 0.3},
        2: {"total_return": 0.05, "sharpe": 0.2},
    }
    s = sig.seed_summary(seeds, BH)
    assert s["stats"]["total_return"]["n"] == 2 and s["stats"]["sharpe"]["n"] == 2
    assert s["median_seed"] == 2  # lower middle of the two finite seeds
    assert s["beats"] == 1 and s["label"] == "beats buy-and-hold in 1 of 3 seeds"
    none = sig.seed_summary({0: {"total_return": math.nan, "sharpe": math.nan}}, BH)
    assert none["median_seed"] is None and none["stats"]["sharpe"]["n"] == 0
    assert sig.seed_summary(seeds, BH, metrics=("total_return",))["stats"].keys() == {"total_return"}
    with pytest.raises(ValueError, match="no seeds"):
        sig.seed_summary({}, BH)
    with pytest.raises(ValueError, match="'sharpe'"):
        sig.seed_summary({0: {"total_return": 0.1}}, BH)
    with pytest.raises(ValueError, match="finite 'total_return'"):
        sig.seed_summary(seeds, {"total_return": math.nan})
