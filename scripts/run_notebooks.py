#!/usr/bin/env python
"""Execute the notebook series with papermill and export an HTML report.

    .venv/bin/python scripts/run_notebooks.py --mode demo --out build [--only 00,01]

For every ``notebooks/NN_name.ipynb`` (in order) this

1. executes it with ``MODE=<mode>`` into ``<out>/notebooks/NN_name.ipynb``;
2. exports it to ``<out>/report/NN_name.html`` (images embedded; audio players keep their
   base64 WAV, so they play in the page);
3. records its status and time in ``<out>/report/NN_name.json``;

and then writes ``<out>/report/index.html`` linking every report in order, with each notebook's
title, question, time and status. ``08_compare`` (the comparison of all approaches), when it
exists, is shown first. A failing notebook does not stop the others; the script exits non-zero at
the end if any failed. Files are written atomically (temporary name, then ``os.replace``).

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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
MODES = ("small", "demo", "full")
COMPARE = "08_compare"
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
    panels (``MUSICLIB_HEADLESS``), so the HTML report holds results.
    """
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    wanted = {
        "PYTHONPATH": os.pathsep.join([str(REPO), *(p for p in paths if p != str(REPO))]),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # quiets a debugger warning on every start
        "MUSICLIB_HEADLESS": "1",  # nobody moves sliders here: widgets show their static form
    }
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
    ``parameters`` injected after its ``parameters`` cell.

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


_REMOTE_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>')


def export_html(executed: Path, html_path: Path) -> Path:
    """Export an executed notebook to a self-contained HTML page (images and audio embedded)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    exporter = HTMLExporter(embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    # nbconvert's page loads require.js and MathJax from a CDN; the report must work offline
    # (and widgets are shown as static tables there), so drop every remote script
    body = _REMOTE_SCRIPT.sub("", body)
    _atomic_write(Path(html_path), body)
    return Path(html_path)


# -- index ----------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: .2rem; } .sub { color: #666; margin-top: 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: .8rem 1rem; margin: .8rem 0; }
.card.top { border: 2px solid #3a6ea5; background: #f5f9ff; }
.card h2 { font-size: 1.15rem; margin: 0 0 .3rem 0; } .card p { margin: .3rem 0; }
.meta { color: #555; font-size: .9rem; } .ok { color: #1a7f37; font-weight: 600; }
.failed { color: #b42318; font-weight: 600; } .missing { color: #888; }
code { background: #f3f3f3; padding: 0 .2rem; border-radius: 3px; }
"""


def _markdown(text: str) -> str:
    """A paragraph of notebook markdown as HTML (mistune ships with nbconvert)."""
    try:
        import mistune

        return mistune.html(text)
    except Exception:  # noqa: BLE001 - plain text is a fine fallback
        return f"<p>{html.escape(text)}</p>"


def build_index(report_dir: Path, notebooks: list[Path]) -> Path:
    """Write ``index.html`` linking the reports of ``notebooks`` in series order (08_compare first)."""
    report_dir = Path(report_dir)
    ordered = sorted(notebooks, key=lambda p: (p.stem != COMPARE, p.name))
    cards = []
    for nb in ordered:
        info = describe(nb)
        record_path = report_dir / f"{nb.stem}.json"
        record = json.loads(record_path.read_text()) if record_path.exists() else None
        page = report_dir / f"{nb.stem}.html"
        title = html.escape(info["title"])
        if not info["title"].startswith(nb.stem[:2]):
            title = f"{html.escape(nb.stem[:2])} &middot; {title}"
        if page.exists():
            title = f'<a href="{html.escape(page.name)}">{title}</a>'
        if record is None:
            status = '<span class="missing">not run yet</span>'
        elif record["status"] == "ok":
            status = f'<span class="ok">ok</span> in {record["seconds"]:.1f} s'
        else:
            status = f'<span class="failed">failed</span> after {record["seconds"]:.1f} s: <code>{html.escape(record["error"] or "")}</code>'
        if record is not None:
            status += f' &middot; mode <code>{html.escape(record["mode"])}</code> &middot; {html.escape(record.get("finished", ""))}'
        top = nb.stem == COMPARE
        cards.append(
            f'<div class="card{" top" if top else ""}">'
            + ("<p class='meta'>The comparison of every approach, on top:</p>" if top else "")
            + f"<h2>{title}</h2>"
            + (_markdown(info["question"]) if info["question"] else "")
            + f'<p class="meta">{status}</p></div>'
        )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>musiclib notebook series</title>"
        f"<style>{_CSS}</style></head><body><h1>musiclib: the notebook series</h1>"
        "<p class='sub'>Generating music from raw audio in the spectrogram domain. Each page is an executed "
        "notebook; its players play in this browser.</p>" + "".join(cards) + "</body></html>"
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
                export_html(executed, report_dir / f"{nb.stem}.html")
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                record.update(status="failed", error=f"HTML export failed: {_error_line(e)}")
        _atomic_write(report_dir / f"{nb.stem}.json", json.dumps(record, indent=1))
        if record["status"] == "ok":
            print(f"    ok in {record['seconds']:.1f} s -> {report_dir / (nb.stem + '.html')}", flush=True)
        else:
            failed.append(nb.name)
            print(f"    FAILED after {record['seconds']:.1f} s: {record['error']}", flush=True)
    index = build_index(report_dir, everything)
    print(f"{len(chosen) - len(failed)}/{len(chosen)} notebooks ok in {time.perf_counter() - t_all:.0f} s; report: {index}")
    if failed:
        print(f"failed: {', '.join(failed)} (executed copies with the error are in {nb_dir})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
