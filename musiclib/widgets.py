"""Interactive comparisons for notebooks, with a static fallback that survives HTML export.

:func:`compare_settings` builds an ipywidgets panel where the reader picks a window length, hop,
representation, phase-reconstruction method and number of iterations, and hears and sees the
result with its measured error, time and size. A live panel needs a running kernel; an executed
notebook exported to HTML (``make demo``) keeps only a placeholder. So notebooks also show
:func:`static_comparison`: the same measurements for a small grid of settings, as one table of
players that plays in any browser.

The computation lives in :func:`evaluate_setting`, a pure function the tests and benchmarks call.

Notebook: 01_spectrogram_settings.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence

import numpy as np

from musiclib.errors import ParameterError

__all__ = [
    "SPECTROGRAM_REPRESENTATIONS",
    "DEFAULT_GRID",
    "evaluate_setting",
    "static_comparison",
    "StaticComparison",
    "compare_settings",
    "widgets_available",
    "ENV_HEADLESS",
]

#: Representations the comparison offers (those whose decode needs phase reconstruction).
SPECTROGRAM_REPRESENTATIONS = ("linear", "log", "mel")

#: The settings :func:`static_comparison` measures by default: one change at a time from the
#: middle setting (log magnitude, n_fft 1024, hop n_fft/4, PGHI + 32 fast Griffin-Lim iterations).
DEFAULT_GRID = (
    {"representation": "log", "n_fft": 1024, "hop_length": 256, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "log", "n_fft": 1024, "hop_length": 256, "method": "pghi+fgla", "n_iter": 0},
    {"representation": "log", "n_fft": 1024, "hop_length": 256, "method": "gla", "n_iter": 32},
    {"representation": "log", "n_fft": 256, "hop_length": 64, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "log", "n_fft": 4096, "hop_length": 1024, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "log", "n_fft": 1024, "hop_length": 512, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "mel", "n_fft": 1024, "hop_length": 256, "n_mels": 128, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "mel", "n_fft": 1024, "hop_length": 256, "n_mels": 40, "method": "pghi+fgla", "n_iter": 32},
)


def _make_rep(representation, *, sr, n_fft, hop_length, n_mels):
    from musiclib.representations import make_representation

    if representation not in SPECTROGRAM_REPRESENTATIONS:
        raise ParameterError(
            f"representation={representation!r} must be one of {SPECTROGRAM_REPRESENTATIONS}"
        )
    params = {"sr": int(sr), "n_fft": n_fft, "hop_length": hop_length}
    if representation == "mel":
        params["n_mels"] = n_mels
    return make_representation(representation, **params)


def evaluate_setting(
    y: np.ndarray,
    *,
    sr: int,
    representation: str = "log",
    n_fft: int = 1024,
    hop_length: int | None = None,
    n_mels: int = 128,
    method: str = "pghi+fgla",
    n_iter: int = 32,
    seed: int = 0,
) -> dict:
    """Encode ``y`` with one setting, reconstruct it, and measure error, time and size.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio.
    sr : int
        Sample rate in Hz.
    representation : {"linear", "log", "mel"}
    n_fft : int
        Window length in samples (a power of two).
    hop_length : int, optional
        Hop in samples (default ``n_fft // 4``).
    n_mels : int
        Mel bands (``representation="mel"`` only; at most ``n_fft // 2 + 1``).
    method : str
        Phase reconstruction, one of :data:`musiclib.phase.METHODS`.
    n_iter : int
        Iterations of the phase reconstruction.
    seed : int
        Seed for methods with a random start.

    Returns
    -------
    dict
        - ``y_hat`` : np.ndarray [shape=(n_samples,)], the reconstruction;
        - ``sc_db``, ``lsd_db`` : spectral convergence and log-spectral distance in dB between the
          true STFT magnitude of ``y`` and that of ``y_hat`` at the same ``n_fft``/``hop_length``
          (for mel: against the true *linear* magnitude, so the information the bands drop counts);
        - ``seconds`` : wall time of encoding plus decoding;
        - ``real_time_factor`` : seconds of audio per second of that time;
        - ``n_frames``, ``n_features`` : shape of the encoded frames;
        - ``nbytes`` : their size as float32;
        - and the settings (``representation``, ``n_fft``, ``hop_length``, ``n_mels`` or None,
          ``method``, ``n_iter``).

    Raises
    ------
    ParameterError
        Bad representation, method, ``n_fft``, ``hop_length``, ``n_mels`` (e.g. more bands than
        bins), or ``y`` too short / not finite.

    Notes
    -----
    Notebook: 01_spectrogram_settings.

    Examples
    --------
    >>> from musiclib.synth import tone
    >>> r = evaluate_setting(tone(440.0, duration=1.0), sr=22050, n_fft=512, n_iter=8)
    >>> r["n_features"]
    257
    """
    from musiclib import phase
    from musiclib.evaluation import metrics

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"evaluate_setting() needs mono audio, got shape {y.shape}")
    if method not in phase.METHODS:
        raise ParameterError(f"method={method!r} must be one of {tuple(phase.METHODS)}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ParameterError(f"n_iter={n_iter!r} must be a non-negative integer")
    rep = _make_rep(representation, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    t0 = time.perf_counter()
    frames = rep.encode(y)
    y_hat = rep.decode(frames, method=method, n_iter=int(n_iter), length=len(y), seed=seed)
    seconds = time.perf_counter() - t0
    S_ref = np.abs(phase.stft(y, n_fft=rep.n_fft, hop_length=rep.hop_length))
    S_est = np.abs(phase.stft(np.asarray(y_hat, dtype=np.float32), n_fft=rep.n_fft, hop_length=rep.hop_length))
    n = min(S_ref.shape[1], S_est.shape[1])
    S_ref, S_est = S_ref[:, :n], S_est[:, :n]
    return {
        "representation": representation,
        "n_fft": int(rep.n_fft),
        "hop_length": int(rep.hop_length),
        "n_mels": int(rep.n_mels) if representation == "mel" else None,
        "method": method,
        "n_iter": int(n_iter),
        "y_hat": np.asarray(y_hat, dtype=np.float32),
        "sc_db": float(metrics.spectral_convergence(S_ref, S_est)),
        "lsd_db": float(metrics.log_spectral_distance(S_ref, S_est)),
        "seconds": float(seconds),
        "real_time_factor": float(len(y) / sr / seconds) if seconds > 0 else float("inf"),
        "n_frames": int(frames.shape[0]),
        "n_features": int(frames.shape[1]),
        "nbytes": int(frames.astype(np.float32, copy=False).nbytes),
    }


def _setting_label(r: Mapping) -> str:
    label = f"{r['representation']} n_fft={r['n_fft']} hop={r['hop_length']}"
    if r.get("n_mels"):
        label += f" mels={r['n_mels']}"
    return label + f", {r['method']} × {r['n_iter']}"


def _result_columns(r: Mapping) -> dict:
    return {
        "frames × features": f"{r['n_frames']} × {r['n_features']}",
        "kB": round(r["nbytes"] / 1024, 1),
        "SC (dB)": round(r["sc_db"], 1),
        "LSD (dB)": round(r["lsd_db"], 1),
        "seconds": round(r["seconds"], 2),
        "× real time": round(r["real_time_factor"], 1),
    }


class StaticComparison:
    """Measured settings as one HTML table of players; made by :func:`static_comparison`.

    Attributes
    ----------
    results : list of dict
        :func:`evaluate_setting`'s dicts (with ``y_hat``), in grid order.
    table : musiclib.display.AudioTable
        The original first, then one row per setting.
    """

    def __init__(self, results, table):
        self.results = results
        self.table = table

    def rows(self) -> list[dict]:
        """The numbers without the audio, for printing or a DataFrame."""
        return [{k: v for k, v in r.items() if k != "y_hat"} for r in self.results]

    def _repr_html_(self) -> str:
        return self.table._repr_html_()

    def __repr__(self) -> str:
        lines = [f"{'setting':<52} {'SC dB':>7} {'LSD dB':>7} {'s':>6} {'size':>12}"]
        for r in self.results:
            lines.append(
                f"{_setting_label(r):<52} {r['sc_db']:>7.1f} {r['lsd_db']:>7.1f} {r['seconds']:>6.2f} "
                f"{r['n_frames']:>5}×{r['n_features']:<6}"
            )
        return "\n".join(lines)


def static_comparison(
    y: np.ndarray,
    *,
    sr: int,
    settings: Sequence[Mapping] = DEFAULT_GRID,
    seed: int = 0,
    title: str | None = None,
) -> StaticComparison:
    """Measure a small grid of settings and show them as a table of players with the numbers.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
    settings : sequence of dict
        Keyword arguments of :func:`evaluate_setting` (all but ``y``, ``sr`` and ``seed``);
        default :data:`DEFAULT_GRID`.
    seed : int
    title : str, optional

    Returns
    -------
    StaticComparison
        Renders as one table: the original, then each reconstruction with its size, SC, LSD,
        time and real-time factor.

    Notes
    -----
    Notebook: 01_spectrogram_settings.
    """
    from musiclib.display import audio_table

    settings = list(settings)
    if not settings:
        raise ParameterError("static_comparison() got an empty settings grid")
    results = []
    for s in settings:
        if not isinstance(s, Mapping):
            raise ParameterError(f"each setting must be a dict of evaluate_setting() arguments, got {s!r}")
        results.append(evaluate_setting(y, sr=sr, seed=seed, **s))
    clips = [("original", (np.asarray(y, dtype=np.float32), {}))]
    clips += [(_setting_label(r), (r["y_hat"], _result_columns(r))) for r in results]
    title = title or "Reconstruction from the magnitude alone: SC and LSD against the original's STFT magnitude"
    return StaticComparison(results, audio_table(clips, sr=sr, title=title))


#: Environment variable that marks a kernel nobody is watching (``scripts/run_notebooks.py`` and the
#: notebook tests set it): :func:`compare_settings` then shows its static table, which an HTML export keeps.
ENV_HEADLESS = "MUSICLIB_HEADLESS"


def widgets_available() -> bool:
    """Whether a live ipywidgets panel can work here.

    True when ipywidgets imports, an IPython kernel is running, and ``$MUSICLIB_HEADLESS`` is not
    set (a notebook executed by papermill for a report has a kernel but no one to move the sliders).
    """
    import os

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
    methods: Sequence[str] | None = None,
    max_iter: int = 200,
    seed: int = 0,
    static: bool | None = None,
    settings: Sequence[Mapping] = DEFAULT_GRID,
):
    """An interactive panel comparing spectrogram settings by ear, by eye and by measurement.

    The reader picks the window length, hop (as a fraction of the window), representation, mel
    bands, phase method and iterations; on every change the clip is encoded and reconstructed, and
    the panel shows the representation, players for the original and the reconstruction, and the
    spectral convergence, time and size. Results are cached per setting, so going back is instant.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        A short mono clip (a few seconds keeps the panel responsive).
    sr : int
    n_ffts, hop_fractions, representations, n_mels_options, methods :
        The choices offered (``methods`` default: :data:`musiclib.phase.METHODS`).
    max_iter : int
        Upper end of the iterations slider.
    seed : int
    static : bool, optional
        ``True``: return :func:`static_comparison` of ``settings`` instead of a panel. ``None``
        (default): do so only when no live panel can work (:func:`widgets_available`: no kernel,
        no ipywidgets, or a headless run such as ``make demo``), so an executed notebook's HTML
        still holds players and numbers.
    settings : sequence of dict
        The grid for the static fallback.

    Returns
    -------
    ipywidgets.VBox or StaticComparison

    Notes
    -----
    Notebook: 01_spectrogram_settings. An exported HTML page cannot run the panel; executed
    headless (``$MUSICLIB_HEADLESS``, set by ``scripts/run_notebooks.py``) this returns the static
    table instead. To show both in any case, display the panel and then :func:`static_comparison`.
    """
    from musiclib import phase

    y = np.asarray(y, dtype=np.float32)
    if static is None:
        static = not widgets_available()
    if static:
        return static_comparison(y, sr=sr, settings=settings, seed=seed)

    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    from musiclib.display import audio_table, plot_representation

    methods = tuple(methods or phase.METHODS)
    fractions = {f"1/{round(1 / f)}" if f < 1 else "1": float(f) for f in hop_fractions}
    w_fft = W.Dropdown(options=[int(n) for n in n_ffts], value=1024 if 1024 in n_ffts else int(n_ffts[0]), description="n_fft")
    w_hop = W.Dropdown(options=list(fractions), value="1/4" if "1/4" in fractions else next(iter(fractions)), description="hop / n_fft")
    w_rep = W.ToggleButtons(options=list(representations), value=representations[0] if "log" not in representations else "log", description="representation")
    w_mels = W.Dropdown(options=[int(m) for m in n_mels_options], value=128 if 128 in n_mels_options else int(n_mels_options[0]), description="n_mels")
    w_method = W.Dropdown(options=list(methods), value="pghi+fgla" if "pghi+fgla" in methods else methods[0], description="phase")
    w_iter = W.IntSlider(value=32, min=0, max=max_iter, step=1, description="iterations", continuous_update=False)
    out = W.Output()
    cache: dict[tuple, dict] = {}

    def current():
        n_fft = int(w_fft.value)
        return {
            "representation": w_rep.value,
            "n_fft": n_fft,
            "hop_length": max(1, int(n_fft * fractions[w_hop.value])),
            "n_mels": int(w_mels.value),
            "method": w_method.value,
            "n_iter": int(w_iter.value),
        }

    def update(_change=None):
        s = current()
        w_mels.disabled = s["representation"] != "mel"
        key = tuple(s.values()) if s["representation"] == "mel" else tuple(v for k, v in s.items() if k != "n_mels")
        with out:
            out.clear_output(wait=True)
            try:
                if key not in cache:
                    cache[key] = evaluate_setting(y, sr=sr, seed=seed, **s)
                r = cache[key]
            except ParameterError as e:
                display(HTML(f"<p style='color:#b00'>{html.escape(str(e))}</p>"))
                return
            rep = _make_rep(s["representation"], sr=sr, n_fft=s["n_fft"], hop_length=s["hop_length"], n_mels=s["n_mels"])
            fig, ax = plt.subplots(figsize=(9, 3))
            plot_representation(rep.encode(y), rep, ax=ax)
            display(fig)
            plt.close(fig)
            display(audio_table([("original", y), (_setting_label(r), (r["y_hat"], _result_columns(r)))], sr=sr))

    for w in (w_fft, w_hop, w_rep, w_mels, w_method, w_iter):
        w.observe(update, names="value")
    update()
    controls = W.VBox([W.HBox([w_fft, w_hop, w_mels]), w_rep, W.HBox([w_method, w_iter])])
    return W.VBox([controls, out])


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

    The "network driven by switches" of an earlier experiment (after Avant-Garfield): the training
    patches' posterior means are reduced to their principal components (scikit-learn's PCA); each
    of the top ``n_components`` gets a slider from ``-n_std`` to ``+n_std`` standard deviations
    around the mean code. On every move the latent ``mean + sum_i s_i * std_i * component_i`` is
    decoded (``model.decode``), the patch is repeated ``repeats`` times at ``beat_frames`` frames
    each and stitched (:func:`musiclib.patches.sequence_to_audio`, one inversion), and the panel
    shows its spectrogram and a player. Results are cached per setting.

    Like :func:`compare_settings`, it falls back to a static grid where no live panel can work
    (:func:`widgets_available`: headless runs such as ``make demo``, or no kernel): each component
    at ``-n_std``, ``0`` (the mean code, once) and ``+n_std`` with the others at 0, as one figure of
    spectrograms and one table of players, which an exported HTML page keeps.

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
        The decoder's noise (0: its mean; 1: a draw, the same ``seed`` for every setting, so only the
        sliders change the sound).
    guard : musiclib.generate.StabilityGuard, optional
        Applied to the stitched frames before the inversion (far out on a component, a decoder can
        overshoot the training data's range).
    seed : int
    static : bool, optional
        ``True``: the static grid; ``None``: the grid only where no live panel can work.

    Returns
    -------
    ipywidgets.VBox or LatentGrid
        The live panel, or the grid (``.settings``, ``.patches``, ``.clips``, ``.figure``,
        ``.table``; renders as the figure and the table).

    Notes
    -----
    Notebook: 05_vae.
    """
    from sklearn.decomposition import PCA

    from musiclib.display import audio_table, plot_representation
    from musiclib.patches import sequence_to_audio

    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 2 or not np.all(np.isfinite(codes)):
        raise ParameterError(f"codes must be finite, of shape (n >= 2, latent_dim), got {codes.shape}")
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ParameterError(f"n_components={n_components!r} must be a positive integer")
    n_components = int(min(n_components, *codes.shape))
    if not np.isfinite(n_std) or n_std <= 0:
        raise ParameterError(f"n_std={n_std!r} must be a positive number of standard deviations")
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ParameterError(f"repeats={repeats!r} must be a positive integer")
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
    if static is None:
        static = not widgets_available()
    if static:
        import matplotlib.pyplot as plt

        settings = [tuple([0.0] * n_components)]
        for i in range(n_components):
            for s in (-n_std, n_std):
                settings.append(tuple(s if j == i else 0.0 for j in range(n_components)))
        patches = [patch_at(s) for s in settings]
        clips = [audio_of(p) for p in patches]
        cols = 1 + 2 * n_components
        fig, axes = plt.subplots(1, cols, figsize=(1.6 * cols, 2.6), sharey=True)
        for ax, s, p in zip(np.atleast_1d(axes), settings, patches):
            plot_representation(p, rep, ax=ax, title=name(s).replace(", ", "\n"), colorbar=False)
            ax.set_xlabel("")
            ax.label_outer()
        fig.suptitle(f"decoded patches along the top {n_components} principal components of the training codes "
                     f"({100 * explained.sum():.0f} % of their variance)")
        plt.close(fig)
        rows = [(name(s), (y, {f"PC{i + 1}": round(v, 2) for i, v in enumerate(s)})) for s, y in zip(settings, clips)]
        table = audio_table(rows, sr=rep.sr, title=f"latent explorer (static): each patch played {repeats} times")
        return LatentGrid(settings, patches, clips, fig, table)

    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    sliders = [W.FloatSlider(value=0.0, min=-n_std, max=n_std, step=0.25, continuous_update=False,
                             description=f"PC{i + 1} ({100 * explained[i]:.0f} %)", style={"description_width": "initial"})
               for i in range(n_components)]
    out = W.Output()
    cache: dict = {}

    def update(_change=None):
        setting = tuple(float(s.value) for s in sliders)
        if setting not in cache:
            p = patch_at(setting)
            cache[setting] = (p, audio_of(p))
        p, y = cache[setting]
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5, 3))
            plot_representation(p, rep, ax=ax, title=name(setting))
            display(fig)
            plt.close(fig)
            display(audio_table([(name(setting), y)], sr=rep.sr))

    for s in sliders:
        s.observe(update, names="value")
    update()
    return W.VBox([W.HBox(sliders[:2]), W.HBox(sliders[2:4]), *([W.HBox(sliders[4:])] if n_components > 4 else []),
                   out])


class LatentGrid:
    """The static form of :func:`latent_explorer`: a figure of decoded patches and a table of players.

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
        import base64
        import io

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", bbox_inches="tight")
        img = base64.b64encode(buf.getvalue()).decode("ascii")
        return f'<div><img src="data:image/png;base64,{img}"/></div>' + self.table._repr_html_()

    def __repr__(self) -> str:
        return f"LatentGrid({len(self.settings)} settings)"
