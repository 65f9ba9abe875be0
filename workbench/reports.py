"""Runs: parameterised notebooks through papermill, HTML reports, the run index and manifest, the pipeline.

Everything a run writes goes into a new folder ``out/<run-id>/`` so nothing a
user had is overwritten: executed notebooks (``notebooks/``), their HTML
reports (``<name>.html`` without code for stakeholders, ``<name>.code.html``
with code for analysts), the outputs the notebooks write (``audiences/``,
``journeys/``, ``exports/``, ``send_plan.parquet`` ...), an ``index.html``
linking them and a ``manifest.json`` (inputs with sha256, parameters, package
versions, timings) from which the run can be reproduced.

The data may also be a PostgreSQL URL (``postgresql://user:secret@host/db?schema=shop``):
the notebooks get it without its password, which reaches their kernels as
``PGPASSWORD`` only, and the manifest records the URL without the password
(parameters and command line included), never a hash of a database.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import os
import platform
import queue
import re
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from . import vega
from .application import default_as_of
from .io import (
    file_sha256,
    is_postgres_url,
    is_spark_source,
    load_dataset,
    load_strategy,
    new_run_dir,
    read_spark_tables,
    reads_with_spark,
    shown_url,
    write_text,
)
from .io.resources import notebooks_dir, sample_data, sample_strategy
from .models.errors import RunError, WorkbenchError, is_interrupt
from .models.strategy import Strategy

__all__ = [
    "PIPELINE",
    "NotebookKernel",
    "NotebookRun",
    "notebook_parameters",
    "pipeline",
    "run",
    "run_notebook",
    "stop_kernels",
    "to_html",
    "write_index",
    "write_manifest",
]

# The pipeline's notebooks in order: (stem, sub-folder of the run for its outputs).
PIPELINE: tuple[tuple[str, str], ...] = (
    ("01_explore_audiences", ""),
    ("02_preview_messages", "messages"),
    ("03_plan_cadence", ""),
    ("04_generate_journeys", ""),
    ("05_measure_results", "measure"),
)

# Relative run time of each notebook on the sample (the pipeline starts the longest first; 01 and 02
# are quick once a kernel holds the workspace 03 or 04 opened).
_EXPECTED_SECONDS = {
    "04_generate_journeys": 6,
    "05_measure_results": 5.5,
    "03_plan_cadence": 5,
    "01_explore_audiences": 2,
    "02_preview_messages": 2,
}

_VERSIONED = (
    "workbench",
    "pandas",
    "numpy",
    "duckdb",
    "pyarrow",
    "altair",
    "vl-convert-python",
    "jinja2",
    "papermill",
    "nbconvert",
    "pydantic",
    "phonenumbers",
    "statsmodels",
    "ipywidgets",
)


@dataclass
class NotebookRun:
    """What happened to one notebook of a run."""

    name: str
    notebook: str
    status: str = "pending"  # ok | failed | interrupted
    seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)
    executed: str | None = None
    html: str | None = None
    code_html: str | None = None
    error: str | None = None


# ---------------------------------------------------------------- one notebook

_KERNEL_NAME = "workbench-python"
_KERNELS: weakref.WeakSet[AsyncKernelManager] = weakref.WeakSet()


def stop_kernels() -> int:
    """Kill every kernel the runs of this process started that is still alive; returns how many.

    Each killed kernel is waited for, so none is left behind as a zombie process.
    """
    killed = []
    for manager in list(_KERNELS):
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            killed.append(process)
    for process in killed:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    return len(killed)


class ThisPythonKernelManager(AsyncKernelManager):
    """Kernels run by the Python that runs the workbench, whatever ``python3`` kernel is installed elsewhere.

    A run's notebooks must import the same package as the command that started them: a user-wide
    or system-wide ``python3`` kernel could belong to another environment without the workbench.
    Every manager is remembered (weakly) so :func:`stop_kernels` can stop them all at an interrupt.
    ``extra_env`` is added to the kernel's environment (a subclass sets it: :func:`_kernel_manager`).
    """

    extra_env: dict[str, str] = {}  # noqa: RUF012 (read-only; a subclass replaces it)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _KERNELS.add(self)

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {platform.python_version()} (workbench)",
            language="python",
            resource_dir="",
            env=dict(self.extra_env),
        )


def _kernel_manager(env: Mapping[str, str] | None) -> type[ThisPythonKernelManager]:
    """The kernel manager class of a run: :class:`ThisPythonKernelManager`, with ``env`` for its kernels."""
    if not env:
        return ThisPythonKernelManager
    return type("RunKernelManager", (ThisPythonKernelManager,), {"extra_env": dict(env)})


def _secrets(parameters: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters with every PostgreSQL URL's password taken out, and the environment that carries it.

    libpq reads ``PGPASSWORD`` when the URL has no password, so a notebook connects as the URL said
    while its parameters (kept in the executed notebook) and the manifest never hold the password.
    """
    from urllib.parse import urlsplit

    cleaned: dict[str, Any] = {}
    env: dict[str, str] = {}
    for name, value in parameters.items():
        if is_postgres_url(value) and urlsplit(value).password is not None:
            parts = urlsplit(value)
            password = parts.password or ""
            user = parts.username or ""
            host = parts.netloc.rsplit("@", 1)[1]
            cleaned[name] = value.replace(parts.netloc, f"{user}@{host}" if user else host, 1)
            if env.get("PGPASSWORD", password) != password:
                msg = "two PostgreSQL URLs with different passwords. Fix: keep the passwords in ~/.pgpass"
                raise RunError(msg)
            env["PGPASSWORD"] = _unquote(password)
        else:
            cleaned[name] = value
    return cleaned, env


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


def _redacted(command: Sequence[str]) -> list[str]:
    """The command line with the password of every PostgreSQL URL in it replaced by ``***``."""
    import re

    return [re.sub(r"postgres(?:ql)?://[^\s'\"]+", lambda m: shown_url(m.group(0)), str(arg)) for arg in command]


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares (name -> default, type and help), as papermill reads them.

    Raises :class:`WorkbenchError` when the path is not a readable notebook.
    """
    import papermill as pm

    path = Path(notebook)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        msg = f"notebook {path} {what}. Fix: pass the path of an .ipynb file, e.g. notebooks/01_explore_audiences.ipynb"
        raise WorkbenchError(msg)
    try:
        return dict(pm.inspect_notebook(str(path)))
    except Exception as exc:  # papermill and nbformat raise many kinds for a file that is not a notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"{path} is not a Jupyter notebook ({first}). Fix: pass an .ipynb file saved by Jupyter"
        raise WorkbenchError(msg) from None


_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style>{{ resources.workbench_css }}</style>{%- endblock extra_css -%}
{%- block footer_js -%}{{ resources.workbench_js }}{%- endblock footer_js -%}
"""

# A report page reads like a document: a column of text the width of a chart, tables that fit it.
_CSS = """
body.jp-Notebook { max-width: 1000px; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
.jp-Cell { padding: 0; }
.jp-OutputArea-output { overflow-x: auto; }
.wb-chart { margin: .5rem 0 1rem; max-width: 100%; }
.wb-chart svg { max-width: 100%; height: auto; }
.wb-chart .vega-embed { display: block; }
.wb-chart .vega-embed summary { opacity: .6; }
"""

# Draw every chart with the bundled Vega; the static SVG stays when drawing fails (or scripts are off).
_LOADER = """<script>
(function () {
  var options = {renderer: "svg", actions: {export: true, source: false, compiled: false, editor: false}};
  document.querySelectorAll("script[type='application/vnd.workbench.vega+json']").forEach(function (data) {
    var box = data.parentElement, view = box.querySelector(".wb-vega"), still = box.querySelector(".wb-static");
    vegaEmbed(view, JSON.parse(data.textContent), options).then(function () {
      if (still) { still.remove(); }
      box.classList.add("wb-drawn");
    }).catch(function (error) { console.error("chart", error); });
  });
})();
</script>"""


def _chart_html(data: Mapping[str, Any]) -> str:
    """A chart output as HTML: the Vega spec for the bundled Vega, the SVG as what shows without it."""
    spec = dict(data[vega.VEGA_MIME])
    spec["$schema"] = "https://vega.github.io/schema/vega/v6.json"  # the bundled Vega is 6
    svg = data.get("image/svg+xml", "")
    svg = "".join(svg) if isinstance(svg, list) else svg
    title = html.escape(str(data.get("text/plain", "chart")))
    return (
        f'<div class="wb-chart" role="figure" aria-label="{title}"><div class="wb-vega"></div>'
        f'<div class="wb-static">{svg}</div>'
        f'<script type="application/vnd.workbench.vega+json">{vega.spec_json(spec)}</script></div>'
    )


def _charts_to_html(nb: Any) -> int:
    """Replace every chart output of the notebook by its HTML (see :func:`_chart_html`); return how many."""
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if vega.VEGA_MIME in data:
                output["data"] = {"text/html": _chart_html(data)}
                count += 1
    return count


@functools.cache
def vega_script() -> str:
    """The Vega libraries the HTML reports inline (:func:`workbench.vega.vega_bundle`), kept between runs.

    Building the bundle takes about 2 s of a core, and it changes only with vl-convert's version: it is
    kept in the user's cache folder (``$WORKBENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/workbench``, else
    ``~/.cache/workbench``) under that version, written atomically. When the folder cannot be written
    the bundle is built each time.
    """
    version = metadata.version("vl-convert-python")
    folder = Path(
        os.environ.get("WORKBENCH_CACHE_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    )
    path = folder / f"vega-bundle-vl-convert-{re.sub(r'[^0-9A-Za-z.]+', '-', version)}.js"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        cached = path.read_text(encoding="utf-8")
        if _BUNDLE_END in cached:  # complete (written atomically, but checked all the same)
            return cached
    script = vega.vega_bundle()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        write_text(path, script)
    return script


_BUNDLE_END = "vegaEmbed"


def to_html(executed: str | os.PathLike[str], target: str | os.PathLike[str], *, include_code: bool) -> Path:
    """Convert an executed notebook to a self-contained HTML report that opens offline.

    Charts are drawn by the Vega libraries inlined once in the page (interactive: tooltips, zoom,
    legend selection), with their static SVG as the fallback; nothing is loaded from the network:
    no MathJax, require.js, widget manager or Mermaid script, and any other ``<script src=http...>``
    is removed.
    """
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    drawn = _charts_to_html(nb)
    script = f"<script>{vega_script()}</script>{_LOADER}" if drawn else ""
    with _EXPORTING:  # one exporter per kind, used by one thread at a time
        body, _ = _exporter(include_code).from_notebook_node(
            nb, resources={"workbench_css": _CSS, "workbench_js": script}
        )
    body = _strip_remote_scripts(body)
    return write_text(target, body)


_EXPORTING = threading.Lock()


@functools.cache
def _exporter(include_code: bool) -> Any:
    """The HTML exporter of the reports (built once per kind: its templates compile once per process)."""
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """nbconvert's lab HTML export without its last step, a BeautifulSoup parse and rewrite of the whole
        page (most of the export's time on pages of charts); its two edits are made on the text instead:
        cells and outputs focusable with the keyboard, and alt text on images that have none."""

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name"))
            self._nb_metadata = {}
            resources = self._init_resources(resources)  # type: ignore[no-untyped-call]
            self.register_filter(  # type: ignore[no-untyped-call]
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            self.register_filter(  # type: ignore[no-untyped-call]
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _accessible(html), resources

    return ReportExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        template_file="workbench.html.j2",
        extra_loaders=[jinja2.DictLoader({"workbench.html.j2": _TEMPLATE})],
        exclude_input=not include_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


_FOCUSABLE = re.compile(r'<div class="([^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*)"(?![^>]*tabindex)')
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_SCRIPT = re.compile(r"(<script\b.*?</script\s*>)", re.DOTALL | re.IGNORECASE)


def _accessible(html_text: str) -> str:
    """Cells and outputs reachable with the Tab key, and a stated lack of description on images without one
    (in the page's markup only: scripts are left as they are)."""
    parts = _SCRIPT.split(html_text)
    for i in range(0, len(parts), 2):  # the even parts are outside <script> elements
        part = _FOCUSABLE.sub(r'<div class="\1" tabindex="0"', parts[i])
        parts[i] = _IMG_WITHOUT_ALT.sub('<img alt="No description has been provided for this image"', part)
    return "".join(parts)


def _strip_remote_scripts(body: str) -> str:
    """Drop ``<script src=http...>`` tags (MathJax, require.js, widget manager): reports open offline."""
    return re.sub(r"<script[^>]+src=[\"']?(?:https?:)?//[^>]*>\s*</script>", "", body)


class NotebookKernel:
    """One kernel that runs notebooks one after the other, so imports and loaded data are paid once.

    Before each notebook the kernel's namespace is emptied and its working folder set, so a notebook
    sees what a fresh kernel would show it, except that modules already imported (and the datasets
    and workspaces the package keeps for files that did not change) are at hand. A kernel that died
    is replaced by a new one for the next notebook. Close it (or use it as a context manager) when done.
    """

    def __init__(self, *, env: Mapping[str, str] | None = None) -> None:
        self.manager_class = _kernel_manager(env)  # ``env`` is added to the kernel's environment
        self.km: Any = None
        self.kc: Any = None
        self.notebooks = 0

    def __enter__(self) -> NotebookKernel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def execute(self, nb: Any, *, cwd: Path) -> Any:
        """Run every code cell of ``nb`` in order (in place); the first failing cell raises ``CellExecutionError``.

        Each code cell's run time is kept in its metadata (``papermill.duration``, as papermill records it).
        """
        client = self._client(nb)
        with client.setup_kernel(cwd=str(cwd), cleanup_kc=False):
            self.km, self.kc = client.km, client.kc
            self._prepare(cwd)
            client.reset_execution_trackers()
            self.notebooks += 1
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                started = time.perf_counter()
                try:
                    client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                finally:
                    cell.metadata.setdefault("papermill", {})["duration"] = round(time.perf_counter() - started, 3)
        return nb

    def _client(self, nb: Any) -> Any:
        from nbclient import NotebookClient

        client = NotebookClient(
            nb,
            km=self.km,
            kernel_name=_KERNEL_NAME,
            kernel_manager_class=self.manager_class,
            timeout=None,
            # the kernel's own start-up and shutdown chatter is not the user's concern
            extra_arguments=["--IPKernelApp.log_level=CRITICAL", _SKIP_IRI_GRAMMAR],
        )
        if self.km is None:
            client.km = client.create_kernel_manager()
        client.kc = self.kc
        return client

    def start(self, *, cwd: Path, imports: Sequence[str] = ()) -> None:
        """Start the kernel now (not at the first notebook) and import ``imports`` in it.

        A run starts its kernels while it checks the data, so the notebooks find them ready with the
        package's common modules imported.
        """
        modules = ", ".join(repr(m) for m in imports)
        self._quietly(f"for _m in ({modules},):\n    __import__(_m)\ndel _m", cwd=cwd)

    def _prepare(self, cwd: Path) -> None:
        """Empty the namespace and set the working folder, in a notebook of its own (not the report's)."""
        self._quietly(f"get_ipython().run_line_magic('reset', '-f')\n__import__('os').chdir({str(cwd)!r})")

    def _quietly(self, code: str, *, cwd: Path | None = None) -> None:
        """Run ``code`` in the kernel (starting it if needed) in a notebook of its own, not the report's."""
        import nbformat

        cell = nbformat.v4.new_code_cell(code)
        client = self._client(nbformat.v4.new_notebook(cells=[cell]))
        with client.setup_kernel(cleanup_kc=False, **({"cwd": str(cwd)} if cwd else {})):
            self.km, self.kc = client.km, client.kc
            client.execute_cell(cell, 0, store_history=False)

    def close(self) -> None:
        """Shut the kernel down (nothing happens when none was started)."""
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            with contextlib.suppress(RuntimeError):  # already gone
                run_sync(self.km.shutdown_kernel)(now=True)
        self.km = self.kc = None


def run_notebook(
    notebook: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    name: str | None = None,
    raise_on_error: bool = True,
    kernel: NotebookKernel | None = None,
    env: Mapping[str, str] | None = None,
) -> NotebookRun:
    """Execute one notebook into ``run_dir`` (parameters injected as papermill does) and write its HTML reports.

    Only the parameters the notebook declares are passed (others are noted in
    the result). A failing cell raises :class:`RunError` naming the notebook,
    the cell number and the error; the partly executed notebook and its HTML are
    still written so the failure can be read in context. ``kernel`` runs it in a
    kernel shared with other notebooks (default: a kernel of its own). ``env`` is added
    to the environment of a kernel of its own (a password that must not be written into
    the notebook's parameters); a shared kernel has its own (:class:`NotebookKernel`).
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    source = Path(notebook).resolve()
    if not source.exists():
        msg = f"notebook {source} does not exist. Fix: pass a path under notebooks/"
        raise RunError(msg)
    out = Path(run_dir)
    label = name or source.stem
    executed = out / "notebooks" / f"{label}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    declared = notebook_parameters(source)
    given = dict(parameters or {})
    unknown = sorted(set(given) - set(declared))
    if unknown and any(k not in _COMMON for k in unknown):
        wrong = [k for k in unknown if k not in _COMMON]
        msg = (
            f"{source.name}: unknown parameter{'s' if len(wrong) > 1 else ''} {', '.join(wrong)}. "
            f"Fix: use one of {', '.join(declared) or 'none'}"
        )
        raise RunError(msg)
    passed = {k: v for k, v in given.items() if k in declared}
    result = NotebookRun(name=label, notebook=str(source), parameters=passed, executed=str(executed.relative_to(out)))
    started = time.perf_counter()
    own = kernel is None
    runner = kernel or NotebookKernel(env=env)
    nb = None
    try:
        nb = load_notebook_node(str(source))
        if passed:  # as papermill: a cell of the values given, after the parameters cell
            nb = parameterize_notebook(nb, passed, language="python")
        runner.execute(nb, cwd=out.resolve())  # relative paths a notebook writes land in the run folder
        result.status = "ok"
    except CellExecutionError as exc:
        result.status = "failed"
        index = next((i for i, c in enumerate(nb.cells) if _failed(c)), 0) if nb is not None else 0
        count = nb.cells[index].get("execution_count") if nb is not None else None
        first_line = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
        result.error = f"cell {count} (#{index + 1}) raised {exc.ename}: {first_line}"
    except DeadKernelError as exc:
        result.status = "failed"
        result.error = f"the kernel died ({exc})"
        runner.close()  # the next notebook starts a new one
    except Exception as exc:  # kernel could not start, notebook unreadable
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if own:
            runner.close()
    result.seconds = round(time.perf_counter() - started, 2)
    if nb is not None:
        write_text(executed, nbformat.writes(nb) + "\n")
        to_html(executed, out / f"{label}.html", include_code=False)
        to_html(executed, out / f"{label}.code.html", include_code=True)
        result.html = f"{label}.html"
        result.code_html = f"{label}.code.html"
    if result.status == "failed" and raise_on_error:
        msg = f"{source.name}: {result.error}. The executed notebook is {executed}"
        raise RunError(msg)
    return result


def _failed(cell: Any) -> bool:
    return cell.get("cell_type") == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", []))


# jsonschema (imported by Altair) registers IRI format checks when rfc3987_syntax is installed (a
# JupyterLab dependency), and that module builds a grammar on import: about 1 s of every report
# kernel's start, for checks no report makes. Report kernels import jsonschema without it.
_SKIP_IRI_GRAMMAR = "--IPKernelApp.exec_lines=import sys; sys.modules.setdefault('rfc3987_syntax', None)"

# What every pipeline notebook imports first: imported in each kernel while the run checks the data.
_COMMON_IMPORTS = ("workbench.display", "workbench.io")

_COMMON = {"data_path", "strategy_path", "output_dir", "as_of", "interactive"}


# ---------------------------------------------------------------- outputs of a run


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in _VERSIONED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def _inputs(paths: Sequence[Path | str]) -> list[dict[str, Any]]:
    """Each input file with its size and sha256; a database or a Spark catalog by its name (no password)."""
    files: list[Path] = []
    sources: list[dict[str, Any]] = []
    for p in paths:
        if is_postgres_url(p):
            sources.append({"url": shown_url(str(p)), "kind": "postgresql"})
            continue
        if is_spark_source(p):
            sources.append({"url": str(p), "kind": "spark catalog"})
            continue
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.exists():
            files.append(p)
    return sources + [{"path": str(f.resolve()), "bytes": f.stat().st_size, "sha256": file_sha256(f)} for f in files]


def write_manifest(
    run_dir: Path,
    *,
    runs: Sequence[NotebookRun],
    inputs: Sequence[Path | str],
    parameters: Mapping[str, Any],
    command: Sequence[str],
    seconds: float,
    status: str = "complete",
) -> Path:
    """Write ``manifest.json``: inputs with sha256, parameters, versions, timings, outputs, and ``status``
    (``complete``, or ``interrupted`` when the run was stopped and its outputs are incomplete)."""
    outputs = sorted(
        str(f.relative_to(run_dir))
        for f in run_dir.rglob("*")
        if f.is_file() and f.name != "manifest.json" and not f.name.startswith(".")
    )
    manifest = {
        "run_id": run_dir.name,
        "status": status,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": _redacted(command),
        "parameters": {k: shown_url(v) if is_postgres_url(v) else v for k, v in parameters.items()},
        "inputs": _inputs(list(inputs)),
        "versions": _versions(),
        "seconds": round(seconds, 2),
        "notebooks": [asdict(r) for r in runs],
        "outputs": outputs,
    }
    text = json.dumps(manifest, indent=2, default=str) + "\n"
    return write_text(run_dir / "manifest.json", text)


_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 960px; padding: 0 1rem; color: #1f2933; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} .meta {{ color: #52606d; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }}
th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e4e7eb; vertical-align: top; }}
th {{ background: #f5f7fa; font-weight: 600; }}
.ok {{ color: #18794e; font-weight: 600; }} .failed {{ color: #b42318; font-weight: 600; }}
code {{ font-size: .85em; background: #f5f7fa; padding: .1rem .3rem; border-radius: 3px; }}
a {{ color: #1d4ed8; }}
</style></head><body>
<h1>{title}</h1>
<p class="meta">Run <code>{run_id}</code> · {created} · {seconds:.1f} s · <a href="manifest.json">manifest.json</a></p>
<h2>Reports</h2>
<table><thead><tr><th>report</th><th>the question it answers</th><th>status</th><th>time</th><th>links</th></tr>
</thead><tbody>
{rows}
</tbody></table>
<h2>Outputs</h2>
<table><thead><tr><th>folder</th><th>files</th></tr></thead><tbody>
{outputs}
</tbody></table>
</body></html>
"""


_QUESTIONS = {
    "01_explore_audiences": "Who can we reach, by which channel, in which segments, and what are they worth?",
    "02_preview_messages": "Are the messages ready to export, and what do the texts cost?",
    "03_plan_cadence": "How often does each customer hear from us, and which rules hold touches back?",
    "04_generate_journeys": "What do the journeys do, and can each tool carry them?",
    "05_measure_results": "Which variants won, and what does each channel return?",
}


def write_index(run_dir: Path, runs: Sequence[NotebookRun], *, title: str, seconds: float) -> Path:
    """Write ``index.html`` linking every report and output of the run."""
    rows = []
    for r in runs:
        links = []
        if r.html:
            links.append(f'<a href="{html.escape(r.html)}">report</a>')
        if r.code_html:
            links.append(f'<a href="{html.escape(r.code_html)}">with code</a>')
        if r.executed:
            links.append(f'<a href="{html.escape(r.executed)}">notebook</a>')
        status = f'<span class="{r.status}">{r.status}</span>'
        if r.error:
            status += f"<br><small>{html.escape(r.error)}</small>"
        question = html.escape(_QUESTIONS.get(r.name, ""))
        rows.append(
            f"<tr><td>{html.escape(r.name)}</td><td>{question}</td><td>{status}</td><td>{r.seconds:.1f} s</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    groups: dict[str, list[str]] = {}
    for f in sorted(run_dir.rglob("*")):
        rel = f.relative_to(run_dir)
        if not f.is_file() or f.name.startswith(".") or rel.parts[0] == "notebooks" or len(rel.parts) == 1:
            continue
        groups.setdefault(str(rel.parent), []).append(str(rel))
    for f in sorted(run_dir.iterdir()):
        if f.is_file() and f.suffix in {".csv", ".parquet", ".json"} and f.name != "manifest.json":
            groups.setdefault(".", []).append(f.name)
    outputs = (
        "\n".join(
            f"<tr><td>{html.escape(folder)}</td><td>"
            + ", ".join(f'<a href="{html.escape(p)}">{html.escape(Path(p).name)}</a>' for p in files[:40])
            + (f" … and {len(files) - 40} more" if len(files) > 40 else "")
            + "</td></tr>"
            for folder, files in sorted(groups.items())
        )
        or "<tr><td colspan=2>none</td></tr>"
    )
    page = _INDEX.format(
        title=html.escape(title),
        run_id=html.escape(run_dir.name),
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=seconds,
        rows="\n".join(rows),
        outputs=outputs,
    )
    return write_text(run_dir / "index.html", page)


# ---------------------------------------------------------------- runs


class _Progress(Protocol):
    """What the runs use of a progress bar (tqdm's)."""

    def __enter__(self) -> _Progress: ...

    def __exit__(self, *exc: object) -> object: ...

    def update(self, n: int = 1) -> object: ...


def _progress(total: int, desc: str) -> _Progress:
    from tqdm.auto import tqdm

    bar: _Progress = tqdm(total=total, desc=desc, unit="notebook", file=sys.stderr, disable=total == 0 or None)
    return bar


def run(
    notebook: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] = "out",
    command: Sequence[str] = (),
) -> Path:
    """Run one notebook into a new run folder under ``out`` with its HTML, index and manifest.

    ``output_dir`` defaults to the run folder. Returns the run folder; raises
    :class:`RunError` (after writing the index) when a cell fails.
    """
    started = time.perf_counter()
    declared = notebook_parameters(notebook)  # a path that is not a notebook stops here, before any folder is made
    params, env = _secrets(dict(parameters or {}))
    run_dir = new_run_dir(out)
    if "output_dir" in declared:
        params.setdefault("output_dir", str(run_dir))
    if "interactive" in declared:
        params.setdefault("interactive", False)  # a report has no live kernel behind its controls
    with _progress(1, "notebooks") as bar:
        result = run_notebook(notebook, run_dir, parameters=params, raise_on_error=False, env=env)
        bar.update(1)
    seconds = time.perf_counter() - started
    inputs: list[Path | str] = [Path(notebook)]
    for k, v in params.items():
        if (
            k.endswith("_path")
            and isinstance(v, str)
            and (is_postgres_url(v) or is_spark_source(v) or Path(v).exists())
        ):
            inputs.append(v if is_postgres_url(v) or is_spark_source(v) else Path(v))
    write_index(run_dir, [result], title=f"Workbench run: {Path(notebook).stem}", seconds=seconds)
    write_manifest(run_dir, runs=[result], inputs=inputs, parameters=params, command=command, seconds=seconds)
    if result.status != "ok":
        msg = f"{Path(notebook).name}: {result.error}. See {run_dir / 'index.html'}"
        raise RunError(msg)
    return run_dir


def pipeline(
    *,
    strategy: str | os.PathLike[str] | None = None,
    data: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = "out",
    as_of: str | None = None,
    notebooks: Sequence[str] | None = None,
    workers: int = 2,
    command: Sequence[str] = (),
    engine: str = "duckdb",
    master: str | None = None,
) -> Path:
    """Run the strategy's notebooks on a dataset into a new run folder and return it.

    ``strategy`` and ``data`` default to the bundled sample strategy and data; ``data`` may
    also be a PostgreSQL URL or, with the spark engine, a schema of Spark's catalog (``spark:shop``).
    Both are read and validated first, so a contract error stops the run before
    any notebook starts. ``as_of`` defaults to the day of the last order in the
    data (:func:`workbench.application.default_as_of`, never the clock), so a
    rerun on the same data gives the same reports; each notebook applies the
    same rule. Independent notebooks run side by side (``workers``). A failed
    notebook does not stop the others; the run raises :class:`RunError` at the
    end, after the index and manifest are written.
    """
    started = time.perf_counter()
    strategy_path = Path(strategy or sample_strategy()).resolve()
    given = str(data) if data is not None else ""
    source: Path | str = given if is_postgres_url(given) or is_spark_source(given) else Path(data or sample_data())
    source = source.resolve() if isinstance(source, Path) else source
    stems = [stem for stem, _ in PIPELINE]
    if notebooks is not None:
        unknown = sorted(set(notebooks) - set(stems))
        if unknown or not notebooks:
            msg = (
                f"no pipeline notebook {', '.join(unknown) or '(none given)'}. "
                f"Fix: name one or more of {', '.join(stems)}"
            )
            raise RunError(msg)
    folder = notebooks_dir()
    chosen = [(folder / f"{stem}.ipynb", stem, sub) for stem, sub in PIPELINE if notebooks is None or stem in notebooks]
    for path, _, _ in chosen:
        if not path.exists():
            msg = f"notebook {path} is missing. Fix: reinstall the package, or set WORKBENCH_NOTEBOOKS to a full copy"
            raise RunError(msg)
    common: dict[str, Any] = {"data_path": str(source), "strategy_path": str(strategy_path), "interactive": False}
    common, env = _secrets(common)
    if as_of:
        common["as_of"] = as_of
    if engine != "duckdb" or master:  # the notebooks' engine parameters (their default is duckdb)
        common.update(engine=engine, spark_master=master)

    results: dict[str, NotebookRun] = {}
    waiting: queue.SimpleQueue[tuple[Path, str, dict[str, Any]]] = queue.SimpleQueue()
    ready, stop = threading.Event(), threading.Event()

    def worker(bar: _Progress) -> None:
        # One kernel per worker for all its notebooks: imports and the data are loaded once per worker.
        # It starts while the data is checked, and takes notebooks once the checks passed.
        with NotebookKernel(env=env) as kernel:
            try:
                kernel.start(cwd=folder, imports=_COMMON_IMPORTS)
            except Exception:
                if stop.is_set():
                    return  # stopped while it started (Ctrl-C or a failed check): the run says why
                raise
            ready.wait()
            while not stop.is_set():
                try:
                    path, name, params = waiting.get_nowait()
                except queue.Empty:
                    return
                results[name] = run_notebook(
                    path, run_dir, parameters=params, name=name, raise_on_error=False, kernel=kernel
                )
                bar.update(1)

    def wait_for(threads: Sequence[threading.Thread]) -> None:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)  # short waits: Ctrl-C is seen at once

    with _progress(len(chosen), "notebooks") as bar:
        threading.Thread(target=vega_script, daemon=True).start()  # read (or built) while kernels start
        count = max(1, min(workers, len(chosen)))
        threads = [threading.Thread(target=worker, args=(bar,), daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        try:
            # Read and checked first (by Spark with the spark engine, as the notebooks will read it):
            # a contract error stops the run before any notebook starts and before any folder is made.
            loaded: Strategy = load_strategy(strategy_path)
            if engine == "spark" and reads_with_spark(source):
                from .engines.spark import session

                tables: Any = read_spark_tables(session(master), source)
            else:
                tables = load_dataset(source)
            resolved_as_of = as_of or default_as_of(tables).isoformat()
        except BaseException as exc:
            stop.set()
            ready.set()
            interrupted = is_interrupt(exc)
            if interrupted or not isinstance(exc, Exception):  # Ctrl-C or an exit: do not wait for kernels
                stop_kernels()
            wait_for(threads)
            if interrupted and not isinstance(exc, KeyboardInterrupt):
                raise KeyboardInterrupt from exc  # Ctrl-C while DuckDB read the data
            raise
        run_dir = new_run_dir(out)
        jobs = [
            (path, stem, {**common, "output_dir": str(run_dir / sub) if sub else str(run_dir)})
            for path, stem, sub in chosen
        ]
        jobs.sort(key=lambda job: _EXPECTED_SECONDS.get(job[1], 0), reverse=True)  # longest first: less idle
        for job in jobs:
            waiting.put(job)
        parameters = {**common, "as_of": resolved_as_of, "as_of_source": "given" if as_of else "latest order"}
        paths = {name: path for path, name, _ in jobs}

        def finish(status: str) -> list[NotebookRun]:
            ordered = [
                results.get(stem) or NotebookRun(name=stem, notebook=str(paths[stem]), status="interrupted")
                for stem, _ in PIPELINE
                if stem in paths
            ]
            seconds = time.perf_counter() - started
            title = loaded.name if status == "complete" else f"{loaded.name} (interrupted: incomplete)"
            write_index(run_dir, ordered, title=title, seconds=seconds)
            inputs: list[Path | str] = [source, strategy_path]
            write_manifest(
                run_dir,
                runs=ordered,
                inputs=inputs,
                parameters=parameters,
                command=command,
                seconds=seconds,
                status=status,
            )
            return ordered

        try:
            ready.set()
            wait_for(threads)
        except KeyboardInterrupt:
            # Stop now: no queued notebook starts, running kernels are killed, the folder says it is incomplete.
            stop.set()
            stop_kernels()
            finish("interrupted")
            write_text(run_dir / "INCOMPLETE", "This run was interrupted: its reports and outputs are incomplete.\n")
            raise
    ordered = finish("complete")
    failed = [r for r in ordered if r.status != "ok"]
    if failed:
        lines = "; ".join(f"{r.name}: {r.error}" for r in failed)
        msg = f"{len(failed)} of {len(ordered)} notebooks failed ({lines}). See {run_dir / 'index.html'}"
        raise RunError(msg)
    return run_dir
