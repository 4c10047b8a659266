"""Seed-robustness statistics (issue #11): is an agent's edge over buy-and-hold more than luck?

Pure functions over arrays (or pandas Series, read by position: pass the same window's bars, in order).
Returns are simple per-bar returns, as in core.metrics; Sharpe ratios follow core.metrics' conventions
(risk-free rate 0, sample std with ddof=1, std below core.metrics.ZERO_STD: 0.0 when the mean is 0 too,
e.g. a flat agent holding cash, else undefined (NaN)).

- NaN and infinite returns are dropped before any statistic. Paired inputs (an agent and buy-and-hold on
  the same window) must have the same length; a day is dropped when either series is not finite on it, so
  the pair stays aligned. Every result reports how many values were dropped ("dropped"). Functions that
  need a sample ask for at least MIN_RETURNS finite returns and raise ValueError otherwise.

- Stationary bootstrap (Politis & Romano 1994): a resample is built from blocks of consecutive days;
  the first block starts at a uniformly drawn day, and after each day a new block starts with
  probability p = 1 / block_length (so block lengths are geometric with mean `block_length`), else the
  next day follows; day n-1 is followed by day 0 (the series wraps around, so every day is equally
  likely to be drawn). Default mean block length: n ** (1/3) days (n = returns used; about 9 days for a
  3-year daily window), the growth rate of the optimal block length for bias and variance estimation
  (Hall, Horowitz & Jing 1995; Politis & White 2004 use the same rate with a data-driven constant, which
  is NOT estimated here: the default is a fixed rule of thumb). Pass `block_length` to override it
  (1.0 = the i.i.d. bootstrap).
  Indices come from `numpy.random.default_rng(seed)` in chunks of BOOTSTRAP_CHUNK replicates, so the
  same (n, replicates, block length, seed) always gives the same resamples.

- Sharpe-difference test (`sharpe_difference_test`): the paired stationary bootstrap of
  D = SR(agent) - SR(buy-and-hold), annualised, both Sharpe ratios computed on the SAME resampled days.
  One-sided, H0: D <= 0. The replicates D*_b are centred on the estimate D (the null is imposed by
  shifting the bootstrap distribution, Hall & Wilson 1991), so the p-value is the share of replicates
  with D*_b - D >= D, i.e. D*_b >= 2D, with the mid-p convention of Davison & Hinkley's (1 + #) / (B + 1):
  p = (#{D*_b > 2D} + (#{D*_b = 2D} + 1) / 2) / (B + 1), where the observed D counts as one replicate tied
  with itself and a tie is |D*_b - 2D| <= TIE_TOLERANCE. Consequences: identical series give p = 0.5
  exactly (every replicate ties); p(agent, b&h) + p(b&h, agent) = 1 with the same seed; 0 < p < 1 always.
  A replicate whose Sharpe ratio is undefined is left out ("undefined_replicates").

- Probabilistic and deflated Sharpe ratios (Bailey & Lopez de Prado 2012, 2014). UNITS: every Sharpe
  ratio here is per period (per bar, NOT annualised: divide an annualised one by sqrt(periods_per_year)),
  T is the number of returns, skew is the third standardised moment and kurtosis is RAW (3 for a normal
  distribution, not the excess kurtosis 0):
  PSR(SR*) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2)),
  the probability that the true Sharpe ratio exceeds SR*. With N trials whose Sharpe ratios have variance
  V (per-period units squared), the expected maximum Sharpe ratio of N skill-less trials is
  E[max SR] = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))), g = Euler-Mascheroni constant,
  Z^-1 the standard normal quantile (0 for N = 1: no selection), and DSR = PSR(E[max SR]). The paper's
  example (N = 100, V = 1/2 annualised = 0.5 / 250 per day, T = 1250, skew -3, kurtosis 10, SR 2.5
  annualised) gives E[max SR] = 0.1132 per day (1.7894 annualised) and DSR = 0.9004.
  `deflated_sharpe_of_best` works from the trials' returns: the "edge over buy-and-hold" of a trial is the
  Sharpe ratio of its daily excess return r_agent - r_buy_and_hold (an information ratio), a different
  statistic from the difference of two Sharpe ratios that `sharpe_difference_test` bootstraps (they
  usually agree in sign); skew and kurtosis are population (biased) moments, which always satisfy
  kurtosis >= 1 + skew^2 and so keep the PSR's variance term non-negative. Its p-value is 1 - DSR and it
  is judged at SIGNIFICANCE (5%).

- Trivial policies (`trivial_policy`): a bar is "long" when the exposure (fraction of equity in the asset,
  or the decided target level) is at least NEAR_CAP (95%) of the personality's position cap, and "flat"
  when it is at most NEAR_FLAT (5%) of the cap. A policy is flagged when at least TRIVIAL_SHARE (95%) of
  its bars are long ("always-long") or flat ("always-flat"), or when its daily returns correlate above
  BH_CORRELATION (0.98, Pearson) with buy-and-hold's ("buy-and-hold-like").

- Seed summaries (`seed_summary`): median, min and max of each metric over the seeds with a finite
  value; the median seed is the seed whose total return is the median; with an even count, the lower of
  the two middle seeds (the worse one, so the summary never flatters; ties keep the input order); a seed
  beats buy-and-hold when its net total return is strictly above buy-and-hold's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from core.metrics import DEFAULT_SEED, ZERO_STD, _check_periods, sharpe_ratio

MIN_RETURNS = 20
"""Fewest finite returns a test, a correlation or a deflated Sharpe ratio is computed from."""
DEFAULT_REPLICATES = 2000
"""Bootstrap replicates of the Sharpe-difference test."""
MIN_REPLICATES = 100
BOOTSTRAP_CHUNK = 256
"""Replicates built per numpy call (bounds memory to chunk x n values); part of the reproducibility key."""
TIE_TOLERANCE = 1e-12
"""Bootstrap Sharpe differences (annualised) this close to 2D count as ties in the p-value."""
SIGNIFICANCE = 0.05
"""Level of "distinguishable from luck" in the sentences (one-sided)."""
EULER_GAMMA = 0.5772156649015329
NEAR_CAP = 0.95
"""A bar is long when its exposure is at least this fraction of the position cap."""
NEAR_FLAT = 0.05
"""A bar is flat when its exposure is at most this fraction of the position cap."""
TRIVIAL_SHARE = 0.95
"""Share of long (or flat) bars from which a policy counts as always-long (always-flat)."""
BH_CORRELATION = 0.98
"""Daily-return correlation with buy-and-hold above which a policy counts as buy-and-hold-like."""

_NORMAL = NormalDist()


# ---------------------------------------------------------------------------------------------- inputs


def _paired(first, second, first_name: str, second_name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(first, second, dropped): the days on which both are finite, same length required."""
    a = np.asarray(first, dtype=float).ravel()
    b = np.asarray(second, dtype=float).ravel()
    if a.size != b.size:
        raise ValueError(
            f"{first_name} has {a.size} returns and {second_name} {b.size}: pass both over the same "
            "window's bars (same length, same order)"
        )
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep], int(a.size - keep.sum())


def _need(count: int, what: str) -> None:
    if count < MIN_RETURNS:
        raise ValueError(
            f"{what} has {count} finite returns; at least {MIN_RETURNS} are needed: use a longer window "
            "(NaN/inf days are dropped first)"
        )


def _sharpe_from_moments(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratios with core.metrics' ZERO_STD rule (0 for no risk and no reward, else NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std < ZERO_STD, np.where(np.abs(mean) < ZERO_STD, 0.0, np.nan), mean / std)


def _row_sharpes(sample: np.ndarray, centre: float) -> np.ndarray:
    """Per-period Sharpe ratio of each row of centred returns (`centre` = the mean taken out)."""
    n = sample.shape[1]
    mean = sample.sum(axis=1) / n
    var = np.maximum(np.einsum("ij,ij->i", sample, sample) - n * mean * mean, 0.0) / (n - 1)
    return _sharpe_from_moments(mean + centre, np.sqrt(var))


def _p_text(p: float, prefix: str = "p") -> str:
    if not math.isfinite(p):
        return f"{prefix} n/a"
    return f"{prefix} < 0.01" if p < 0.01 else f"{prefix} = {p:.2f}"


# ------------------------------------------------------------------------------------------- bootstrap


def default_block_length(n: int) -> float:
    """Default mean block length of the stationary bootstrap: n ** (1/3) days, at least 1.

    :param n: number of returns resampled.
    :return: the mean block length in bars.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return max(1.0, float(n) ** (1.0 / 3.0))


def _check_block_length(block_length: float) -> float:
    block_length = float(block_length)
    if not block_length >= 1.0 or not math.isfinite(block_length):
        raise ValueError(
            f"block_length is a mean block length in bars and must be at least 1 (1 = i.i.d.), got "
            f"{block_length}; leave it None for the n ** (1/3) default"
        )
    return block_length


def _stationary_rows(rng: np.random.Generator, rows: int, n: int, block_length: float) -> np.ndarray:
    """`rows` stationary-bootstrap index rows of length n (module docstring), without a per-day loop."""
    new_block = rng.random((rows, n)) < 1.0 / block_length
    new_block[:, 0] = True
    starts = rng.integers(0, n, size=(rows, n))
    day = np.arange(n)
    # position of the most recent block start at or before each day, then walk on from that block's start
    last_start = np.maximum.accumulate(np.where(new_block, day, 0), axis=1)
    first = np.take_along_axis(starts, last_start, axis=1)
    return (first + (day - last_start)) % n


def _index_chunks(n: int, n_replicates: int, block_length: float, seed: int):
    rng = np.random.default_rng(seed)
    for lo in range(0, n_replicates, BOOTSTRAP_CHUNK):
        yield _stationary_rows(rng, min(BOOTSTRAP_CHUNK, n_replicates - lo), n, block_length)


def stationary_bootstrap_indices(
    n: int,
    n_replicates: int,
    block_length: float | None = None,
    *,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Index arrays of the stationary bootstrap (Politis & Romano 1994; module docstring).

    :param n: length of the series resampled (indices are 0 .. n-1).
    :param n_replicates: number of resamples (rows).
    :param block_length: mean block length in bars (>= 1); None for `default_block_length(n)`.
    :param seed: seed of the numpy Generator; the same arguments always give the same indices.
    :return: int array of shape (n_replicates, n); row b resamples the series as series[row].
    """
    if n < 1 or n_replicates < 1:
        raise ValueError(f"n and n_replicates must be at least 1, got {n} and {n_replicates}")
    block_length = default_block_length(n) if block_length is None else _check_block_length(block_length)
    return np.concatenate(list(_index_chunks(n, n_replicates, block_length, seed)))


def sharpe_difference_test(
    agent_returns,
    benchmark_returns,
    periods_per_year: float = 252,
    *,
    n_replicates: int = DEFAULT_REPLICATES,
    block_length: float | None = None,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> dict[str, Any]:
    """Paired stationary-bootstrap test that the agent's Sharpe ratio beats the benchmark's (one-sided).

    H0: SR(agent) - SR(benchmark) <= 0; p-value, ties and degenerate cases in the module docstring. Both
    Sharpe ratios of a replicate are computed on the same resampled days. Flat returns (std 0, mean 0)
    have a Sharpe ratio of 0, so a cash agent is testable; a constant non-zero return has an undefined
    Sharpe ratio, and then the difference and the p-value are NaN (the result's "note" says why).

    :param agent_returns: the agent's per-bar simple returns over the window.
    :param benchmark_returns: buy-and-hold's per-bar simple returns over the same bars (same length).
    :param periods_per_year: bars per year (252 stocks, 365 crypto), for the annualised Sharpe ratios.
    :param n_replicates: bootstrap replicates (at least 100).
    :param block_length: mean block length in bars; None for n ** (1/3) of the returns used.
    :param seed: seed of the bootstrap, for reproducible p-values.
    :param level: coverage of the percentile interval of the difference (0.95 -> 2.5% and 97.5%).
    :return: dict with "sharpe_agent", "sharpe_benchmark", "difference" (annualised, agent minus
        benchmark), "p_value", "ci_low", "ci_high" (percentile interval of the bootstrap differences),
        "n_returns" (days used), "dropped" (days left out for NaN/inf), "n_replicates",
        "undefined_replicates", "block_length", "seed" and "note" ("" or why the test is undefined).
    """
    return sharpe_difference_tests(
        {"agent": agent_returns}, benchmark_returns, periods_per_year, n_replicates=n_replicates,
        block_length=block_length, seed=seed, level=level, _names=("agent_returns", "benchmark_returns"),
    )["agent"]


def sharpe_difference_tests(
    agent_returns: Mapping[Any, Any],
    benchmark_returns,
    periods_per_year: float = 252,
    *,
    n_replicates: int = DEFAULT_REPLICATES,
    block_length: float | None = None,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
    _names: tuple[str, str] | None = None,
) -> dict[Any, dict[str, Any]]:
    """`sharpe_difference_test` of several agents against one benchmark: {key: result}, each result equal
    to `sharpe_difference_test(agent_returns[key], benchmark_returns, ...)`.

    The resampled days depend only on (n, replicates, block length, seed), so pairs that use the same days
    share them, and the benchmark's resampled Sharpe ratios, instead of drawing them once per agent (a
    battle tests every agent against buy-and-hold on one window).

    :param agent_returns: {key: the agent's per-bar simple returns}, each over the benchmark's bars.
    :param benchmark_returns: buy-and-hold's per-bar simple returns.
    Other parameters: as `sharpe_difference_test`.
    """
    _check_periods(periods_per_year)
    if n_replicates < MIN_REPLICATES:
        raise ValueError(f"use at least {MIN_REPLICATES} bootstrap replicates, got {n_replicates}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95; got {level}")
    shared: dict[tuple, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    out = {}
    for key, returns in agent_returns.items():
        names = _names or (f"agent {key!r}", "benchmark_returns")
        a, b, dropped = _paired(returns, benchmark_returns, *names)
        out[key] = _difference_test(a, b, dropped, periods_per_year, n_replicates, block_length, seed, level,
                                    shared)
    return out


def _difference_test(a, b, dropped, periods_per_year, n_replicates, block_length, seed, level, shared) -> dict:
    """One paired test (sharpe_difference_test); `shared` caches index rows and benchmark replicates by the
    days used (n, the kept days' mask) so that tests on the same days draw them once."""
    n = a.size
    _need(n, "the agent/buy-and-hold pair")
    block_length = default_block_length(n) if block_length is None else _check_block_length(block_length)
    scale = math.sqrt(periods_per_year)
    sr_agent, sr_bench = sharpe_ratio(a, periods_per_year), sharpe_ratio(b, periods_per_year)
    observed = sr_agent - sr_bench
    result: dict[str, Any] = {
        "sharpe_agent": sr_agent,
        "sharpe_benchmark": sr_bench,
        "difference": observed,
        "p_value": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "n_returns": n,
        "dropped": dropped,
        "n_replicates": n_replicates,
        "undefined_replicates": 0,
        "block_length": block_length,
        "seed": seed,
        "note": "",
    }
    if not math.isfinite(observed):
        which = "the agent's" if not math.isfinite(sr_agent) else "buy-and-hold's"
        result["note"] = f"{which} Sharpe ratio is undefined (constant non-zero returns): no test"
        return result
    # centre each series first: the variance is shift-invariant and flat series stay exactly flat
    centred = [(x - x.mean(), float(x.mean())) for x in (a, b)]
    key = (n, n_replicates, block_length, seed, b.tobytes())
    if key not in shared:
        rows = list(_index_chunks(n, n_replicates, block_length, seed))
        shared[key] = (rows, [_row_sharpes(centred[1][0][idx], centred[1][1]) for idx in rows])
    rows, bench_boot = shared[key]
    diffs = []
    for idx, bench_sr in zip(rows, bench_boot, strict=True):
        # both series gathered with the same index rows: the same resampled days
        agent_sr = _row_sharpes(centred[0][0][idx], centred[0][1])
        diffs.append((agent_sr - bench_sr) * scale)
    boot = np.concatenate(diffs)
    valid = boot[np.isfinite(boot)]
    result["undefined_replicates"] = int(boot.size - valid.size)
    if valid.size == 0:
        result["note"] = "every bootstrap replicate has an undefined Sharpe ratio: no test"
        return result
    gap = valid - 2.0 * observed
    ties = int(np.count_nonzero(np.abs(gap) <= TIE_TOLERANCE))
    above = int(np.count_nonzero(gap > TIE_TOLERANCE))
    result["p_value"] = (above + (ties + 1) / 2.0) / (valid.size + 1)
    tail = (1.0 - level) / 2.0 * 100.0
    result["ci_low"], result["ci_high"] = (float(v) for v in np.percentile(valid, [tail, 100.0 - tail]))
    return result


# ------------------------------------------------------------------------ probabilistic / deflated SR


def probabilistic_sharpe_ratio(
    sharpe: float,
    benchmark_sharpe: float,
    n_returns: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """PSR: probability that the true Sharpe ratio exceeds `benchmark_sharpe` (Bailey & Lopez de Prado 2012).

    PSR = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2)); with skew 0 and
    kurtosis 3 (normal returns) the denominator is sqrt(1 + SR^2 / 2).

    :param sharpe: observed Sharpe ratio SR, PER PERIOD (not annualised).
    :param benchmark_sharpe: the threshold SR*, per period.
    :param n_returns: number of returns T behind SR (at least 2).
    :param skew: skewness of those returns (third standardised moment).
    :param kurtosis: RAW kurtosis of those returns (3 for normal; not the excess kurtosis).
    :return: a probability in [0, 1].
    """
    values = (sharpe, benchmark_sharpe, skew, kurtosis)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"sharpe, benchmark_sharpe, skew and kurtosis must be finite, got {values}")
    if n_returns < 2:
        raise ValueError(f"n_returns must be at least 2, got {n_returns}")
    variance_term = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not variance_term > 0:
        raise ValueError(
            f"1 - skew SR + (kurtosis - 1)/4 SR^2 = {variance_term:.3g} is not positive: pass the RAW "
            "kurtosis (3 for normal, not excess) and a per-period (not annualised) Sharpe ratio"
        )
    z = (sharpe - benchmark_sharpe) * math.sqrt(n_returns - 1) / math.sqrt(variance_term)
    return _NORMAL.cdf(z)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum Sharpe ratio of `n_trials` skill-less trials (Bailey & Lopez de Prado 2014).

    E[max SR] = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))), g the Euler-Mascheroni constant;
    0.0 for a single trial (nothing was selected).

    :param n_trials: number of independent trials N (agents x seeds), at least 1.
    :param sharpe_variance: variance V of the trials' Sharpe ratios, in the squared units of the Sharpe
        ratio it is compared with (per-period units for `deflated_sharpe_ratio`).
    :return: E[max SR] in the units of sqrt(V).
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if not (sharpe_variance >= 0 and math.isfinite(sharpe_variance)):
        raise ValueError(f"sharpe_variance must be finite and >= 0, got {sharpe_variance}")
    if n_trials == 1:
        return 0.0
    quantiles = (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials) + EULER_GAMMA * _NORMAL.inv_cdf(
        1 - 1 / (n_trials * math.e)
    )
    return math.sqrt(sharpe_variance) * quantiles


def deflated_sharpe_ratio(
    sharpe: float,
    n_trials: int,
    sharpe_variance: float,
    n_returns: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """DSR = PSR(E[max SR]): probability that the selected trial's true Sharpe ratio beats the best luck.

    :param sharpe: the selected (best) trial's Sharpe ratio, PER PERIOD.
    :param n_trials: number of trials it was selected from (agents x seeds).
    :param sharpe_variance: variance of the trials' per-period Sharpe ratios.
    :param n_returns: number of returns T behind `sharpe`.
    :param skew: skewness of the selected trial's returns.
    :param kurtosis: RAW kurtosis of the selected trial's returns (3 for normal).
    :return: the DSR, a probability in [0, 1]; 1 - DSR is its p-value.
    """
    return probabilistic_sharpe_ratio(
        sharpe, expected_max_sharpe(n_trials, sharpe_variance), n_returns, skew, kurtosis
    )


def _population_moments(values: np.ndarray) -> tuple[float, float, float]:
    """(per-period Sharpe, skew, raw kurtosis) with population moments; (SR, 0, 3) for a flat series."""
    mean = float(values.mean())
    centred = values - mean
    m2 = float(np.mean(centred**2))
    sharpe = float(_sharpe_from_moments(np.array(mean), np.array(values.std(ddof=1))))
    if math.sqrt(m2) < ZERO_STD:
        return sharpe, 0.0, 3.0  # SR is 0 (or undefined): skew and kurtosis do not enter the PSR
    return sharpe, float(np.mean(centred**3)) / m2**1.5, float(np.mean(centred**4)) / m2**2


def deflated_sharpe_of_best(
    trial_returns: Mapping[str, Any],
    benchmark_returns=None,
    periods_per_year: float = 252,
) -> dict[str, Any]:
    """Deflated Sharpe ratio of the best of several trials (agent x seed), from their returns.

    Each trial's edge is the per-period Sharpe ratio of its excess return over the benchmark
    (r_trial - r_benchmark: the information ratio against buy-and-hold), or of its own returns when no
    benchmark is given (edge over cash). The best trial is the one with the highest edge; V is the sample
    variance (ddof=1) of all trials' edges; its skew and raw kurtosis are population moments.

    :param trial_returns: {label: per-bar simple returns} of every trial tried, all over the same bars;
        labels appear in the sentence, e.g. "Momentum, seed 3". At least 2 trials.
    :param benchmark_returns: buy-and-hold's per-bar returns over the same bars, or None (edge over cash).
    :param periods_per_year: bars per year, for the annualised figures.
    :return: dict with "best" (label), "n_trials", "versus" ("buy-and-hold" or "cash"), "sharpe" and
        "expected_max_sharpe" (per period), "sharpe_annualised", "expected_max_sharpe_annualised",
        "sharpe_variance" (per period squared), "skew", "kurtosis" (raw), "n_returns" (the best trial's
        T), "dropped" (NaN/inf days left out, over all trials), "dsr", "p_value" (1 - dsr) and
        "edges" ({label: per-period Sharpe ratio of the edge}).
    """
    _check_periods(periods_per_year)
    if len(trial_returns) < 2:
        raise ValueError(
            f"the deflated Sharpe ratio needs at least 2 trials, got {len(trial_returns)}; for one trial "
            "use probabilistic_sharpe_ratio(sharpe, 0.0, ...)"
        )
    edges: dict[str, np.ndarray] = {}
    dropped = 0
    for label, returns in trial_returns.items():
        r = np.asarray(returns, dtype=float).ravel()
        if benchmark_returns is not None:
            r, bench, gone = _paired(r, benchmark_returns, f"trial {label!r}", "benchmark_returns")
            r = r - bench
        else:
            gone = int(r.size - np.isfinite(r).sum())
            r = r[np.isfinite(r)]
        _need(r.size, f"trial {label!r}")
        edges[label] = r
        dropped += gone
    moments = {label: _population_moments(r) for label, r in edges.items()}
    undefined = [label for label, (sr, _, _) in moments.items() if not math.isfinite(sr)]
    if undefined:
        raise ValueError(
            f"trial(s) {', '.join(map(repr, undefined))} have constant non-zero excess returns, so their "
            "Sharpe ratio is undefined: drop them or check the returns"
        )
    sharpes = {label: m[0] for label, m in moments.items()}
    best = max(sharpes, key=lambda label: sharpes[label])  # first label wins a tie
    sharpe, skew, kurt = moments[best]
    variance = float(np.var(list(sharpes.values()), ddof=1))
    sr0 = expected_max_sharpe(len(sharpes), variance)
    dsr = probabilistic_sharpe_ratio(sharpe, sr0, edges[best].size, skew, kurt)
    scale = math.sqrt(periods_per_year)
    return {
        "best": best,
        "n_trials": len(sharpes),
        "versus": "buy-and-hold" if benchmark_returns is not None else "cash",
        "sharpe": sharpe,
        "sharpe_annualised": sharpe * scale,
        "expected_max_sharpe": sr0,
        "expected_max_sharpe_annualised": sr0 * scale,
        "sharpe_variance": variance,
        "skew": skew,
        "kurtosis": kurt,
        "n_returns": int(edges[best].size),
        "dropped": dropped,
        "dsr": dsr,
        "p_value": 1.0 - dsr,
        "edges": sharpes,
    }


def deflated_sharpe_of_trial(result: Mapping[str, Any], trial_returns, benchmark_returns=None) -> float:
    """DSR of any one trial against the same luck threshold as the best: PSR(E[max SR] of all the tries).

    :param result: a `deflated_sharpe_of_best` result over all the tries (gives N, V and E[max SR]).
    :param trial_returns: the trial's per-bar simple returns (one of the tries).
    :param benchmark_returns: the benchmark's returns the result was computed against (None: cash).
    :return: the probability that this trial's true edge beats the best of N skill-less tries.
    """
    r = np.asarray(trial_returns, dtype=float).ravel()
    if benchmark_returns is not None:
        r, bench, _ = _paired(r, benchmark_returns, "trial_returns", "benchmark_returns")
        r = r - bench
    else:
        r = r[np.isfinite(r)]
    _need(r.size, "the trial")
    sharpe, skew, kurt = _population_moments(r)
    if not math.isfinite(sharpe):
        return math.nan
    return probabilistic_sharpe_ratio(sharpe, float(result["expected_max_sharpe"]), r.size, skew, kurt)


def deflated_sentence(result: Mapping[str, Any]) -> str:
    """One sentence on whether the best trial's edge survives the number of tries (p = 1 - DSR, 5% level).

    :param result: a `deflated_sharpe_of_best` result.
    :return: e.g. "After 20 tries, no agent's edge over buy-and-hold is distinguishable from luck
        (best p = 0.23)." or "After 20 tries, the best agent (Momentum, seed 3) has an edge over
        buy-and-hold that is unlikely to be luck (p = 0.03)."
    """
    tries, versus, p = result["n_trials"], result["versus"], float(result["p_value"])
    if math.isfinite(p) and p < SIGNIFICANCE:
        return (
            f"After {tries} tries, the best agent ({result['best']}) has an edge over {versus} that is "
            f"unlikely to be luck ({_p_text(p)})."
        )
    return (
        f"After {tries} tries, no agent's edge over {versus} is distinguishable from luck "
        f"({_p_text(p, 'best p')})."
    )


# ---------------------------------------------------------------------------------------- trivial policy


def trivial_policy(
    exposure,
    returns,
    benchmark_returns,
    *,
    cap: float = 1.0,
    name: str = "This agent",
) -> dict[str, Any]:
    """Flag a policy that is really always-long, always-flat or buy-and-hold in disguise (module docstring).

    Checks in order, the first that holds names the kind: always-long (long on >= 95% of bars),
    always-flat (flat on >= 95% of bars), buy-and-hold-like (daily-return correlation > 0.98). The
    correlation is NaN, and never flags, when either series does not vary.

    :param exposure: per bar, the fraction of equity in the asset (ContestantResult.positions) or the
        decided target level, in [0, cap]; NaN bars are dropped (forward-fill sparse decisions first).
    :param returns: the agent's per-bar simple returns over the window.
    :param benchmark_returns: buy-and-hold's per-bar returns over the same bars (same length as returns).
    :param cap: the personality's position cap (0.5 Conservative, 1.0 the others).
    :param name: the agent's label for the sentence.
    :return: dict with "trivial" (bool), "kind" ("always-long", "always-flat", "buy-and-hold-like" or
        None), "long_share", "flat_share", "correlation", "n_bars" (exposure bars used), "n_returns",
        "dropped" (NaN/inf exposure bars and return days left out) and "sentence" (None when not
        trivial), e.g. "Aggressive behaves like buy-and-hold on this window (near its full position on
        98% of the bars)."
    """
    if not (cap > 0 and math.isfinite(cap)):
        raise ValueError(
            f"cap is the personality's position cap (0.5 or 1.0) and must be positive, got {cap}"
        )
    pos = np.asarray(exposure, dtype=float).ravel()
    finite = np.isfinite(pos)
    pos, dropped_bars = pos[finite], int(pos.size - finite.sum())
    if pos.size == 0:
        raise ValueError("exposure has no finite value: pass the agent's positions or target levels per bar")
    a, b, dropped_days = _paired(returns, benchmark_returns, "returns", "benchmark_returns")
    _need(a.size, "the agent/buy-and-hold pair")
    long_share = float(np.mean(pos >= NEAR_CAP * cap))
    flat_share = float(np.mean(pos <= NEAR_FLAT * cap))
    flat_series = a.std() < ZERO_STD or b.std() < ZERO_STD
    correlation = math.nan if flat_series else float(np.corrcoef(a, b)[0, 1])
    kind = sentence = None
    if long_share >= TRIVIAL_SHARE:
        kind = "always-long"
        sentence = (
            f"{name} behaves like buy-and-hold on this window (near its full position on "
            f"{_floor_percent(long_share)} of the bars)."
        )
    elif flat_share >= TRIVIAL_SHARE:
        kind = "always-flat"
        sentence = (
            f"{name} behaves like holding cash on this window (flat on {_floor_percent(flat_share)} of "
            "the bars)."
        )
    elif correlation > BH_CORRELATION:
        kind = "buy-and-hold-like"
        sentence = (
            f"{name} behaves like buy-and-hold on this window (its daily returns correlate "
            f"{math.floor(correlation * 1000) / 1000:.3f} with buy-and-hold's)."
        )
    return {
        "trivial": kind is not None,
        "kind": kind,
        "long_share": long_share,
        "flat_share": flat_share,
        "correlation": correlation,
        "n_bars": int(pos.size),
        "n_returns": int(a.size),
        "dropped": dropped_bars + dropped_days,
        "sentence": sentence,
    }


def _floor_percent(share: float) -> str:
    """A share as a whole percent rounded down (99.6% -> "99%", never an overstated "100%")."""
    return f"{math.floor(share * 100 + 1e-9)}%"


# ------------------------------------------------------------------------------------------ seed summary


def seed_summary(
    seed_metrics: Mapping[Any, Mapping[str, float]],
    benchmark_metrics: Mapping[str, float],
    metrics: Sequence[str] = ("total_return", "sharpe"),
) -> dict[str, Any]:
    """Median, range and beat count of one personality's metrics across training seeds.

    A seed whose value of a metric is NaN/inf is left out of that metric's statistics ("n" counts the
    seeds used) and never beats buy-and-hold; the median seed is chosen among seeds with a finite total
    return (even count: the lower of the two middle seeds, ties in input order).

    :param seed_metrics: {seed: metrics dict}, e.g. core.metrics.performance_summary per seed; every dict
        needs "total_return" and each name in `metrics`.
    :param benchmark_metrics: buy-and-hold's metrics on the same window (needs a finite "total_return").
    :param metrics: the metric names to summarise.
    :return: dict with "n_seeds", "stats" ({metric: {"median", "min", "max", "n"}}), "median_seed" (None
        without a finite total return), "beats" (k), "beats_seeds" (those seeds, in input order),
        "benchmark_total_return" and "label" ("beats buy-and-hold in k of n seeds").
    """
    if not seed_metrics:
        raise ValueError("no seeds given: pass {seed: metrics dict} for at least one seed")
    bench = float(benchmark_metrics.get("total_return", math.nan))
    if not math.isfinite(bench):
        raise ValueError("benchmark_metrics needs a finite 'total_return' (buy-and-hold's, same window)")
    names = list(dict.fromkeys(["total_return", *metrics]))
    for seed, values in seed_metrics.items():
        missing = [m for m in names if m not in values]
        if missing:
            raise ValueError(
                f"seed {seed!r} has no {', '.join(map(repr, missing))}: pass core.metrics."
                "performance_summary dicts (or the metrics asked for)"
            )
    stats: dict[str, dict[str, float]] = {}
    for metric in metrics:
        column = np.array([float(v[metric]) for v in seed_metrics.values()])
        column = column[np.isfinite(column)]
        if column.size:
            stats[metric] = {
                "median": float(np.median(column)),
                "min": float(column.min()),
                "max": float(column.max()),
                "n": int(column.size),
            }
        else:
            stats[metric] = {"median": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    returns = {seed: float(v["total_return"]) for seed, v in seed_metrics.items()}
    ranked = sorted((r, i, seed) for i, (seed, r) in enumerate(returns.items()) if math.isfinite(r))
    median_seed = ranked[(len(ranked) - 1) // 2][2] if ranked else None
    beats_seeds = [seed for seed, r in returns.items() if r > bench]
    return {
        "n_seeds": len(seed_metrics),
        "stats": stats,
        "median_seed": median_seed,
        "beats": len(beats_seeds),
        "beats_seeds": beats_seeds,
        "benchmark_total_return": bench,
        "label": f"beats buy-and-hold in {len(beats_seeds)} of {len(seed_metrics)} seeds",
    }
