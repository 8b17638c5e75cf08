"""Tree next-frame models: decision tree, random forest, XGBoost (``notebooks/03_trees``).

Model protocol: :mod:`musiclib.models`; meant for a few features per frame (PCA components).
``per_output=True`` fits one model per output feature, ``False`` one multi-output model.

- Speed: the libraries' ``predict`` costs too much per call for the single row of a roll-out step,
  so after ``fit`` all trees are packed into flat arrays walked together with NumPy
  (:class:`PackedTrees`; ``benchmarks/generate.py``).
- The drone: a tree predicts the mean of its leaf, which pulls a roll-out towards a steady mean
  frame. The scikit-learn models' ``sample`` returns ``(1 - temperature) * mean + temperature *
  example``, ``example`` a training target from the leaf reached in a randomly chosen tree.
"""

from __future__ import annotations

import json

import numpy as np

from musiclib.errors import check_number
from musiclib.models import NextFrameModel, check_fitted, pick_rows

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
    groups, group_cols : list of int, list of np.ndarray
        Each tree's output group, and each group's output columns.
    n_outputs : int
    combine : {"mean", "sum"}
        Average the trees of a group (forests) or add them (boosting).
    bias : np.ndarray [shape=(n_outputs,)], optional
        Added to every prediction (XGBoost's base score).
    """

    def __init__(self, trees, groups, group_cols, n_outputs: int, *, combine: str = "mean", bias=None):
        flat = {key: np.concatenate([np.asarray(t[key]) for t in trees])
                for key in ("left", "right", "feature", "threshold")}
        sizes = [len(t["left"]) for t in trees]
        values = [np.asarray(t["value"], np.float32) for t in trees]
        width = max(v.shape[1] for v in values)
        self.T, self.n_outputs = len(trees), n_outputs
        # one flat array per field, tree after tree; a leaf's children are the leaf itself
        self.base = np.cumsum([0] + sizes[:-1])[None, :]
        offset = np.repeat(self.base[0], sizes)
        internal = flat["left"] >= 0
        node = np.arange(len(internal))
        self.feature_f = np.where(internal, flat["feature"], 0)
        self.threshold_f = np.where(internal, flat["threshold"], np.inf)
        self.left_f = np.where(internal, flat["left"] + offset, node)
        self.right_f = np.where(internal, flat["right"] + offset, node)
        self.value_f = np.concatenate([np.pad(v, ((0, 0), (0, width - v.shape[1]))) for v in values])
        # the depth: steps until every root has reached a leaf
        frontier, self.depth = self.base[0], 0
        while np.any(self.left_f[frontier] != frontier):
            frontier = np.unique(np.concatenate([self.left_f[frontier], self.right_f[frontier]]))
            self.depth += 1
        self.groups = np.asarray(groups)
        self.group_cols = [np.asarray(c) for c in group_cols]
        # A maps leaf values to outputs: a group's trees are averaged (forests) or added (boosting)
        A = np.zeros((self.T, width, n_outputs), np.float32)
        for g, cols in enumerate(self.group_cols):
            members = np.flatnonzero(self.groups == g)
            A[members[:, None], np.arange(len(cols)), cols] = 1.0 / len(members) if combine == "mean" else 1.0
        self.A = A.reshape(self.T * width, n_outputs)
        self.bias = np.zeros(n_outputs, np.float32) if bias is None else np.asarray(bias, np.float32)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Flat node index of the leaf each row reaches in each tree ``[shape=(n, T)]``."""
        node = np.repeat(self.base, len(X), axis=0)
        rows = np.arange(len(X))[:, None]
        for _ in range(self.depth):
            go_left = X[rows, self.feature_f[node]] <= self.threshold_f[node]
            node = np.where(go_left, self.left_f[node], self.right_f[node])
        return node

    def predict_leaves(self, node: np.ndarray) -> np.ndarray:
        """Combined predictions ``[shape=(n, n_outputs)]`` from the leaves ``node [shape=(n, T)]``."""
        return self.value_f[node].reshape(len(node), self.A.shape[0]) @ self.A + self.bias

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Combined predictions ``[shape=(n, n_outputs)]``."""
        return self.predict_leaves(self.leaves(X))


def sklearn_tree_arrays(tree) -> dict:
    """The arrays :class:`PackedTrees` needs (a dict, see there) from a scikit-learn ``tree_``."""
    return {"left": tree.children_left, "right": tree.children_right, "feature": tree.feature,
            "threshold": tree.threshold, "value": tree.value[:, :, 0]}


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
    learner = json.loads(booster.save_raw("json"))["learner"]
    base = np.atleast_1d(np.asarray(json.loads(learner["learner_model_param"]["base_score"]), dtype=np.float32))
    gbm = learner["gradient_booster"]["model"]
    trees, targets = [], []
    for t, target in zip(gbm["trees"], gbm["tree_info"]):
        k = max(int(t["tree_param"]["size_leaf_vector"]), 1)
        thr = np.asarray(t["split_conditions"], dtype=np.float32)
        # XGBoost goes left when x < threshold; for float32 x that is x <= the next float below
        thr_le = np.nextafter(thr, np.float32(-np.inf)).astype(np.float64)
        # scalar leaves keep their value in split_conditions, vector leaves in base_weights
        value = thr[:, None] if k == 1 else np.reshape(np.asarray(t["base_weights"], np.float32), (-1, k))
        targets.append(int(target) if k == 1 else -1)
        trees.append({"left": np.asarray(t["left_children"]), "right": np.asarray(t["right_children"]),
                      "feature": np.asarray(t["split_indices"]), "threshold": thr_le, "value": value})
    return trees, targets, base


class _PackedNextFrame(NextFrameModel):
    """Tree models' prediction: packed for small batches, by the library (``_predict_large``) else."""

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

    def _fit(self, Xf, Y):
        F = Y.shape[1]
        group_cols = np.arange(F).reshape(-1, 1) if self.per_output else np.arange(F)[None]
        self.estimators_ = [self._make(self.seed + g).fit(Xf, Y[:, cols[0]] if self.per_output else Y)
                            for g, cols in enumerate(group_cols)]
        per_group = [getattr(est, "estimators_", [est]) for est in self.estimators_]
        groups = [g for g, ests in enumerate(per_group) for _ in ests]
        trees = [e.tree_ for ests in per_group for e in ests]
        P = self.packed_ = PackedTrees([sklearn_tree_arrays(t) for t in trees], groups, group_cols, F)
        # for a few trees per group, which training rows end in each leaf (CSR over flat node ids)
        rows = pick_rows(len(Xf), self.max_sample_rows, self.seed + 1)
        Xs = Xf[rows]
        self.sample_Y_ = Y[rows]
        members = [np.flatnonzero(P.groups == g)[: self.sample_trees] for g in range(len(group_cols))]
        node_ids = np.concatenate([trees[t].apply(Xs).astype(np.int64) + P.base[0, t]
                                   for t in np.concatenate(members)])
        self.leaf_rows_ = np.argsort(node_ids, kind="stable") % len(Xs)  # len(Xs) node ids per tree
        self.leaf_start_ = np.concatenate([[0], np.cumsum(np.bincount(node_ids, minlength=len(P.left_f)))])
        # (n_groups, sample_trees): the trees a draw picks from (repeated where a group has fewer)
        self.sample_members_ = np.array([np.resize(m, self.sample_trees) for m in members])

    def _predict_large(self, Xf):
        return np.stack([e.predict(Xf) for e in self.estimators_], axis=-1)

    def sample(self, X, *, temperature: float = 1.0, rng=None) -> np.ndarray:
        """A draw of the next frames ``[shape=(n, n_features)]`` from the leaves reached (module docstring).

        Parameters
        ----------
        X : np.ndarray [shape=(n, n_rows, n_features)]
        temperature : float >= 0
            0 gives the mean (:meth:`predict`).
        rng : int, np.random.Generator or None
        """
        t = np.float32(check_number("temperature", temperature, low=0))
        Xf = check_fitted(self, "packed_", X)
        node = self.packed_.leaves(Xf)
        mean = self.packed_.predict_leaves(node).astype(np.float32)
        if t == 0:
            return mean
        rng = np.random.default_rng(rng)
        n, G = len(Xf), len(self.packed_.group_cols)
        trees = self.sample_members_[np.arange(G), rng.integers(self.sample_trees, size=(n, G))]  # (n, G)
        leaf = node[np.arange(n)[:, None], trees]
        start = self.leaf_start_[leaf]
        count = self.leaf_start_[leaf + 1] - start
        pick = np.minimum((rng.random((n, G)) * count).astype(np.int64), np.maximum(count - 1, 0))
        row = self.leaf_rows_[start + pick]
        # per output, group g predicts column g; else each draw is a whole training frame
        ex = self.sample_Y_[row, np.arange(G)] if self.per_output else self.sample_Y_[row[:, 0]]
        return ((np.float32(1) - t) * mean + t * ex).astype(np.float32)


class DecisionTreeNextFrame(_TreeNextFrame):
    """Decision-tree regression of the next frame (scikit-learn ``DecisionTreeRegressor``).

    Parameters
    ----------
    per_output : bool
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

    ``per_output=True`` grows separate trees per output (``multi_strategy="one_output_per_tree"``),
    ``False`` trees with vector leaves (``"multi_output_tree"``). No ``sample``: the roll-out adds
    training residuals as noise.

    Parameters
    ----------
    per_output : bool
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, n_jobs :
        XGBoost parameters.
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

    def _fit(self, Xf, Y):
        import xgboost

        strategy = "one_output_per_tree" if self.per_output else "multi_output_tree"
        self.model_ = xgboost.XGBRegressor(tree_method="hist", multi_strategy=strategy, n_jobs=self.n_jobs,
                                           random_state=self.seed, **self.params).fit(Xf, Y)
        self.booster_ = self.model_.get_booster()
        trees, targets, base = xgboost_tree_arrays(self.booster_)
        F = Y.shape[1]
        groups = targets if self.per_output else [0] * len(trees)
        group_cols = np.arange(F).reshape(-1, 1) if self.per_output else np.arange(F)[None]
        self.packed_ = PackedTrees(trees, groups, group_cols, F, combine="sum",
                                   bias=np.broadcast_to(base, (F,)))

    def _predict_large(self, Xf):
        return self.booster_.inplace_predict(Xf)
