"""The notebook series: committed clean, paired with its text form, papermill-ready, and executable.

Every ``notebooks/NN_name.ipynb`` must

1. be committed without outputs (no code cell has outputs or an execution count);
2. have a paired ``NN_name.py`` (jupytext py:percent) holding the same cells;
3. have exactly one cell tagged ``parameters`` holding only literal assignments, including ``MODE``
   and ``SEED``;
4. execute with papermill in small mode (``MODE="small"``) without error, on the default corpus.

(4) is marked ``notebook``; deselect it with ``-m "not notebook"``. It uses
``scripts/run_notebooks.py``'s :func:`execute`, the same code ``make demo`` runs.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
MODES = ("small", "demo", "full")

#: Seconds a notebook may take in small mode (the whole series must stay under 3 minutes on 2 cores).
TIMEOUTS = {"00": 60}
DEFAULT_TIMEOUT = 120


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebooks", REPO / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_series_exists():
    assert NOTEBOOKS, f"no notebooks NN_name.ipynb in {NOTEBOOK_DIR}"
    assert NOTEBOOKS[0].name.startswith("00_")


# -- 1. committed without outputs ------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    dirty = [
        i for i, c in enumerate(_cells(path))
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: code cells {dirty} hold outputs; run .venv/bin/nbstripout {path}"


# -- 2. paired with a py:percent file, in sync -----------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_paired_and_in_sync(path):
    import jupytext

    py = path.with_suffix(".py")
    assert py.exists(), f"{path.name} has no paired {py.name}; run jupytext --set-formats ipynb,py:percent"
    text = py.read_text(encoding="utf-8")
    assert "format_name: percent" in text, f"{py.name} is not in jupytext's py:percent format"
    a = jupytext.read(path)
    b = jupytext.read(py)

    def cells(nb):
        return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in nb.cells]

    ca, cb = cells(a), cells(b)
    for i, (x, y) in enumerate(zip(ca, cb)):
        assert x == y, (
            f"{path.name} and {py.name} differ at cell {i}:\n{x[1][:300]!r}\nvs\n{y[1][:300]!r}\n"
            f"run: .venv/bin/jupytext --sync {py}"
        )
    assert len(ca) == len(cb), f"{path.name} has {len(ca)} cells, {py.name} {len(cb)}; run jupytext --sync"


# -- 3. one papermill parameters cell of literals --------------------------------------------------


def _is_literal(node) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float))
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_literal(k) for k in node.keys) and all(_is_literal(v) for v in node.values)
    return False


def parameters_of(path: Path) -> dict:
    """The parameters cell's assignments as a dict; asserts the cell's rules on the way."""
    tagged = [c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: need exactly one cell tagged 'parameters', found {len(tagged)}"
    assert tagged[0]["cell_type"] == "code", f"{path.name}: the 'parameters' cell must be a code cell"
    tree = ast.parse(_source(tagged[0]))
    values = {}
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign), (
            f"{path.name}: parameters cell line {stmt.lineno} is not a plain assignment: {ast.unparse(stmt)!r}"
        )
        assert len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name), (
            f"{path.name}: parameters cell line {stmt.lineno} must assign one name"
        )
        assert _is_literal(stmt.value), (
            f"{path.name}: parameter {stmt.targets[0].id} = {ast.unparse(stmt.value)} is not a literal"
        )
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    return values


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell(path):
    params = parameters_of(path)
    assert "MODE" in params and "SEED" in params, f"{path.name}: parameters must include MODE and SEED"
    assert params["MODE"] in MODES, f"{path.name}: MODE={params['MODE']!r} is not one of {MODES}"
    assert isinstance(params["SEED"], int), f"{path.name}: SEED must be an integer"
    for name in params:
        assert name.isupper(), f"{path.name}: parameter {name} should be UPPER_CASE (the notebook's settings)"


def test_literal_checker():
    assert _is_literal(ast.parse("x = [1, -2.5, 'a', (None, True)]").body[0].value)
    assert _is_literal(ast.parse("x = {'a': {'b': [1]}}").body[0].value)
    assert not _is_literal(ast.parse("x = f(1)").body[0].value)
    assert not _is_literal(ast.parse("x = 2 * 3").body[0].value)
    assert not _is_literal(ast.parse("x = {**y}").body[0].value)
    assert not _is_literal(ast.parse("x = [y]").body[0].value)


# -- 3b. heavy code lives in musiclib ---------------------------------------------------------------

def _helper_code(path: Path) -> list[str]:
    """What a notebook's cells should not hold: private musiclib names, functions longer than a line or
    two of glue, hand-built HTML."""
    src = path.with_suffix(".py").read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("musiclib"):
            found += [f"imports the private {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            found.append(f"line {node.lineno} uses the private .{node.attr}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
            if len(body) > 2:
                found.append(f"line {node.lineno} defines {node.name}() ({len(body)} statements): move it to musiclib")
    for match in re.finditer(r"<(table|tr|td|div|span|audio)\b|HTML\(", src):
        found.append(f"line {src[: match.start()].count(chr(10)) + 1} builds HTML ({match.group(0)})")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_helper_code_in_cells(path):
    found = _helper_code(path)
    assert not found, f"{path.stem}: " + "; ".join(found)


def test_helper_code_checker(tmp_path):
    (tmp_path / "09_x.py").write_text(
        "from musiclib.display import _figure_alt, audio_table\n"
        "import musiclib.display as d\n"
        "d._axes(None)\n"
        "def glue(y):\n    return y\n"
        "def helper(y):\n    'Doc.'\n    a = y\n    b = a\n    return b\n"
        "html = '<table><tr><td>1</td></tr></table>'\n")
    assert sorted(_helper_code(tmp_path / "09_x.ipynb")) == sorted([
        "imports the private musiclib.display._figure_alt", "line 3 uses the private ._axes",
        "line 6 defines helper() (3 statements): move it to musiclib", "line 11 builds HTML (<table)",
        "line 11 builds HTML (<tr)", "line 11 builds HTML (<td)"])  # glue() (one statement) is fine


# -- 4. executes in small mode ---------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _outputs_in_tmp(tmp_path_factory):
    """Notebooks run here save their clips and checkpoints in a temporary outputs root, never in the
    user's ``outputs/`` (08 then compares what this session's notebooks saved)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MUSICLIB_OUTPUTS", str(tmp_path_factory.mktemp("outputs")))
        yield


@pytest.fixture(scope="session")
def corpus_available():
    """Skip unless the default corpus (or $MUSICLIB_DATA) is there; CI runs `make data` first."""
    if os.environ.get("MUSICLIB_DATA"):
        return os.environ["MUSICLIB_DATA"]
    from musiclib.tools import data
    from musiclib.errors import DataUnavailableError

    try:
        return str(data.default_corpus_dir())
    except DataUnavailableError as e:
        pytest.skip(f"the default corpus is not fetched and MUSICLIB_DATA is unset (run `make data`): {e}")


def _timeout(path: Path) -> int:
    return TIMEOUTS.get(path.stem[:2], DEFAULT_TIMEOUT)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize(
    "path", [pytest.param(p, marks=pytest.mark.timeout(_timeout(p) + 60)) for p in NOTEBOOKS], ids=IDS
)
def test_executes_in_small_mode(path, tmp_path, corpus_available):
    from conftest import NOTEBOOK_TIMES

    runner = _runner()
    out = tmp_path / path.name
    record = runner.execute(path, out, mode="small", cell_timeout=_timeout(path))
    NOTEBOOK_TIMES[path.stem] = (record["seconds"], record["status"] if record["status"] == "ok" else record["error"])
    print(f"{path.name}: {record['status']} in {record['seconds']:.1f} s")
    assert record["status"] == "ok", f"{path.name} failed in small mode: {record['error']} (executed copy: {out})"
    executed = json.loads(out.read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    html = runner.export_html(out, tmp_path / f"{path.stem}.html")
    assert html.stat().st_size > 0


# -- the runner script -----------------------------------------------------------------------------


def _write_notebook(path: Path, cells: list[tuple[str, str, list]]):
    import nbformat

    nb = nbformat.v4.new_notebook()
    for kind, src, tags in cells:
        cell = nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


@pytest.mark.slow
def test_runner_report_continues_after_failure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # figures must still appear inline in the report
    runner = _runner()
    src = tmp_path / "nbs"
    src.mkdir()
    _write_notebook(src / "00_good.ipynb", [
        ("markdown", "# 00 · Good one\n\nDoes two plus two make four?\n\nMore text: $x^2 + 1$, "
                     "[the bad one](01_bad.ipynb#Bad-one), [the comparison](08_compare.ipynb), [README](README.md).", []),
        ("code", 'MODE = "demo"\nSEED = 0', ["parameters"]),
        ("code", "from musiclib.display import audio_player, headline, setup_notebook\nimport numpy as np\n"
                 "rng = setup_notebook(seed=SEED)\n"
                 "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('a <rising> line')\nplt.show()\n"
                 "print('mode', MODE, {'x': np.float64(0.5)})\naudio_player(np.sin(np.arange(2205) / 3.0), sr=22050)", []),
        ("code", "from musiclib.widgets import compare_settings\n"
                 "grid = [{'representation': 'linear', 'n_fft': 256, 'hop_length': 64, 'method': 'pghi', 'n_iter': 0}]\n"
                 "compare_settings(np.sin(np.arange(4096) / 3.0), sr=22050, settings=grid)", []),
        ("code", "for i in range(50):\n    print(f'epoch {i + 1}', flush=True)", []),
        ("code", "import os, sys\nos.write(2, b'I0000 cudart_stub.cc:31] C++ log line\\n')\n"
                 "print('python stderr', file=sys.stderr)\ndisplay(headline(f'Two plus two makes {2 + 2}.'))", []),
    ])
    _write_notebook(src / "01_bad.ipynb", [
        ("markdown", "# Bad one\n\nWhat happens on an error?\n\nBack to [the good one](00_good.ipynb).", []),
        ("code", 'MODE = "demo"\nSEED = 0', ["parameters"]),
        ("code", "raise RuntimeError('boom\\nsecond line')", []),
    ])
    _write_notebook(src / "08_compare.ipynb", [
        ("markdown", "# Compare\n\nWhich approach wins?", []),
        ("code", 'MODE = "demo"\nSEED = 0', ["parameters"]),
    ])
    (src / "notes.ipynb").write_text("not part of the series")
    code = runner.main(["--mode", "small", "--out", str(tmp_path / "build"), "--notebooks", str(src), "--only", "00,01"])
    assert code == 1  # one failed, and the other still ran
    printed = capsys.readouterr().out
    assert "00_good.ipynb" in printed and "01_bad.ipynb" in printed and "FAILED" in printed
    report = tmp_path / "build" / "report"
    good = (report / "00_good.html").read_text()
    assert "<title>00 · Good one</title>" in good
    assert "mode small {'x': 0.5}" in good  # no np.float64(...) in printed results
    streams = "".join("".join(o.get("text", "")) for c in _cells(tmp_path / "build" / "notebooks" / "00_good.ipynb")
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "C++ log line" not in streams and "python stderr" in streams  # compiled code's log lines stay out
    assert "data:audio/ogg;base64," in good and "data:audio/wav" not in good
    # one player, then the widget's static form (headless run): the original and one setting
    assert good.count("<audio") == 3 and "SC (dB)" in good
    assert "data:image/png;base64," in good  # the figure, embedded
    assert 'alt="Figure: a &lt;rising&gt; line"' in good  # its alt text, from its title
    assert "<math" in good and "$x^2" not in good  # maths as MathML, no script
    assert "<script src" not in good
    assert good.count('<details class="musiclib-code">') == 6  # every code cell folded (with papermill's)
    # 50 printed lines (50 outputs, one per flush): one block, its first 8 and last 4 lines in view
    assert "<summary>\u2026 38 more lines</summary>" in good
    assert "epoch 8</pre>" in good and "<pre>epoch 47" in good and good.count("epoch 50") == 1
    # links: to the other page of the report, the README -> index, none to a page not built
    assert 'href="01_bad.html#Bad-one"' in good and 'href="index.html" data-musiclib-href="README.md"' in good
    assert "08_compare.html" not in good and "08_compare.ipynb" in good  # kept as text, without a link
    nav = re.findall(r'<nav class="musiclib-nav">(.*?)</nav>', good)
    assert len(nav) == 2 and 'rel="next" href="01_bad.html"' in nav[0] and 'rel="prev"' not in nav[0]
    assert 'href="index.html"' in nav[0]
    bad_page = (report / "01_bad.html").read_text()
    assert 'rel="prev" href="00_good.html"' in bad_page and 'rel="next"' not in bad_page
    assert 'href="00_good.html"' in bad_page
    assert os.environ["MPLBACKEND"] == "Agg"  # the kernel's environment did not leak into ours
    assert (tmp_path / "build" / "notebooks" / "01_bad.ipynb").exists()  # partial output kept
    rec = json.loads((report / "01_bad.json").read_text())
    assert rec["status"] == "failed" and "second line" in rec["error"]
    assert json.loads((report / "00_good.json").read_text())["headline"] == "Two plus two makes 4."
    index = (report / "index.html").read_text()
    assert index.index("Compare") < index.index("Good one") < index.index("Bad one")  # 08_compare on top
    assert "Does two plus two make four?" in index
    assert '<p class="headline">Two plus two makes 4.</p>' in index and index.count('class="headline"') == 1
    assert 'href="00_good.html"' in index and "not run yet" in index and 'href="08_compare.html"' not in index
    assert "second line" in index
    assert not list(report.glob(".*"))  # no temporary files left behind


def test_large_dense_figures_become_webp_small_plots_stay_png():
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def png(draw):
        fig, ax = plt.subplots(figsize=(8, 3))
        draw(ax)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    rng = np.random.default_rng(0)
    dense = png(lambda ax: ax.imshow(rng.standard_normal((128, 400)).cumsum(axis=1), aspect="auto"))
    line = png(lambda ax: ax.plot([1, 3, 2]))
    assert len(dense) * 3 // 4 > 100_000 > len(line) * 3 // 4  # a spectrogram-like image and a small plot
    page = f'<img alt="a" src="data:image/png;base64,{dense}"><img alt="b" src="data:image/png;base64,{line}">'
    out = _runner()._lighter_images(page)
    webp = re.search(r'src="data:image/webp;base64,([^"]+)"', out)
    assert webp and base64.b64decode(webp.group(1))[8:12] == b"WEBP"
    assert len(webp.group(1)) * 2 <= len(dense)  # at least halved
    assert f'src="data:image/png;base64,{line}"' in out  # the line plot is left as it was
    assert out.count("<img") == 2 and 'alt="a"' in out


def test_link_pages_follows_the_pages_that_exist(tmp_path):
    """Navigation comes from the pages present, in number order; a page built later gets linked."""
    runner = _runner()
    src = tmp_path / "nbs"
    src.mkdir()
    for stem in ("00_a", "03_c", "05_d"):
        _write_notebook(src / f"{stem}.ipynb", [("markdown", f"# {stem[:2]} · {stem[3:]}\n\nWhy {stem}?", [])])
    report = tmp_path / "report"
    report.mkdir()
    page = ('<html><body><nav class="musiclib-nav"></nav><main><a href="05_d.ipynb">next</a>'
            '<a href="07_gone.ipynb">gone</a><a href="https://example.org/x.ipynb">web</a><a href="#top">top</a>'
            '</main><nav class="musiclib-nav"></nav></body></html>')
    for stem in ("00_a", "03_c"):
        (report / f"{stem}.html").write_text(page)
    notebooks = runner.series(src)
    dead = runner.link_pages(report, notebooks)
    assert dead == {"00_a": ["07_gone.ipynb"], "03_c": ["07_gone.ipynb"]}
    a = (report / "00_a.html").read_text()
    assert 'rel="next" href="03_c.html"' in a and 'rel="prev"' not in a
    assert '<a data-musiclib-href="05_d.ipynb">next</a>' in a  # 05 has no page: no link
    assert 'href="https://example.org/x.ipynb"' in a and 'href="#top"' in a  # left alone
    (report / "05_d.html").write_text(page)
    runner.link_pages(report, notebooks)  # again, now that 05 exists
    a = (report / "00_a.html").read_text()
    assert '<a href="05_d.html" data-musiclib-href="05_d.ipynb">next</a>' in a
    c = (report / "03_c.html").read_text()
    assert 'rel="prev" href="00_a.html"' in c and 'rel="next" href="05_d.html"' in c
    assert c.count('<nav class="musiclib-nav">') == 2


def test_runner_select_and_describe():
    runner = _runner()
    if not NOTEBOOKS:
        pytest.skip("no notebooks")
    assert runner.select(NOTEBOOKS, "00") == [NOTEBOOKS[0]]
    assert runner.select(NOTEBOOKS, None) == NOTEBOOKS
    with pytest.raises(SystemExit, match="99"):
        runner.select(NOTEBOOKS, "00,99")
    info = runner.describe(NOTEBOOKS[0])
    assert info["title"] and info["question"]


def test_readme_lists_every_notebook():
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if f"({p.name})" not in readme]
    assert not missing, f"notebooks/README.md does not link {missing}; add a row to its table"
