"""Tests for musiclib.models.trees: packed evaluation, per-output vs multi-output, leaf sampling."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib.errors import ParameterError
from musiclib.framing import Framing
from musiclib.generate import mean_frame_change_db, rollout
from musiclib.models import linear, trees
from musiclib.models.trees import DecisionTreeNextFrame, RandomForestNextFrame, XGBoostNextFrame


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, F = 1500, 4
    t = np.arange(n)
    # a noisy periodic pattern: the next frame depends on the previous ones
    x = np.stack([np.sin(2 * np.pi * t / p) for p in (8, 13, 21, 5)], 1) + 0.2 * rng.standard_normal((n, F))
    X, Y = Framing(context=3).dataset([x.astype(np.float32)])
    return X, Y


MODELS = [
    (DecisionTreeNextFrame, {"max_depth": 6}),
    (RandomForestNextFrame, {"n_estimators": 5, "max_depth": 6}),
    (XGBoostNextFrame, {"n_estimators": 15, "max_depth": 3}),
]


@pytest.mark.parametrize("per_output", [True, False])
@pytest.mark.parametrize("cls, kw", MODELS)
def test_packed_prediction_matches_library(data, cls, kw, per_output):
    X, Y = data
    m = cls(per_output=per_output, **kw).fit(X, Y)
    Xf = X[:300].reshape(300, -1)
    small = m.packed_.predict(Xf)
    if cls is XGBoostNextFrame:
        ref = m.booster_.inplace_predict(Xf)
    elif per_output:
        ref = np.stack([e.predict(Xf) for e in m.estimators_], axis=1)
    else:
        ref = m.estimators_[0].predict(Xf)
    np.testing.assert_allclose(small, np.asarray(ref).reshape(small.shape), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m.predict(X[:5]), m.predict(X[:400])[:5], rtol=1e-4, atol=1e-4)  # both paths
    assert m.residuals_.shape[1] == Y.shape[1]
    # it learned something
    r2 = 1 - np.mean((m.predict(X) - Y) ** 2) / np.var(Y)
    assert r2 > 0.5
    assert m.fit_seconds_ > 0


@pytest.mark.parametrize("per_output", [True, False])
def test_leaf_sampling(data, per_output):
    X, Y = data
    m = DecisionTreeNextFrame(per_output=per_output, max_depth=5).fit(X, Y)
    x = np.repeat(X[:1], 500, axis=0)
    mean = m.sample(x, temperature=0.0, rng=0)
    np.testing.assert_allclose(mean, m.predict(x), rtol=1e-5, atol=1e-6)
    s1 = m.sample(x, temperature=1.0, rng=0)
    np.testing.assert_array_equal(s1, m.sample(x, temperature=1.0, rng=0))
    # temperature 1: the draws are training targets from the leaf, spread around the mean
    assert np.all(np.isin(s1[:, 0], Y[:, 0]))
    assert s1.std(0).min() > 0
    np.testing.assert_allclose(s1.mean(0), mean[0], atol=3 * s1.std(0).max() / np.sqrt(500) + 1e-3)
    half = m.sample(x, temperature=0.5, rng=0)
    np.testing.assert_allclose(half - mean, 0.5 * (s1 - mean), rtol=1e-4, atol=1e-5)
    if not per_output:  # whole frames come from one training example
        rows = {tuple(r) for r in Y.round(5)}
        assert all(tuple(r) in rows for r in s1.round(5)[:20])


def test_sampling_reduces_the_drone(data):
    X, Y = data
    m = DecisionTreeNextFrame(per_output=False, max_depth=8).fit(X, Y)
    mean_roll = rollout(m, X[0], n_frames=300, temperature=0.0, progress=False)
    samp_roll = rollout(m, X[0], n_frames=300, temperature=1.0, seed=0, progress=False)
    real = mean_frame_change_db(Y[:300], floor_db=-1e9)
    assert mean_frame_change_db(samp_roll, floor_db=-1e9) > mean_frame_change_db(mean_roll, floor_db=-1e9)
    assert mean_frame_change_db(samp_roll, floor_db=-1e9) > 0.5 * real


def test_tree_errors(data):
    X, Y = data
    with pytest.raises(ParameterError, match="not fitted"):
        DecisionTreeNextFrame().predict(X[:1])
    with pytest.raises(ParameterError, match="not fitted"):
        XGBoostNextFrame().predict(X[:1])
    m = DecisionTreeNextFrame(max_depth=3).fit(X, Y)
    with pytest.raises(ParameterError, match="values per example"):
        m.predict(X[:1, :2])
    with pytest.raises(ParameterError, match="temperature"):
        m.sample(X[:1], temperature=-1)


@pytest.mark.parametrize("cls", [linear.RidgeNextFrame, linear.LevelsNextFrame, trees.DecisionTreeNextFrame,
                                 trees.RandomForestNextFrame, trees.XGBoostNextFrame])
def test_empty_inputs_are_named_or_give_empty_predictions(cls):
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match="at least 2 training examples, got 0"):
        cls().fit(np.zeros((0, 2, 3), np.float32), np.zeros((0, 3), np.float32))
    model = cls().fit(rng.random((20, 2, 3), dtype=np.float32), rng.random((20, 3), dtype=np.float32))
    assert model.predict(np.zeros((0, 2, 3), np.float32)).shape == (0, 3)
