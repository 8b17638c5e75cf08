"""Interactive comparisons for notebooks, with a static fallback that survives HTML export.

:func:`compare_settings` is an ipywidgets panel to pick spectrogram settings and hear, see and
measure (:func:`musiclib.evaluation.sweep.decode_ceiling`) the reconstruction; :func:`latent_explorer`
puts sliders on a VAE's latent space. A live panel needs a running kernel and an exported HTML page
keeps only a placeholder, so where none can work (:func:`widgets_available`) both show a static
grid instead: spectrograms and one table of players that work in any browser.

Notebooks: 01_spectrogram_settings, 05_vae (:func:`latent_explorer`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence

import numpy as np

from musiclib.errors import ParameterError, check_int, check_number, check_positive

__all__ = [
    "SPECTROGRAM_REPRESENTATIONS",
    "DEFAULT_GRID",
    "DISPLAY_STFT",
    "evaluate_setting",
    "plot_reconstructions",
    "static_comparison",
    "StaticComparison",
    "compare_settings",
    "latent_explorer",
    "LatentGrid",
    "widgets_available",
    "ENV_HEADLESS",
]

#: Representations the comparison offers (those whose decode needs phase reconstruction).
SPECTROGRAM_REPRESENTATIONS = ("linear", "log", "mel", "logfreq")

#: The STFT every spectrogram here is drawn with (window, hop), whatever the setting: so that
#: pictures of different settings differ only by what the settings lost.
DISPLAY_STFT = (1024, 256)

#: The settings :func:`static_comparison` measures by default: one change at a time from the
#: middle setting (log magnitude, n_fft 1024, hop 256, PGHI + 32 fast Griffin-Lim iterations).
DEFAULT_GRID = (
    {"representation": "log", "n_fft": 1024, "hop_length": 256, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "log", "n_fft": 1024, "hop_length": 256, "method": "pghi", "n_iter": 0},
    {"representation": "log", "n_fft": 1024, "hop_length": 256, "method": "gla", "n_iter": 32},
    {"representation": "log", "n_fft": 4096, "hop_length": 1024, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "log", "n_fft": 1024, "hop_length": 512, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "mel", "n_fft": 1024, "hop_length": 256, "n_mels": 128, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "logfreq", "n_fft": 1024, "hop_length": 256, "bins_per_octave": 48, "method": "pghi+fgla",
     "n_iter": 32},
)


def evaluate_setting(
    y: np.ndarray,
    *,
    sr: int,
    representation: str = "log",
    n_fft: int = 1024,
    hop_length: int | None = None,
    method: str = "pghi+fgla",
    n_iter: int = 32,
    seed: int = 0,
    **params,
) -> dict:
    """Encode ``y`` with one setting, reconstruct it, and measure error, time and size.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio, not silent.
    sr : int
        Sample rate in Hz.
    representation : {"linear", "log", "mel", "logfreq"}
    n_fft : int
        Window length in samples (a power of two).
    hop_length : int, optional
        Hop in samples (default ``n_fft // 4``).
    method, n_iter, seed :
        Phase reconstruction (:data:`musiclib.phase.METHODS`), its iterations and seed.
    **params :
        The representation's own parameters, e.g. ``n_mels=128`` or ``bins_per_octave=48``.

    Returns
    -------
    dict
        :func:`musiclib.evaluation.sweep.decode_ceiling`'s keys with ``y_hat`` (the
        reconstruction), plus ``params``.

    Raises
    ------
    ParameterError
        A representation not in :data:`SPECTROGRAM_REPRESENTATIONS`, or any bad setting or signal.
    """
    from musiclib.evaluation.sweep import decode_ceiling
    from musiclib.representations import make_representation

    if representation not in SPECTROGRAM_REPRESENTATIONS:
        raise ParameterError(f"representation={representation!r} must be one of {SPECTROGRAM_REPRESENTATIONS}")
    rep = make_representation(representation, sr=sr, n_fft=n_fft, hop_length=hop_length, **params)
    result = decode_ceiling(y, sr=sr, rep=rep, method=method, n_iter=n_iter, seed=seed, keep_audio=True)
    return {**result, "params": dict(params)}


def _columns(r: Mapping) -> dict:
    return {
        "features × frames/s": f"{r['n_features']} × {r['frames_per_second']:.1f}",
        "SC (dB)": round(r["sc_db"], 1),
        "LSD (dB)": round(r["lsd_db"], 1),
        "seconds": round(r["seconds"], 2),
        "× real time": round(r["real_time_factor"], 1),
    }


def _title(r: Mapping) -> str:
    return f"{r['label']}, {r['method']} × {r['n_iter']}"


def plot_reconstructions(y: np.ndarray, results: Sequence[Mapping], *, sr: int, axes=None):
    """The original's spectrogram beside each reconstruction's, all on :data:`DISPLAY_STFT`.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The original.
    results : sequence of dict
        :func:`evaluate_setting`'s results (with ``y_hat``).
    sr : int
    axes : sequence of matplotlib Axes, optional
        At least ``1 + len(results)``; default a new figure, four panels a row.

    Returns
    -------
    np.ndarray of Axes
    """
    import matplotlib.pyplot as plt

    from musiclib import phase
    from musiclib.display import plot_spectrogram

    n_fft, hop = DISPLAY_STFT
    panels = [("original", y)] + [(f"{_title(r)}\nSC {r['sc_db']:.1f} dB", r["y_hat"]) for r in results]
    if axes is None:
        n_cols = min(4, len(panels))
        n_rows = -(-len(panels) // n_cols)
        _, axes = plt.subplots(n_rows, n_cols, figsize=(4 * n_cols, 3 * n_rows), squeeze=False, constrained_layout=True)
    axes = np.ravel(axes)
    if axes.size < len(panels):
        raise ParameterError(f"plot_reconstructions() needs {len(panels)} axes, got {axes.size}")
    for ax, (text, clip) in zip(axes, panels):
        S = np.abs(phase.stft(np.asarray(clip, dtype=np.float32), n_fft=n_fft, hop_length=hop))
        plot_spectrogram(S, sr=sr, hop_length=hop, ax=ax, colorbar=False)
        ax.set_title(text, fontsize=9)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return axes


class StaticComparison:
    """Measured settings as spectrograms and one table of players; made by :func:`static_comparison`.

    A notebook shows the spectrograms (:func:`plot_reconstructions`), then the table; its HTML is the table.

    Attributes
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
    results : list of dict
        :func:`evaluate_setting`'s dicts (with ``y_hat``), in grid order.
    table : musiclib.display.AudioTable
        The original first, then one row per setting.
    """

    def __init__(self, y, sr, results, table):
        self.y, self.sr, self.results, self.table = y, sr, results, table

    def rows(self):
        """The numbers without the audio, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in r.items() if k not in ("y_hat", "params")} for r in self.results])

    def _repr_html_(self) -> str:
        return self.table._repr_html_()

    def _ipython_display_(self):
        _show(plot_reconstructions(self.y, self.results, sr=self.sr)[0].figure, self.table)

    def __repr__(self) -> str:
        return "\n".join(f"{_title(r):<48} SC {r['sc_db']:6.1f} dB  {r['seconds']:6.2f} s" for r in self.results)


def static_comparison(
    y: np.ndarray,
    *,
    sr: int,
    settings: Sequence[Mapping] = DEFAULT_GRID,
    seed: int = 0,
    title: str | None = None,
) -> StaticComparison:
    """Measure a small grid of settings; show spectrograms and a table of players with the numbers.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
    settings : sequence of dict
        Keyword arguments of :func:`evaluate_setting` (all but ``y``, ``sr`` and ``seed``).
    seed : int
    title : str, optional

    Returns
    -------
    StaticComparison
    """
    from musiclib.display import audio_table

    settings = list(settings)
    if not settings or not all(isinstance(s, Mapping) for s in settings):
        raise ParameterError(f"settings must be a non-empty list of evaluate_setting() arguments, got {settings!r}")
    y = np.asarray(y, dtype=np.float32)
    results = [evaluate_setting(y, sr=sr, seed=seed, **s) for s in settings]
    clips = [("original", (y, {}))] + [(_title(r), (r["y_hat"], _columns(r))) for r in results]
    title = title or "Reconstruction from the frames alone: SC and LSD against the original's STFT magnitude"
    return StaticComparison(y, sr, results, audio_table(clips, sr=sr, title=title))


#: Environment variable that marks a kernel nobody is watching (set by ``scripts/run_notebooks.py``).
ENV_HEADLESS = "MUSICLIB_HEADLESS"


def widgets_available() -> bool:
    """Whether a live panel can work: ipywidgets imports, a kernel runs, :data:`ENV_HEADLESS` is unset."""
    if os.environ.get(ENV_HEADLESS, "") not in ("", "0"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def compare_settings(
    y: np.ndarray,
    *,
    sr: int,
    n_ffts: Sequence[int] = (256, 512, 1024, 2048, 4096),
    hop_fractions: Sequence[float] = (1 / 2, 1 / 4, 1 / 8),
    representations: Sequence[str] = SPECTROGRAM_REPRESENTATIONS,
    n_mels_options: Sequence[int] = (32, 64, 128, 256),
    bins_per_octave_options: Sequence[int] = (12, 24, 48, 96),
    methods: Sequence[str] | None = None,
    max_iter: int = 200,
    seed: int = 0,
    static: bool | None = None,
    settings: Sequence[Mapping] = DEFAULT_GRID,
):
    """An interactive panel comparing spectrogram settings by ear, by eye and by measurement.

    On every change of a setting the clip is encoded and reconstructed (cached per setting), and
    the panel shows both spectrograms, players for both, and the error, time and size.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        A short mono clip (a few seconds keeps the panel responsive).
    sr : int
    n_ffts, hop_fractions, representations, n_mels_options, bins_per_octave_options, methods :
        The choices offered (``methods`` default: :data:`musiclib.phase.METHODS`).
    max_iter : int
        Upper end of the iterations slider.
    seed : int
    static : bool, optional
        ``True``: return :func:`static_comparison` of ``settings`` instead of a panel; ``None``
        (default): only when no live panel can work (:func:`widgets_available`).
    settings : sequence of dict
        The grid for the static form.

    Returns
    -------
    ipywidgets.VBox or StaticComparison
    """
    from musiclib import phase

    y = np.asarray(y, dtype=np.float32)
    if static or (static is None and not widgets_available()):
        return static_comparison(y, sr=sr, settings=settings, seed=seed)

    import ipywidgets as W
    import matplotlib.pyplot as plt

    from musiclib.display import audio_table

    def choice(options, preferred):
        return preferred if preferred in options else options[0]

    methods = tuple(methods or phase.METHODS)
    fractions = {f"1/{round(1 / f)}" if f < 1 else "1": float(f) for f in hop_fractions}
    n_ffts, mels, bpos = [int(n) for n in n_ffts], [int(m) for m in n_mels_options], [int(b) for b in bins_per_octave_options]
    w_fft = W.Dropdown(options=n_ffts, value=choice(n_ffts, 1024), description="n_fft")
    w_hop = W.Dropdown(options=list(fractions), value=choice(list(fractions), "1/4"), description="hop / n_fft")
    w_rep = W.ToggleButtons(options=list(representations), value=choice(list(representations), "log"),
                            description="representation")
    w_mels = W.Dropdown(options=mels, value=choice(mels, 128), description="n_mels")
    w_bpo = W.Dropdown(options=bpos, value=choice(bpos, 48), description="bins/octave")
    w_method = W.Dropdown(options=list(methods), value=choice(list(methods), "pghi+fgla"), description="phase")
    w_iter = W.IntSlider(value=32, min=0, max=max_iter, step=1, description="iterations", continuous_update=False)

    def setting():
        extra = {"mel": {"n_mels": int(w_mels.value)}, "logfreq": {"bins_per_octave": int(w_bpo.value)}}
        w_mels.disabled, w_bpo.disabled = w_rep.value != "mel", w_rep.value != "logfreq"
        return {"representation": w_rep.value, "n_fft": int(w_fft.value),
                "hop_length": max(1, int(w_fft.value * fractions[w_hop.value])),
                "method": w_method.value, "n_iter": int(w_iter.value), **extra.get(w_rep.value, {})}

    def show(_setting, r):
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), constrained_layout=True)
        plot_reconstructions(y, [r], sr=sr, axes=axes)
        _show(fig, audio_table([("original", y), (_title(r), (r["y_hat"], _columns(r)))], sr=sr))

    controls = W.VBox([W.HBox([w_fft, w_hop]), w_rep, W.HBox([w_mels, w_bpo]), W.HBox([w_method, w_iter])])
    return _live_panel((w_fft, w_hop, w_rep, w_mels, w_bpo, w_method, w_iter), [controls], setting=setting,
                       compute=lambda s: evaluate_setting(y, sr=sr, seed=seed, **s), show=show)


def _show(fig, table):
    """Display ``fig`` (then close it, so pyplot does not show it again) and ``table``."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)
    display(table)


def _live_panel(controls, rows, *, setting, compute, show):
    """``rows`` (widget boxes) above an output area that shows ``show(s, compute(s))`` for ``s = setting()``
    whenever one of ``controls`` changes; results are cached per setting, a ParameterError is shown as a
    message."""
    import ipywidgets as W
    from IPython.display import HTML, display

    out = W.Output()
    cache: dict = {}

    def update(_change=None):
        s = setting()
        key = tuple(sorted(s.items())) if isinstance(s, Mapping) else s
        with out:
            out.clear_output(wait=True)
            try:
                if key not in cache:
                    cache[key] = compute(s)
            except ParameterError as e:
                display(HTML(f"<p style='color:#b00'>{html.escape(str(e))}</p>"))
                return
            show(s, cache[key])

    for w in controls:
        w.observe(update, names="value")
    update()
    return W.VBox([*rows, out])


# -- the latent explorer (notebooks/05_vae) ----------------------------------------------------------


def latent_explorer(
    model,
    codes: np.ndarray,
    *,
    rep,
    n_components: int = 4,
    n_std: float = 2.0,
    beat_frames: int | None = None,
    repeats: int = 4,
    overlap: int = 4,
    label: int | None = None,
    noise_scale: float = 1.0,
    guard=None,
    seed: int = 0,
    static: bool | None = None,
):
    """Sliders on the top principal components of a VAE's training codes: decode, hear and see the patch.

    Each of the top ``n_components`` principal components (scikit-learn's PCA) of the codes gets a
    slider in standard deviations around the mean code; the latent
    ``mean + sum_i s_i * std_i * component_i`` is decoded, the patch repeated and stitched
    (:func:`musiclib.patches.sequence_to_audio`), and shown with a player. The static grid has the
    mean code and each component alone at ``-n_std`` and ``+n_std``.

    Parameters
    ----------
    model : object with ``decode(z, labels, *, noise_scale, seed) -> patches``
        E.g. :class:`musiclib.models.vae.PatchVAE`; ``patches [shape=(n, n_frames, rep.n_features)]``.
    codes : np.ndarray [shape=(n, latent_dim)]
        The training patches' codes (``model.encode(train)[0]``).
    rep : Representation
        The patches' representation (for the inversion and the plot).
    n_components : int
        Sliders (at most ``min(n, latent_dim)``).
    n_std : float > 0
        Slider range in standard deviations of each component.
    beat_frames : int, optional
        Frames each repetition of the patch lasts (default: the patch's own length).
    repeats : int
        How often the patch is played in a row (a single beat is short to judge by ear).
    overlap : int
        Cross-fade frames between repetitions.
    label : int, optional
        Conditional VAE: the label to decode with (default: "any label").
    noise_scale : float
        The decoder's noise (0: its mean; 1: one draw with ``seed``, the same for every setting).
    guard : musiclib.generate.StabilityGuard, optional
        Applied to the stitched frames before the inversion (a decoder far out can overshoot).
    seed : int
    static : bool, optional
        ``True``: the static grid; ``None``: the grid only where no live panel can work.

    Returns
    -------
    ipywidgets.VBox or LatentGrid
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    from musiclib.display import audio_table, plot_representation
    from musiclib.patches import sequence_to_audio

    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 2 or not np.all(np.isfinite(codes)):
        raise ParameterError(f"codes must be finite, of shape (n >= 2, latent_dim), got {codes.shape}")
    n_components = min(check_int("n_components", n_components), *codes.shape)
    n_std = check_positive("n_std", n_std)
    repeats = check_int("repeats", repeats)
    overlap = check_int("overlap", overlap, low=0)
    beat_frames = check_int("beat_frames", beat_frames, allow_none=True)
    label = check_int("label", label, low=0, allow_none=True)
    noise_scale = check_number("noise_scale", noise_scale, low=0)
    seed = check_int("seed", seed, low=0)
    pca = PCA(n_components=n_components, random_state=seed).fit(codes)
    std = np.sqrt(pca.explained_variance_)

    def patch_at(setting):
        z = pca.mean_ + (np.asarray(setting) * std) @ pca.components_
        labels = None if label is None else np.array([int(label)])
        return np.asarray(model.decode(z[None].astype(np.float32), labels, noise_scale=noise_scale, seed=seed))[0]

    def audio_of(patch):
        n = patch.shape[0] if beat_frames is None else int(beat_frames)
        return sequence_to_audio(np.repeat(patch[None], repeats, axis=0), rep, lengths=np.full(repeats, n),
                                 overlap=overlap, guard=guard, seed=seed)

    def name(setting):
        moved = [f"PC{i + 1} {s:+.1f}σ" for i, s in enumerate(setting) if s]
        return ", ".join(moved) or "mean code"

    explained = pca.explained_variance_ratio_
    if static or (static is None and not widgets_available()):
        settings = [(0.0,) * n_components] + [tuple(s if j == i else 0.0 for j in range(n_components))
                                               for i in range(n_components) for s in (-n_std, n_std)]
        patches = [patch_at(s) for s in settings]
        clips = [audio_of(p) for p in patches]
        fig, axes = plt.subplots(1, len(settings), figsize=(1.6 * len(settings), 2.6), sharey=True)
        for ax, s, p in zip(np.atleast_1d(axes), settings, patches):
            plot_representation(p, rep, ax=ax, title=name(s).replace(", ", "\n"), colorbar=False)
            ax.set_xlabel("")
            ax.label_outer()
        fig.suptitle(f"decoded patches along the top {n_components} principal components of the training "
                     f"codes ({100 * explained.sum():.0f} % of their variance)")
        plt.close(fig)
        rows = [(name(s), (y, {f"PC{i + 1}": round(v, 2) for i, v in enumerate(s)}))
                for s, y in zip(settings, clips)]
        title = f"latent explorer (static): each patch played {repeats} times"
        return LatentGrid(settings, patches, clips, fig, audio_table(rows, sr=rep.sr, title=title))

    import ipywidgets as W

    sliders = [W.FloatSlider(value=0.0, min=-n_std, max=n_std, step=0.25, continuous_update=False,
                             description=f"PC{i + 1} ({100 * explained[i]:.0f} %)", style={"description_width": "initial"})
               for i in range(n_components)]

    def compute(setting):
        p = patch_at(setting)
        return p, audio_of(p)

    def show(setting, result):
        fig, ax = plt.subplots(figsize=(5, 3))
        plot_representation(result[0], rep, ax=ax, title=name(setting))
        _show(fig, audio_table([(name(setting), result[1])], sr=rep.sr))

    rows = [W.HBox(sliders[k : k + 2]) for k in (0, 2)] + ([W.HBox(sliders[4:])] if n_components > 4 else [])
    return _live_panel(sliders, rows, setting=lambda: tuple(float(w.value) for w in sliders), compute=compute,
                       show=show)


class LatentGrid:
    """The static form of :func:`latent_explorer`: a figure of decoded patches, then a table of players.

    Attributes
    ----------
    settings : list of tuple
        Each setting's position on the components, in standard deviations.
    patches : list of np.ndarray [shape=(n_frames, n_features)]
    clips : list of np.ndarray [shape=(n_samples,)]
    figure : matplotlib.figure.Figure
    table : musiclib.display.AudioTable
    """

    def __init__(self, settings, patches, clips, figure, table):
        self.settings, self.patches, self.clips, self.figure, self.table = settings, patches, clips, figure, table

    def _repr_html_(self) -> str:
        return self.table._repr_html_()

    def _ipython_display_(self):
        _show(self.figure, self.table)

    def __repr__(self) -> str:
        return f"LatentGrid({len(self.settings)} settings)"
