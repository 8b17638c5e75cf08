#!/usr/bin/env python
"""Execute the notebook series with papermill and export an HTML report.

    .venv/bin/python scripts/run_notebooks.py --mode demo --out build [--only 00,01]

For every ``notebooks/NN_name.ipynb`` (in order) this

1. executes it with ``MODE=<mode>`` into ``<out>/notebooks/NN_name.ipynb``;
2. exports it to ``<out>/report/NN_name.html``: one self-contained page (figures and audio embedded,
   no remote script), titled with the notebook's title, code cells folded into ``<details>``,
   formulas as MathML, every figure with an ``alt`` text from its titles
   (``musiclib.display.setup_notebook`` attaches it);
3. records its status, time and headline (the sentence shown with ``musiclib.display.headline``)
   in ``<out>/report/NN_name.json``;

and then links the pages (:func:`link_pages`): every page gets Previous / Index / Next links to the
pages of the report, in series order, and its own links to ``NN_name.ipynb`` are pointed at
``NN_name.html`` (a link to a series notebook that is not in the report loses its ``href``; a link
to anything else that does not exist is reported as dead, and ``tests/test_gallery.py`` fails on
it). Last it writes ``<out>/report/index.html``: per notebook its title, question, headline, status
and time. ``08_compare`` (the comparison of all approaches), when it exists, is shown first. A
failing notebook does not stop the others; the script exits non-zero at the end if any failed.
Files are written atomically (temporary name, then ``os.replace``).

The test suite (``tests/test_notebooks.py``) uses :func:`execute` from here, so the report and the
tests run notebooks the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import html
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
MODES = ("small", "demo", "full")
COMPARE = "08_compare"
#: printed output longer than this many lines is folded in the report (see the template)
FOLD_LINES = 30
NOTEBOOK_RE = re.compile(r"^(\d\d)_[A-Za-z0-9_]+\.ipynb$")


# -- discovery and metadata -------------------------------------------------------------------------


def series(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered notebooks ``NN_name.ipynb`` in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if NOTEBOOK_RE.match(p.name))


def describe(path: Path) -> dict:
    """Title (first markdown heading) and question (first paragraph after it) of a notebook."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    title, question = path.stem, ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", cell.source) if p.strip()]
        for p in paragraphs:
            if p.startswith("#"):
                if title == path.stem:
                    title = p.splitlines()[0].lstrip("#").strip()
                    rest = "\n".join(p.splitlines()[1:]).strip()
                    if rest and not question:
                        question = rest
            elif not question:
                question = p
        if title != path.stem and question:
            break
    return {"title": title, "question": " ".join(question.split())}


# -- kernel ---------------------------------------------------------------------------------------


def kernel_name() -> str:
    """A kernelspec that runs this interpreter (``sys.executable``), registering one if needed.

    The usual ``python3`` spec (argv ``python -m ipykernel_launcher``) is launched by jupyter_client
    with the current interpreter, which is what we want. If no such spec exists, one named
    ``python3`` is written to a private folder placed first on ``JUPYTER_PATH``, so nothing is
    installed anywhere and a user-level spec for another Python cannot shadow it.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        exe = spec.argv[0]
        if exe in ("python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}") or (
            os.path.exists(exe) and os.path.samefile(exe, sys.executable)
        ):
            return "python3"
    except NoSuchKernel:
        pass
    folder = Path(tempfile.mkdtemp(prefix="musiclib-kernels-"))
    spec_dir = folder / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (musiclib)",
                "language": "python",
            }
        )
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(folder), *filter(None, [os.environ.get("JUPYTER_PATH")])])
    return "python3"


@contextlib.contextmanager
def _kernel_env():
    """Environment for the kernel while it starts, restored afterwards.

    ``musiclib`` is importable even without ``pip install -e .``; figures render inline even when
    the caller set ``MPLBACKEND=Agg``; ``musiclib.widgets`` shows static tables instead of live
    panels (``MUSICLIB_HEADLESS``), so the HTML report holds results; TensorFlow logs nothing below
    errors (``TF_CPP_MIN_LOG_LEVEL=3`` unless set).
    """
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    wanted = {
        "PYTHONPATH": os.pathsep.join([str(REPO), *(p for p in paths if p != str(REPO))]),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # quiets a debugger warning on every start
        "MUSICLIB_HEADLESS": "1",  # nobody moves sliders here: widgets show their static form
    }
    # TensorFlow's C++/XLA/CUDA log lines stay out of the notebooks even when one imports TF before
    # musiclib.display.setup_notebook (which sets the same default); a value the caller set is kept
    wanted["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- execution and export -------------------------------------------------------------------------


def _readable(path) -> None:
    """Give a file from ``mkstemp`` (mode 0600) the permissions a normal file gets under the umask."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        _readable(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _error_line(exc: BaseException) -> str:
    """The last informative line of an error (papermill's carries the notebook's exception)."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        last = f"{ename}: {evalue}" if evalue else ename
    else:
        last = f"{type(exc).__name__}: {exc}"
    lines = [ln for ln in str(last).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def execute(
    path: Path,
    output: Path,
    *,
    mode: str,
    parameters: dict | None = None,
    cell_timeout: int | None = None,
    log_output: bool = False,
) -> dict:
    """Execute one notebook with papermill into ``output`` (written atomically).

    The notebook runs with its own folder as the working directory and ``MODE=mode`` plus
    ``parameters`` injected after its ``parameters`` cell. What compiled code writes straight to
    the process's stdout/stderr (log lines of TensorFlow's C++ core) stays out of the notebook and
    appears on this process's stderr instead.

    Returns
    -------
    dict
        ``{"notebook", "status" ("ok"|"failed"), "error" (last line or None), "seconds", "mode",
        "output"}``. A failed notebook's partial output is still written.
    """
    import papermill

    if mode not in MODES:
        raise ValueError(f"mode={mode!r} must be one of {MODES}")
    path, output = Path(path), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    kernel = kernel_name()
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".ipynb", dir=output.parent)
    os.close(fd)
    t0 = time.perf_counter()
    error = None
    try:
        with _kernel_env():
            papermill.execute_notebook(
                str(path),
                tmp,
                parameters={"MODE": mode, **(parameters or {})},
                kernel_name=kernel,
                cwd=str(path.parent),
                progress_bar=False,
                log_output=log_output,
                execution_timeout=cell_timeout,
                # output written to the process's file descriptors by C/C++ code (TensorFlow's
                # import-time CUDA probe logs before TF_CPP_MIN_LOG_LEVEL applies) goes to this
                # script's stderr, not into the notebook; Python's own output is captured as usual
                extra_arguments=["--IPKernelApp.capture_fd_output=False"],
            )
    except Exception as e:  # noqa: BLE001 - report any failure, keep going
        error = _error_line(e)
    finally:  # also on Ctrl-C or SIGTERM: keep what ran, leave no temporary file
        if os.path.exists(tmp) and os.path.getsize(tmp) > 0:
            _readable(tmp)
            os.replace(tmp, output)
        elif os.path.exists(tmp):
            os.unlink(tmp)
    seconds = time.perf_counter() - t0
    return {
        "notebook": path.stem,
        "status": "failed" if error else "ok",
        "error": error,
        "seconds": round(seconds, 2),
        "mode": mode,
        "output": str(output),
    }


def headline_of(executed: Path) -> str | None:
    """The last headline an executed notebook displayed (``musiclib.display.headline``), or None."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    found = None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if 'class="musiclib-headline"' in "".join(data.get("text/html", "")):
                text = "".join(data.get("text/plain", "")).strip()
                found = text.removeprefix("Result:").strip() or None
    return found


_REMOTE_SCRIPT = re.compile(r'<script[^>]*\bsrc="(?:https?:)?//[^"]*"[^>]*>\s*</script>')

#: the report's page style, on top of JupyterLab's (navigation, folded code, headline, player tables)
_PAGE_CSS = """
nav.musiclib-nav { display: flex; justify-content: space-between; gap: 1rem; max-width: 1100px;
  margin: .6rem auto; padding: .4rem .8rem; font: 14px system-ui, sans-serif; border-bottom: 1px solid #ddd; }
nav.musiclib-nav + main, main + nav.musiclib-nav { border-top: 1px solid #ddd; }
nav.musiclib-nav a { color: #3a6ea5; text-decoration: none; } nav.musiclib-nav a:hover { text-decoration: underline; }
nav.musiclib-nav .prev, nav.musiclib-nav .next { flex: 1; } nav.musiclib-nav .next { text-align: right; }
details.musiclib-code > summary { cursor: pointer; color: #777; font: 12px monospace; padding: .1rem 0 .1rem 5.5rem; }
details.musiclib-code[open] > summary { color: #333; }
.musiclib-headline { font-size: 1.1em; border-left: 4px solid #3a6ea5; padding: .3rem .8rem; background: #f5f9ff; }
table.musiclib-audio-table audio { height: 2rem; vertical-align: middle; }
table.musiclib-audio-table caption { caption-side: top; font-weight: 600; text-align: left; }
details.musiclib-listing > summary { cursor: pointer; }
.musiclib-folded pre { margin: 0; } .musiclib-folded summary { cursor: pointer; color: #777; font: 12px monospace; }
a:not([href]) { color: inherit; text-decoration: none; cursor: default; }
"""

#: nbconvert's JupyterLab page without its remote scripts (require.js, MathJax, widgets, mermaid),
#: with code cells folded, long printed output folded (its first 8 and last 4 lines stay in view),
#: figures' alt texts, and slots for the navigation
_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{% block extra_css %}<style type="text/css">{{ resources.musiclib_css }}</style>{% endblock extra_css %}
{%- block body_header -%}{{ super() }}<nav class="musiclib-nav"></nav>{%- endblock body_header -%}
{% block body_footer %}<nav class="musiclib-nav"></nav>{{ super() }}{% endblock body_footer %}
{% block input_group -%}
<details class="musiclib-code"><summary>code ({{ cell.source.splitlines() | length }} lines)</summary>
{{ super() }}
</details>
{%- endblock input_group %}
{% block stream_stdout -%}
{%- set lines = output.text.rstrip('\n').split('\n') -%}
{%- if lines | length > resources.musiclib_fold_lines -%}
<div class="jp-RenderedText jp-OutputArea-output musiclib-folded" data-mime-type="text/plain">
<pre>{{- lines[:8] | join('\n') | ansi2html -}}</pre>
<details><summary>&hellip; {{ lines | length - 12 }} more lines</summary><pre>{{- lines[8:-4] | join('\n') | ansi2html -}}</pre></details>
<pre>{{- lines[-4:] | join('\n') | ansi2html -}}</pre>
</div>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock stream_stdout %}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
alt="{{ ((output | get_metadata('alt', 'image/png')) or 'Figure') | escape_html }}"
{%- set width=output | get_metadata('width', 'image/png') -%}
{%- if width is not none %} width={{ width | escape_html }}{%- endif %}
{%- set height=output | get_metadata('height', 'image/png') -%}
{%- if height is not none %} height={{ height | escape_html }}{%- endif %}
{%- if output | get_metadata('unconfined', 'image/png') %} class="unconfined"{%- endif %}
>
</div>
{%- endblock data_png %}
"""


def _math(tex: str, *, display: str) -> str:
    """A TeX formula as MathML, which browsers render without scripts; the TeX as code if it cannot be converted."""
    try:
        from latex2mathml.converter import convert

        return convert(tex, display=display)
    except Exception:  # noqa: BLE001 - an unknown macro: show the formula as written
        return f'<code class="musiclib-tex">{html.escape(tex)}</code>'


def _exporter():
    """nbconvert's HTML exporter with the report's template, and maths converted to MathML."""
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class MathMLRenderer(IPythonRenderer):
        def inline_math(self, body: str) -> str:
            return _math(body, display="inline")

        def block_math(self, body: str) -> str:
            return _math(body, display="block")

        def latex_environment(self, name: str, body: str) -> str:
            return _math(f"\\begin{{{name}}}{body}\\end{{{name}}}", display="block")

    class ReportExporter(HTMLExporter):
        @jinja2.pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = MathMLRenderer(
                escape=False,
                attachments=cell.get("attachments", {}),
                embed_images=self.embed_images,
                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links,
                **self.lexer_options,
            )
            return MarkdownWithMath(renderer=renderer).render(source)

    return ReportExporter(
        template_name="lab",
        template_file="musiclib_report.html.j2",
        extra_loaders=[jinja2.DictLoader({"musiclib_report.html.j2": _TEMPLATE})],
        embed_images=True,
    )


def export_html(executed: Path, html_path: Path, *, title: str | None = None) -> Path:
    """Export an executed notebook to one self-contained HTML page of the report.

    Figures and audio are embedded; no script is loaded from elsewhere (the report works offline);
    the page's ``<title>`` is ``title`` (default: the notebook's first heading); code cells are
    folded into ``<details>``, and so is printed output beyond :data:`FOLD_LINES` lines (its head
    and tail stay in view); ``$...$`` maths is MathML; each figure's ``alt`` text comes from its
    output metadata (``musiclib.display.setup_notebook``), else ``"Figure"``; dense figures are
    WebP (:func:`_lighter_images`). The navigation slots (``<nav class="musiclib-nav">``) are
    filled by :func:`link_pages`.
    """
    import nbformat

    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(str(executed), as_version=4)
    nb.metadata["title"] = title or describe(Path(executed))["title"]
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})  # one block per cell's printed output
    resources = {"musiclib_css": _PAGE_CSS, "musiclib_fold_lines": FOLD_LINES}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    # the template loads no remote script; this keeps it so if nbconvert's base template grows one
    body = _REMOTE_SCRIPT.sub("", body)
    _atomic_write(Path(html_path), _lighter_images(body))
    return Path(html_path)


_PNG_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _lighter_images(page: str, *, quality: int = 90, at_most: float = 0.5, min_bytes: int = 100_000) -> str:
    """Re-encode a page's large embedded PNG figures as WebP where that at least halves them.

    Spectrograms and other dense images shrink 3-4x as WebP at ``quality`` 90 with no visible
    change. PNGs under ``min_bytes`` (most line plots) stay as they are, crisp, and so does any
    PNG whose WebP would be more than ``at_most`` times its size. The executed notebook keeps
    its PNGs.
    """
    import base64
    import io

    from PIL import Image

    def one(match):
        if len(match.group(1)) * 3 // 4 < min_bytes:
            return match.group(0)
        png = base64.b64decode(match.group(1))
        with Image.open(io.BytesIO(png)) as im:
            buf = io.BytesIO()
            im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB").save(
                buf, format="WEBP", quality=quality, method=4
            )
        webp = buf.getvalue()
        if len(webp) > at_most * len(png):
            return match.group(0)
        return f'src="data:image/webp;base64,{base64.b64encode(webp).decode("ascii")}"'

    return _PNG_URI.sub(one, page)


# -- linking the pages ----------------------------------------------------------------------------

_NAV = re.compile(r'<nav class="musiclib-nav">.*?</nav>', re.S)
_A_TAG = re.compile(r"<a\b([^>]*)>", re.S)
_ATTR = re.compile(r'\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
#: where a link's target as written is kept, so linking again (after more pages exist) starts from it
_SOURCE = "data-musiclib-href"


def _title(nb: Path) -> str:
    title = describe(nb)["title"]
    return title if title.startswith(nb.stem[:2]) else f"{nb.stem[:2]} \u00b7 {title}"


def _nav(prev: Path | None, nxt: Path | None, titles: dict) -> str:
    def link(nb, rel, arrow_left):
        if nb is None:
            return f'<span class="{rel}"></span>'
        title = titles[nb.stem]
        short = title.split(":", 1)[0]  # "03 · Trees: decision tree, ..." -> "03 · Trees"
        text = html.escape(short)
        text = f"\u2190 {text}" if arrow_left else f"{text} \u2192"
        return f'<a class="{rel}" rel="{rel}" href="{html.escape(nb.stem)}.html" title="{html.escape(title)}">{text}</a>'

    return (
        f'<nav class="musiclib-nav">{link(prev, "prev", True)}'
        f'<a class="index" href="index.html">Index</a>{link(nxt, "next", False)}</nav>'
    )


def _relink(page: str, *, built: set, series: set, report_dir: Path) -> tuple[str, list[str]]:
    """Point a page's links at the report's pages; return the new page and its dead links.

    For each ``<a href="...">`` to a local target (not ``#...``, not ``scheme:...``), with the target
    as first written (kept in ``data-musiclib-href``):

    - ``NN_name.ipynb`` of a notebook in the series whose page exists -> ``NN_name.html``;
    - ``NN_name.ipynb`` of a notebook in the series without a page here -> no ``href`` (plain text);
    - ``README.md`` (the series' README) -> ``index.html``;
    - anything else stays as written, and is dead when it does not exist in ``report_dir``.
    """
    dead = []

    def one(match):
        inner = match.group(1)
        attrs = dict(_ATTR.findall(" " + inner))
        source = attrs.get(_SOURCE, attrs.get("href"))
        if source is None or source.startswith("#") or source.startswith("//") or _SCHEME.match(source):
            return match.group(0)
        path, _, fragment = source.partition("#")
        name = PurePosixPath(urllib.parse.unquote(path)).name
        stem = name.rsplit(".", 1)[0]
        if name.endswith(".ipynb") and stem in series:
            href = f"{stem}.html" + (f"#{fragment}" if fragment else "") if stem in built else None
        elif name == "README.md" and "/" not in path:
            href = "index.html"
        else:
            href = source
            target = urllib.parse.unquote(path).lstrip("/")
            if target != "index.html" and not (report_dir / target).exists():  # the index is written last
                dead.append(source)
        kept = re.sub(rf'\s(?:href|{_SOURCE})="[^"]*"', "", inner)
        added = (f' href="{href}"' if href is not None else "") + f' {_SOURCE}="{source}"'
        return f"<a{kept.rstrip()}{added}>"

    return _A_TAG.sub(one, page), dead


def link_pages(report_dir: Path, notebooks: list[Path]) -> dict[str, list[str]]:
    """Navigation and links for every page of the report, from the pages that exist.

    The pages are the ``NN_name.html`` in ``report_dir`` of the notebooks in ``notebooks``, in
    series (file name) order. Each page's navigation slots get Previous and Next (the neighbouring
    pages that exist, none past either end) and Index; its links are rewritten as :func:`_relink`
    says. Safe to run again: a later run with more pages links them too.

    Returns
    -------
    dict
        ``{notebook stem: [dead links]}`` for the pages that link to files missing from the report.
    """
    report_dir = Path(report_dir)
    series_stems = {nb.stem for nb in notebooks}
    pages = [nb for nb in sorted(notebooks, key=lambda p: p.name) if (report_dir / f"{nb.stem}.html").exists()]
    built = {nb.stem for nb in pages}
    titles = {nb.stem: _title(nb) for nb in pages}
    dead = {}
    for i, nb in enumerate(pages):
        path = report_dir / f"{nb.stem}.html"
        text = path.read_text(encoding="utf-8")
        nav = _nav(pages[i - 1] if i > 0 else None, pages[i + 1] if i + 1 < len(pages) else None, titles)
        new, bad = _relink(text, built=built, series=series_stems, report_dir=report_dir)
        new = _NAV.sub(lambda m: nav, new)
        if bad:
            dead[nb.stem] = bad
        if new != text:
            _atomic_write(path, new)
    return dead


# -- index ----------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: .2rem; } .sub { color: #666; margin-top: 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: .8rem 1rem; margin: .8rem 0; }
.card.top { border: 2px solid #3a6ea5; background: #f5f9ff; }
.card h2 { font-size: 1.15rem; margin: 0 0 .3rem 0; } .card p { margin: .3rem 0; }
.question, .question strong { font-weight: normal; color: #444; }
.headline { font-weight: 600; border-left: 4px solid #3a6ea5; padding-left: .6rem; }
.meta { color: #555; font-size: .9rem; } .ok { color: #1a7f37; font-weight: 600; }
.failed { color: #b42318; font-weight: 600; } .missing { color: #888; } .dead { color: #b42318; }
code { background: #f3f3f3; padding: 0 .2rem; border-radius: 3px; }
"""


def _markdown(text: str) -> str:
    """A paragraph of notebook markdown as HTML (mistune ships with nbconvert)."""
    try:
        import mistune

        return mistune.html(text)
    except Exception:  # noqa: BLE001 - plain text is a fine fallback
        return f"<p>{html.escape(text)}</p>"


def build_index(report_dir: Path, notebooks: list[Path], *, dead_links: dict | None = None) -> Path:
    """Write ``index.html``: per notebook (08_compare first) its title, question, headline, status and time.

    A notebook's headline, status and seconds come from its ``NN_name.json`` record; one without a
    headline (or that failed) shows its status only, one never run says so. ``dead_links`` (from
    :func:`link_pages`) are listed under their page.
    """
    report_dir = Path(report_dir)
    dead_links = dead_links or {}
    ordered = sorted(notebooks, key=lambda p: (p.stem != COMPARE, p.name))
    cards, total = [], 0.0
    for nb in ordered:
        info = describe(nb)
        record_path = report_dir / f"{nb.stem}.json"
        record = json.loads(record_path.read_text()) if record_path.exists() else None
        page = report_dir / f"{nb.stem}.html"
        title = html.escape(_title(nb))
        if page.exists():
            title = f'<a href="{html.escape(page.name)}">{title}</a>'
        headline = ""
        if record is None:
            status = '<span class="missing">not run yet</span>'
        elif record["status"] == "ok":
            total += record["seconds"]
            status = f'<span class="ok">ok</span> in {record["seconds"]:.1f} s'
            if record.get("headline"):
                headline = f'<p class="headline">{html.escape(record["headline"])}</p>'
        else:
            total += record["seconds"]
            status = f'<span class="failed">failed</span> after {record["seconds"]:.1f} s: <code>{html.escape(record["error"] or "")}</code>'
        if record is not None:
            status += f' &middot; mode <code>{html.escape(record["mode"])}</code> &middot; {html.escape(record.get("finished", ""))}'
        dead = ""
        if dead_links.get(nb.stem):
            dead = '<p class="meta dead">links to missing files: ' + ", ".join(
                f"<code>{html.escape(d)}</code>" for d in dead_links[nb.stem]) + "</p>"
        top = nb.stem == COMPARE
        cards.append(
            f'<div class="card{" top" if top else ""}">'
            + ("<p class='meta'>The comparison of every approach, on top:</p>" if top else "")
            + f"<h2>{title}</h2>"
            + (f'<div class="question">{_markdown(info["question"])}</div>' if info["question"] else "")
            + headline
            + f'<p class="meta">{status}</p>{dead}</div>'
        )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>musiclib notebook series</title>"
        f"<style>{_CSS}</style></head><body><h1>musiclib: the notebook series</h1>"
        "<p class='sub'>Generating music from raw audio in the spectrogram domain. Each page is an executed "
        "notebook; its players play in this browser. Each notebook's headline result, then how it ran.</p>"
        + "".join(cards)
        + f"<p class='meta'>{sum(1 for nb in notebooks if (report_dir / f'{nb.stem}.html').exists())} pages; "
        f"notebooks ran for {total:.0f} s in all.</p></body></html>"
    )
    index = report_dir / "index.html"
    _atomic_write(index, page)
    return index


# -- command line ---------------------------------------------------------------------------------


def select(notebooks: list[Path], only: str | None) -> list[Path]:
    """Keep notebooks whose number (``00``) or stem (``00_data_tour``) is in the comma list ``only``."""
    if not only:
        return notebooks
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    chosen = [p for p in notebooks if p.stem[:2] in wanted or p.stem in wanted]
    unknown = wanted - {p.stem[:2] for p in chosen} - {p.stem for p in chosen}
    if unknown:
        raise SystemExit(f"--only names notebooks that do not exist: {', '.join(sorted(unknown))}")
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="demo", help="the notebooks' MODE parameter")
    parser.add_argument("--out", type=Path, default=REPO / "build", help="output folder (default: build)")
    parser.add_argument("--only", help="comma-separated notebook numbers or names, e.g. 00,01")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help=argparse.SUPPRESS)
    parser.add_argument("--cell-timeout", type=int, default=1800, help="seconds one cell may run (default 1800)")
    args = parser.parse_args(argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:  # SIGTERM (e.g. from `timeout`) cleans up like Ctrl-C
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _run(args)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(args) -> int:
    everything = series(args.notebooks)
    if not everything:
        print(f"no notebooks NN_name.ipynb in {args.notebooks}", file=sys.stderr)
        return 2
    chosen = select(everything, args.only)
    out = args.out.resolve()
    nb_dir, report_dir = out / "notebooks", out / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    t_all = time.perf_counter()
    for i, nb in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {nb.name} (MODE={args.mode}) ...", flush=True)
        executed = nb_dir / nb.name
        record = execute(nb, executed, mode=args.mode, cell_timeout=args.cell_timeout)
        record["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
        if executed.exists():
            try:
                record["headline"] = headline_of(executed)
                export_html(executed, report_dir / f"{nb.stem}.html", title=_title(nb))
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                record.update(status="failed", error=f"HTML export failed: {_error_line(e)}")
        _atomic_write(report_dir / f"{nb.stem}.json", json.dumps(record, indent=1))
        if record["status"] == "ok":
            print(f"    ok in {record['seconds']:.1f} s -> {report_dir / (nb.stem + '.html')}", flush=True)
        else:
            failed.append(nb.name)
            print(f"    FAILED after {record['seconds']:.1f} s: {record['error']}", flush=True)
    dead = link_pages(report_dir, everything)
    for stem, links in dead.items():
        print(f"warning: {stem}.html links to files that are not in the report: {', '.join(links)}", file=sys.stderr)
    index = build_index(report_dir, everything, dead_links=dead)
    print(f"{len(chosen) - len(failed)}/{len(chosen)} notebooks ok in {time.perf_counter() - t_all:.0f} s; report: {index}")
    if failed:
        print(f"failed: {', '.join(failed)} (executed copies with the error are in {nb_dir})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
