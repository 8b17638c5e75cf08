"""musiclib.widgets.latent_explorer: principal-component sliders over a VAE's codes, live and static."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from musiclib import generate, widgets
from musiclib.errors import ParameterError

matplotlib.use("Agg")


class LinearDecoder:
    """A stand-in for a VAE's decoder: patches linear in z (so the PCA directions are easy to check)."""

    def __init__(self, latent_dim=6, n_frames=8, n_features=128, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, 3, size=(latent_dim, n_frames * n_features))
        self.shape = (n_frames, n_features)
        self.calls = []

    def decode(self, z, labels=None, *, noise_scale=0.0, seed=0):
        self.calls.append((np.array(z), labels, noise_scale, seed))
        x = -40.0 + np.asarray(z) @ self.W
        if noise_scale:
            x = x + noise_scale * np.random.default_rng(seed).normal(0, 2, size=x.shape)
        return x.reshape(len(z), *self.shape).astype(np.float32)


@pytest.fixture(scope="module")
def rep():
    return generate.default_representation()


@pytest.fixture
def codes():
    rng = np.random.default_rng(1)
    return rng.normal(size=(200, 6)) * np.array([3.0, 2.0, 1.0, 0.5, 0.1, 0.1])


def test_static_grid(rep, codes):
    model = LinearDecoder()
    grid = widgets.latent_explorer(model, codes, rep=rep, n_components=3, n_std=2.0, beat_frames=10, repeats=3,
                                   static=True)
    assert isinstance(grid, widgets.LatentGrid)
    assert len(grid.settings) == 1 + 2 * 3 and grid.settings[0] == (0.0, 0.0, 0.0)
    assert grid.settings[1] == (-2.0, 0.0, 0.0) and grid.settings[-1] == (0.0, 0.0, 2.0)
    assert all(p.shape == (8, 128) for p in grid.patches)
    # each clip: the patch 3 times at 10 frames each, cross-faded over 4, one inversion
    n = 3 * 10 + 4
    assert all(len(y) == rep.hop_length * (n - 1) and np.all(np.isfinite(y)) for y in grid.clips)
    # the mean code decodes to the mean of the codes; +-2 sigma along PC1 moves it symmetrically
    z0, zm, zp = (c[0][0] for c in model.calls[:3])
    np.testing.assert_allclose(z0, codes.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(zp - z0, z0 - zm, atol=1e-5)
    assert np.linalg.norm(zp - z0) == pytest.approx(2 * codes[:, 0].std(ddof=1), rel=0.1)  # PC1 is the first axis
    html = grid._repr_html_()
    assert html.count("<audio") == 7 and "data:image/png;base64," in html and "PC1" in html
    assert all(c[2] == 1.0 and c[3] == 0 for c in model.calls)  # one noise draw for every setting


def test_headless_gives_the_grid(rep, codes, monkeypatch):
    monkeypatch.setenv(widgets.ENV_HEADLESS, "1")
    grid = widgets.latent_explorer(LinearDecoder(), codes, rep=rep, n_components=2, label=3, noise_scale=0.0)
    assert isinstance(grid, widgets.LatentGrid) and len(grid.settings) == 5


def test_live_panel(rep, codes):
    pytest.importorskip("ipywidgets")
    model = LinearDecoder()
    panel = widgets.latent_explorer(model, codes, rep=rep, n_components=5, static=False)
    sliders = [w for box in panel.children[:-1] for w in box.children]
    assert len(sliders) == 5 and sliders[0].min == -2.0 and sliders[0].max == 2.0
    n = len(model.calls)
    sliders[1].value = 1.0  # moving a slider decodes a new patch
    assert len(model.calls) == n + 1
    sliders[1].value = 0.0  # and going back is cached
    assert len(model.calls) == n + 1


def test_bad_input(rep, codes):
    model = LinearDecoder()
    for kwargs, match in [({"n_components": 0}, "n_components"), ({"n_std": 0.0}, "n_std"),
                          ({"n_std": np.nan}, "n_std"), ({"repeats": 0}, "repeats")]:
        with pytest.raises(ParameterError, match=match):
            widgets.latent_explorer(model, codes, rep=rep, static=True, **kwargs)
    with pytest.raises(ParameterError, match="codes"):
        widgets.latent_explorer(model, codes[:1], rep=rep, static=True)
    bad = codes.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ParameterError, match="codes"):
        widgets.latent_explorer(model, bad, rep=rep, static=True)
