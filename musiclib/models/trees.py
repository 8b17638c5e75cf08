"""Tree next-frame models: decision tree, random forest, XGBoost.

See ``notebooks/03_trees``. All follow the model protocol of :mod:`musiclib.models` and are meant
to work on a few features per frame (PCA components of scaled frames,
:func:`musiclib.framing.frame_scaler` with ``n_components``), which keeps both training and the
per-step prediction of a roll-out fast.

Two layouts, chosen by ``per_output``:

- ``per_output=True``: one model per output feature (per PCA component), each fitted on the same
  inputs;
- ``per_output=False``: one multi-output model whose leaves hold whole frames (scikit-learn's
  native multi-output trees; XGBoost's ``multi_strategy="multi_output_tree"``).

Speed. The libraries' ``predict`` has a fixed cost per call (input checks, a Python loop over the
trees of a forest) that dominates for the single row of a roll-out step, which is what made the
original experiment "excruciatingly slow". So after ``fit`` all trees are packed into flat arrays
and walked together with NumPy for small batches (:class:`PackedTrees`): one step of a roll-out
costs one short loop over the tree depth. XGBoost's trees are packed the same way from its JSON
model. ``benchmarks/generate.py`` measures the roll-outs this gives.

The drone. A regression tree predicts the mean of the training frames in a leaf, and averages of
averages pull every roll-out towards a steady mean frame: "a steady droning output". The
scikit-learn models also have ``sample(X, temperature, rng)``: they walk to the leaf, pick one of
the training examples that ended there (in a randomly chosen tree), and return
``(1 - temperature) * mean + temperature * example``, i.e. a draw from the tree's own estimate of the
conditional distribution of the next frame (temperature 1), shrunk towards the mean below 1.
"""

from __future__ import annotations

import json
import time

import numpy as np

from musiclib.errors import check_number
from musiclib.models import check_fitted, check_xy, pick_rows

__all__ = [
    "PackedTrees",
    "sklearn_tree_arrays",
    "xgboost_tree_arrays",
    "DecisionTreeNextFrame",
    "RandomForestNextFrame",
    "XGBoostNextFrame",
]

#: Batches up to this many rows are predicted with :class:`PackedTrees`, larger ones by the library.
PACKED_MAX_ROWS = 256


class PackedTrees:
    """Many fitted trees in flat arrays, evaluated together with NumPy.

    Parameters
    ----------
    trees : list of dict
        Per tree: ``left``, ``right`` (child node ids, -1 at leaves), ``feature``, ``threshold``
        (go left when ``x[feature] <= threshold``) and ``value [shape=(n_nodes, width)]``.
        :func:`sklearn_tree_arrays` and :func:`xgboost_tree_arrays` make them.
    groups : list of int
        For each tree, which output group it belongs to.
    group_cols : list of np.ndarray
        For each group, the output columns its trees predict.
    n_outputs : int
        Total output columns.
    combine : {"mean", "sum"}
        Average the trees of a group (forests) or add them (boosting).
    bias : np.ndarray [shape=(n_outputs,)], optional
        Added to every prediction (XGBoost's base score).
    """

    def __init__(self, trees, groups, group_cols, n_outputs: int, *, combine: str = "mean", bias=None):
        T = len(trees)
        N = max(len(t["left"]) for t in trees)
        width = max(t["value"].shape[1] for t in trees)
        self.T, self.N, self.n_outputs = T, N, n_outputs
        feature = np.zeros((T, N), np.intp)
        threshold = np.full((T, N), np.inf)
        left = np.tile(np.arange(N), (T, 1))
        right = left.copy()
        value = np.zeros((T, N, width), np.float32)
        depth = 0
        for i, t in enumerate(trees):
            n = len(t["left"])
            internal = np.asarray(t["left"]) >= 0
            feature[i, :n][internal] = np.asarray(t["feature"])[internal]
            threshold[i, :n][internal] = np.asarray(t["threshold"])[internal]
            left[i, :n][internal] = np.asarray(t["left"])[internal]
            right[i, :n][internal] = np.asarray(t["right"])[internal]
            v = np.asarray(t["value"], dtype=np.float32)
            value[i, :n, : v.shape[1]] = v
            depth = max(depth, _depth(np.asarray(t["left"]), np.asarray(t["right"])))
        self.depth = depth
        self.base = (np.arange(T) * N)[None, :]
        self.feature_f = feature.ravel()
        self.threshold_f = threshold.ravel()
        self.left_f = (left + np.arange(T)[:, None] * N).ravel()
        self.right_f = (right + np.arange(T)[:, None] * N).ravel()
        self.value_f = value.reshape(T * N, width)
        self.groups = np.asarray(groups)
        self.group_cols = [np.asarray(c) for c in group_cols]
        A = np.zeros((T, width, n_outputs), np.float32)
        for g, cols in enumerate(self.group_cols):
            members = np.flatnonzero(self.groups == g)
            w = 1.0 / len(members) if combine == "mean" else 1.0
            for k, col in enumerate(cols):
                A[members, k, col] = w
        self.A = A.reshape(T * width, n_outputs)
        self.bias = np.zeros(n_outputs, np.float32) if bias is None else np.asarray(bias, np.float32)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Flat node index of the leaf each row reaches in each tree ``[shape=(n, T)]``."""
        n = len(X)
        node = np.broadcast_to(self.base, (n, self.T)).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            go_left = X[rows, self.feature_f[node]] <= self.threshold_f[node]
            node = np.where(go_left, self.left_f[node], self.right_f[node])
        return node

    def predict_leaves(self, node: np.ndarray) -> np.ndarray:
        """Combined predictions ``[shape=(n, n_outputs)]`` from the leaves ``node [shape=(n, T)]``."""
        return self.value_f[node].reshape(len(node), -1) @ self.A + self.bias

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Combined predictions ``[shape=(n, n_outputs)]``."""
        return self.predict_leaves(self.leaves(X))


def _depth(left, right) -> int:
    depth = np.zeros(len(left), np.int64)
    best = 0
    for i in range(len(left)):  # children come after parents in both libraries' layouts
        if left[i] >= 0:
            depth[left[i]] = depth[right[i]] = depth[i] + 1
            best = max(best, depth[i] + 1)
    return int(best)


def sklearn_tree_arrays(tree) -> dict:
    """The arrays :class:`PackedTrees` needs (a dict, see there) from a scikit-learn ``tree_``."""
    n = tree.node_count
    return {"left": tree.children_left[:n], "right": tree.children_right[:n], "feature": tree.feature[:n],
            "threshold": tree.threshold[:n], "value": tree.value[:n, :, 0]}


def xgboost_tree_arrays(booster) -> tuple[list[dict], list[int], np.ndarray]:
    """What :class:`PackedTrees` needs from a fitted ``xgboost.Booster``.

    Returns
    -------
    trees : list of dict
        Per-tree arrays, as :func:`sklearn_tree_arrays` gives them.
    targets : list of int
        Each tree's output index, or -1 for trees with vector leaves.
    base : np.ndarray [shape=(1,) or (n_outputs,)]
        The base score.
    """
    model = json.loads(booster.save_raw("json"))
    learner = model["learner"]
    trees_json = learner["gradient_booster"]["model"]["trees"]
    info = learner["gradient_booster"]["model"]["tree_info"]
    base = np.atleast_1d(np.asarray(json.loads(learner["learner_model_param"]["base_score"]), dtype=np.float32))
    trees, targets = [], []
    for t, target in zip(trees_json, info):
        left = np.asarray(t["left_children"])
        k = int(t["tree_param"]["size_leaf_vector"])
        k = max(k, 1)
        thr = np.asarray(t["split_conditions"], dtype=np.float32)
        # XGBoost goes left when x < threshold; for float32 x that is x <= the next float below
        thr_le = np.nextafter(thr, np.float32(-np.inf)).astype(np.float64)
        if k == 1:
            value = thr[:, None]
            targets.append(int(target))
        else:
            value = np.asarray(t["base_weights"], dtype=np.float32).reshape(len(left), k)
            targets.append(-1)
        trees.append({"left": left, "right": np.asarray(t["right_children"]), "feature": np.asarray(t["split_indices"]),
                      "threshold": thr_le, "value": value})
    return trees, targets, base


class _PackedNextFrame:
    """What every tree model shares: fitting's bookkeeping, the input check, packed prediction.

    Subclasses implement ``_fit_trees(Xf, Y) -> PackedTrees`` and ``_predict_large(Xf)``.
    """

    def fit(self, X, Y):
        """Fit on inputs ``X [shape=(n, n_rows, n_features)]`` and next frames ``Y [shape=(n, n_features)]``."""
        t0 = time.perf_counter()
        Xf, Y, self.n_context_ = check_xy(X, Y)
        self.n_inputs_, self.n_features_ = Xf.shape[1], Y.shape[1]
        self.packed_ = self._fit_trees(Xf, Y)
        rows = pick_rows(len(Xf), self.max_residuals, self.seed)
        self.residuals_ = (Y[rows] - self.predict(Xf[rows])).astype(np.float32)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def predict(self, X) -> np.ndarray:
        """Next frames ``[shape=(n, n_features)]`` for ``X [shape=(n, n_rows, n_features)]``."""
        Xf = check_fitted(self, "packed_", X)
        if len(Xf) <= PACKED_MAX_ROWS:
            return self.packed_.predict(Xf).astype(np.float32)
        return np.asarray(self._predict_large(Xf), dtype=np.float32).reshape(len(Xf), self.n_features_)

    @property
    def n_trees(self) -> int:
        """Trees in the fitted model, all outputs together."""
        return self.packed_.T


class _TreeNextFrame(_PackedNextFrame):
    """scikit-learn trees: per-output or multi-output fitting, and leaf sampling."""

    def __init__(self, *, per_output: bool = True, sample_trees: int = 8, max_residuals: int = 20000,
                 max_sample_rows: int = 50000, seed: int = 0, n_jobs: int = 2, **params):
        self.per_output = bool(per_output)
        self.sample_trees = int(sample_trees)
        self.max_residuals = max_residuals
        self.max_sample_rows = max_sample_rows
        self.seed = seed
        self.n_jobs = n_jobs
        self.params = params

    def _make(self, seed):  # pragma: no cover - overridden
        raise NotImplementedError

    def _trees(self, est):
        return [e.tree_ for e in getattr(est, "estimators_", [est])]

    def _fit_trees(self, Xf, Y):
        F = Y.shape[1]
        if self.per_output:
            self.estimators_ = [self._make(self.seed + j).fit(Xf, Y[:, j]) for j in range(F)]
            group_cols = [np.array([j]) for j in range(F)]
        else:
            self.estimators_ = [self._make(self.seed).fit(Xf, Y)]
            group_cols = [np.arange(F)]
        trees = [[sklearn_tree_arrays(t) for t in self._trees(est)] for est in self.estimators_]
        groups = [g for g, ts in enumerate(trees) for _ in ts]
        packed = PackedTrees([t for ts in trees for t in ts], groups, group_cols, F, combine="mean")
        self._build_leaf_store(packed, Xf, Y)
        return packed

    def _predict_large(self, Xf):
        if self.per_output:
            return np.stack([e.predict(Xf) for e in self.estimators_], axis=1)
        return self.estimators_[0].predict(Xf)

    def _build_leaf_store(self, P, Xf, Y):
        """For a few trees per group: which training rows end in each leaf (CSR over flat node ids)."""
        rows = pick_rows(len(Xf), self.max_sample_rows, self.seed + 1)
        Xs = Xf[rows]
        self.sample_Y_ = Y[rows]
        members = [np.flatnonzero(P.groups == g)[: self.sample_trees] for g in range(len(P.group_cols))]
        all_trees = [t for est in self.estimators_ for t in self._trees(est)]
        node_ids = np.concatenate([all_trees[t].apply(Xs).astype(np.int64) + t * P.N for t in np.concatenate(members)])
        row_ids = np.tile(np.arange(len(Xs)), len(node_ids) // len(Xs))
        order = np.argsort(node_ids, kind="stable")
        self.leaf_rows_ = row_ids[order].astype(np.int64)
        self.leaf_start_ = np.zeros(P.T * P.N + 1, np.int64)
        self.leaf_start_[1:] = np.cumsum(np.bincount(node_ids, minlength=P.T * P.N))
        # (n_groups, sample_trees): the trees a draw picks from (repeated where a group has fewer)
        self.sample_members_ = np.array([np.resize(m, self.sample_trees) for m in members])

    def sample(self, X, *, temperature: float = 1.0, rng=None) -> np.ndarray:
        """A draw of the next frame from the leaves reached.

        ``(1 - temperature) * mean + temperature * example``, where ``example`` is a training target
        from the leaf reached in one randomly chosen tree per output group.

        Parameters
        ----------
        X : np.ndarray [shape=(n, n_rows, n_features)]
        temperature : float >= 0
            0 gives the mean (:meth:`predict`).
        rng : int, np.random.Generator or None

        Returns
        -------
        np.ndarray [shape=(n, n_features)], float32
        """
        t = np.float32(check_number("temperature", temperature, low=0))
        Xf = check_fitted(self, "packed_", X)
        P = self.packed_
        node = P.leaves(Xf)
        mean = P.predict_leaves(node).astype(np.float32)
        if t == 0:
            return mean
        rng = np.random.default_rng(rng)
        n, G = len(Xf), len(P.group_cols)
        pick = rng.integers(self.sample_trees, size=(n, G))
        trees = self.sample_members_[np.arange(G)[None, :], pick]  # (n, G)
        leaf = node[np.arange(n)[:, None], trees]
        start = self.leaf_start_[leaf]
        count = self.leaf_start_[leaf + 1] - start
        u = rng.random((n, G))
        row = self.leaf_rows_[start + np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))]
        if self.per_output:
            ex = self.sample_Y_[row, np.arange(G)[None, :]]  # group g predicts column g
        else:
            ex = self.sample_Y_[row[:, 0]]
        return ((np.float32(1) - t) * mean + t * ex).astype(np.float32)


class DecisionTreeNextFrame(_TreeNextFrame):
    """Decision-tree regression of the next frame (scikit-learn ``DecisionTreeRegressor``).

    Parameters
    ----------
    per_output : bool
        One tree per output (True) or one multi-output tree.
    max_depth, min_samples_leaf, max_features :
        Passed to the tree.
    sample_trees : int
        Trees per output group whose leaves :meth:`sample` draws from.
    max_residuals, max_sample_rows : int
        Training rows kept for the residuals and for the leaves' examples.
    seed, n_jobs : int
        Seeding and threads.
    """

    kind = "tree"

    def __init__(self, *, per_output: bool = True, max_depth: int = 12, min_samples_leaf: int = 5,
                 max_features=None, **kw):
        super().__init__(per_output=per_output, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                         max_features=max_features, **kw)

    def _make(self, seed):
        from sklearn.tree import DecisionTreeRegressor

        return DecisionTreeRegressor(random_state=seed, **self.params)


class RandomForestNextFrame(_TreeNextFrame):
    """Random-forest regression of the next frame (scikit-learn ``RandomForestRegressor``).

    Parameters as :class:`DecisionTreeNextFrame`, plus ``n_estimators`` (trees per forest) and
    ``max_samples`` (bootstrap fraction).
    """

    kind = "forest"

    def __init__(self, *, per_output: bool = True, n_estimators: int = 20, max_depth: int = 12,
                 min_samples_leaf: int = 5, max_features=0.5, max_samples=0.5, **kw):
        super().__init__(per_output=per_output, n_estimators=n_estimators, max_depth=max_depth,
                         min_samples_leaf=min_samples_leaf, max_features=max_features, max_samples=max_samples,
                         **kw)

    def _make(self, seed):
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(random_state=seed, n_jobs=self.n_jobs, **self.params)


class XGBoostNextFrame(_PackedNextFrame):
    """Gradient-boosted trees (XGBoost) regression of the next frame.

    ``per_output=True`` grows separate trees for each output (``multi_strategy="one_output_per_tree"``);
    ``per_output=False`` grows trees with vector leaves (``"multi_output_tree"``). Prediction uses
    the same packed NumPy evaluator as the scikit-learn models for small batches,
    ``Booster.inplace_predict`` for large ones. No ``sample``: the roll-out adds training residuals
    as noise.

    Parameters
    ----------
    per_output : bool
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree :
        XGBoost parameters.
    n_jobs : int
        Threads.
    max_residuals, seed : int
        Training residual rows kept, and seeding.
    """

    kind = "xgboost"

    def __init__(self, *, per_output: bool = True, n_estimators: int = 100, max_depth: int = 6,
                 learning_rate: float = 0.1, subsample: float = 0.8, colsample_bytree: float = 0.8,
                 n_jobs: int = 2, max_residuals: int = 20000, seed: int = 0):
        self.per_output = bool(per_output)
        self.params = dict(n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
                           subsample=subsample, colsample_bytree=colsample_bytree)
        self.n_jobs = n_jobs
        self.max_residuals = max_residuals
        self.seed = seed

    def _fit_trees(self, Xf, Y):
        import xgboost

        strategy = "one_output_per_tree" if self.per_output else "multi_output_tree"
        self.model_ = xgboost.XGBRegressor(tree_method="hist", multi_strategy=strategy, n_jobs=self.n_jobs,
                                           random_state=self.seed, **self.params).fit(Xf, Y)
        self.booster_ = self.model_.get_booster()
        trees, targets, base = xgboost_tree_arrays(self.booster_)
        F = Y.shape[1]
        groups, group_cols = (targets, [np.array([j]) for j in range(F)]) if self.per_output else \
            ([0] * len(trees), [np.arange(F)])
        return PackedTrees(trees, groups, group_cols, F, combine="sum", bias=np.broadcast_to(base, (F,)))

    def _predict_large(self, Xf):
        return self.booster_.inplace_predict(Xf)
