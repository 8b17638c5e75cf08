"""Tests for musiclib.models.linear: ridge next-frame and the quantised logistic levels model."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib.errors import ParameterError
from musiclib.framing import Framing
from musiclib.generate import rollout
from musiclib.models.linear import LevelsNextFrame, RidgeNextFrame, UnstableLinear


def _ar_data(n=3000, F=6, seed=0):
    """Frames from a known stable linear recursion plus noise."""
    rng = np.random.default_rng(seed)
    A = 0.5 * np.linalg.qr(rng.standard_normal((F, F)))[0]
    x = np.zeros((n, F), np.float32)
    for t in range(1, n):
        x[t] = x[t - 1] @ A + 0.3 * rng.standard_normal(F)
    return x, A


def test_ridge_recovers_linear_recursion():
    x, A = _ar_data()
    X, Y = Framing(context=1).dataset([x])
    m = RidgeNextFrame(alpha=1e-3).fit(X, Y)
    np.testing.assert_allclose(m.coef_, A, atol=0.05)
    assert m.residuals_.shape[1] == 6
    assert m.residuals_.std() == pytest.approx(0.3, rel=0.1)
    assert m.spectral_radius() == pytest.approx(0.5, abs=0.05)
    assert m.predict(X[:7]).shape == (7, 6)
    np.testing.assert_allclose(m.predict(X[:7].reshape(7, -1)), m.predict(X[:7]))


def test_ridge_spectral_radius_flags_growth():
    x, _ = _ar_data(F=4)
    X, Y = Framing(context=2).dataset([x])
    m = RidgeNextFrame(alpha=0.0).fit(X, 1.2 * X[:, -1])  # y = 1.2 * last frame
    assert m.spectral_radius() == pytest.approx(1.2, abs=1e-3)
    with pytest.raises(ParameterError, match="context"):
        m.spectral_radius(context=3)


def test_ridge_errors():
    with pytest.raises(ParameterError, match="alpha"):
        RidgeNextFrame(alpha=-1)
    with pytest.raises(ParameterError, match="not fitted"):
        RidgeNextFrame().predict(np.zeros((1, 2, 3)))
    with pytest.raises(ParameterError, match="examples"):
        RidgeNextFrame().fit(np.zeros((3, 2, 3)), np.zeros((2, 3)))
    m = RidgeNextFrame().fit(np.random.default_rng(0).standard_normal((20, 2, 3)), np.zeros((20, 3)))
    with pytest.raises(ParameterError, match="values per example"):
        m.predict(np.zeros((1, 3, 3)))


@pytest.fixture(scope="module")
def levels():
    x, _ = _ar_data(n=2000, F=5, seed=1)
    X, Y = Framing(context=2).dataset([x])
    m = LevelsNextFrame(n_levels=8, n_components=None, epochs=15, learning_rate=1e-2, seed=0).fit(X, Y)
    return m, X, Y


def test_levels_model_learns_and_stays_in_range(levels):
    m, X, Y = levels
    assert m.loss_history_[-1] < m.loss_history_[0] < np.log(8) + 0.1
    assert m.accuracy_ > 1.5 / 8  # clearly better than chance
    p = m.predict_proba(X[:10])
    assert p.shape == (10, 5, 8)
    np.testing.assert_allclose(p.sum(-1), 1, rtol=1e-5)
    s = m.sample(X[:200], temperature=1.0, rng=0)
    assert s.shape == (200, 5)
    # samples are class centres: inside the training range
    assert np.all(s >= Y.min(0) - 1e-6) and np.all(s <= Y.max(0) + 1e-6)
    for j in range(5):
        assert set(np.unique(s[:, j])) <= set(m.centres_[j])
    # the expected value correlates with the truth
    pred = m.predict(X)
    assert np.corrcoef(pred[:, 0], Y[:, 0])[0, 1] > 0.3


def test_levels_temperature(levels):
    m, X, _ = levels
    a = m.sample(X[:100], temperature=0.0, rng=0)
    np.testing.assert_array_equal(a, m.sample(X[:100], temperature=0.0, rng=1))  # argmax
    np.testing.assert_array_equal(m.sample(X[:100], temperature=1.0, rng=5), m.sample(X[:100], temperature=1.0, rng=5))
    # hotter sampling spreads more across classes
    cold = m.sample(np.repeat(X[:1], 2000, 0), temperature=0.3, rng=2)
    hot = m.sample(np.repeat(X[:1], 2000, 0), temperature=3.0, rng=2)
    assert hot[:, 0].std() > cold[:, 0].std()
    with pytest.raises(ParameterError, match="temperature"):
        m.sample(X[:1], temperature=-0.5)


def test_levels_rollout_never_blows_up(levels):
    m, X, Y = levels
    out = rollout(m, X[0], n_frames=300, temperature=1.5, seed=0, progress=False)
    assert np.all(np.isfinite(out)) and out.max() <= Y.max() + 1e-6 and out.min() >= Y.min() - 1e-6


def test_levels_projection_and_errors():
    x, _ = _ar_data(n=800, F=4, seed=2)
    X, Y = Framing(context=4).dataset([x])
    m = LevelsNextFrame(n_levels=4, n_components=6, epochs=2).fit(X, Y)
    assert m.proj_.shape == (16, 6)
    assert m.predict(X[:3]).shape == (3, 4)
    with pytest.raises(ParameterError):
        LevelsNextFrame(n_levels=1)
    with pytest.raises(ParameterError):
        LevelsNextFrame(n_components=0)
    with pytest.raises(ParameterError, match="not fitted"):
        LevelsNextFrame().predict(X[:1])


def test_unstable_linear_grows():
    m = UnstableLinear(1.05)
    x = np.ones((1, 3, 2), np.float32)
    np.testing.assert_allclose(m.predict(x), 1.05)
