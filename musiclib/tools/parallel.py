"""One parallel map for corpus work: local processes with joblib, or a Dask cluster, same call.

:func:`map` runs on joblib's local workers by default, or, given a Dask scheduler's address (the
``scheduler`` parameter, else ``$MUSICLIB_DASK_SCHEDULER``), on that ``dask.distributed`` cluster
through joblib's Dask backend. Functions and items travel with cloudpickle (closures and bound methods
work). Work that writes files must write atomically (:func:`musiclib.tools.atomic_write`) to storage
every worker sees: two workers may compute the same entry at once. Starting a cluster: README,
"Outgrowing one machine". Benchmark: ``benchmarks/cache.py``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import numbers
import os
import traceback

from musiclib.errors import ParameterError, check_choice, check_int, check_positive

__all__ = ["map", "scheduler_address", "SCHEDULER_ENV", "PREFER"]

#: The environment variable naming the Dask scheduler (``tcp://10.0.0.5:8786``) :func:`map` uses by default.
SCHEDULER_ENV = "MUSICLIB_DASK_SCHEDULER"
#: Local worker kinds: ``"processes"`` (joblib's loky) or ``"threads"`` (for work that releases the GIL).
PREFER = ("processes", "threads")


def scheduler_address(scheduler=None):
    """The Dask scheduler :func:`map` would use: ``scheduler``, else ``$MUSICLIB_DASK_SCHEDULER``, else None.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        An address such as ``"tcp://10.0.0.5:8786"``, or a connected client.

    Returns
    -------
    str or distributed.Client or None
        None: run locally.

    Raises
    ------
    ParameterError
        ``scheduler`` is neither None, a non-empty string nor a ``distributed.Client``.
    """
    if scheduler is None:
        return os.environ.get(SCHEDULER_ENV, "").strip() or None
    if isinstance(scheduler, str) and scheduler.strip():
        return scheduler.strip()
    if type(scheduler).__name__ == "Client" and hasattr(scheduler, "scheduler_info"):
        return scheduler
    raise ParameterError(f"scheduler={scheduler!r} must be a Dask scheduler address such as "
                         "'tcp://10.0.0.5:8786', a distributed.Client, or None (run locally)")


@contextlib.contextmanager
def _client(scheduler, timeout: float):
    """A connected ``distributed.Client`` for the call (a given client is used as it is, and left open)."""
    if not isinstance(scheduler, str):
        yield scheduler
        return
    from distributed import Client

    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ParameterError(
            f"scheduler={scheduler!r}: no Dask scheduler answered there within {timeout:g} s ({type(e).__name__}: {e}); "
            f"start one (`dask scheduler`) or unset {SCHEDULER_ENV} to run locally"
        ) from None
    with client:
        yield client


@dataclasses.dataclass
class _Failure:
    """What a task returns instead of raising, so the caller can name the item that failed."""

    error: BaseException
    trace: str


def _call(func, item):
    try:
        return func(item)
    except Exception as e:  # noqa: BLE001 - handed back whole, re-raised by map() naming the item
        return _Failure(e, traceback.format_exc())


def _describe(item) -> str:
    text = repr(item)
    return text if len(text) <= 200 else text[:197] + "..."


def _name(func) -> str:
    """``func``'s name for messages (a ``functools.partial`` shows the function it wraps)."""
    return getattr(func, "__qualname__", None) or getattr(getattr(func, "func", None), "__qualname__", None) or "func"


def map(func, items, *, n_jobs: int | None = None, scheduler=None, prefer: str = "processes",
        progress: bool = False, desc: str = "items", timeout: float = 10.0) -> list:
    """``[func(item) for item in items]``, computed in parallel, results in the items' order.

    Parameters
    ----------
    func : callable
        Called with one item.
    items : iterable
        The work, e.g. audio file paths.
    n_jobs : int, optional
        Local workers: None (default) or -1 every CPU (at most one per item), 1 in this process
        without a pool. Ignored on a Dask cluster (its workers set how many items run at once).
    scheduler : str or distributed.Client, optional
        A Dask scheduler address or client (see :func:`scheduler_address`); neither: run locally.
    prefer : {"processes", "threads"}
        Local worker kind (:data:`PREFER`); ignored on a Dask cluster.
    progress, desc : bool, str
        Show a progress bar (tqdm) with this label as results arrive.
    timeout : float
        Seconds to wait for a Dask scheduler to answer.

    Returns
    -------
    list
        ``func(item)`` for each item, in order.

    Raises
    ------
    ParameterError
        A bad argument, or no Dask scheduler answering at the address.
    Exception
        The first exception ``func`` raised (in the items' order), with notes naming the item, its
        index and (from another process) the worker's traceback.

    Examples
    --------
    >>> from musiclib.tools import parallel
    >>> parallel.map(abs, [-2, 3, -4], n_jobs=1)
    [2, 3, 4]
    """
    if not callable(func):
        raise ParameterError(f"func={func!r} must be callable")
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise ParameterError(f"items={_describe(items)} must be an iterable of items (a list of paths, ...)")
    items = list(items)
    if n_jobs is not None and not (isinstance(n_jobs, numbers.Integral) and not isinstance(n_jobs, bool)
                                   and n_jobs == -1):
        n_jobs = check_int("n_jobs", n_jobs, note="or -1: every CPU, or None")
    check_choice("prefer", prefer, PREFER)
    timeout = check_positive("timeout", timeout)
    address = scheduler_address(scheduler)
    if not items:
        return []
    n = len(items)
    workers = min((os.cpu_count() or 1) if n_jobs in (None, -1) else int(n_jobs), n)

    from tqdm.auto import tqdm

    with contextlib.ExitStack() as stack:
        if address is None and workers == 1:  # no pool: run here, lazily, stopping at the first failure
            results = (_call(func, item) for item in items)
        else:
            import joblib

            if address is None:
                config = {"backend": "loky" if prefer == "processes" else "threading", "n_jobs": workers}
            else:
                client = stack.enter_context(_client(address, timeout))
                config = {"backend": "dask", "n_jobs": -1, "client": client}
            stack.enter_context(joblib.parallel_config(**config))
            tasks = (joblib.delayed(_call)(func, item) for item in items)
            results = joblib.Parallel(return_as="generator")(tasks)
            stack.callback(results.close)  # a failure stops the tasks not yet started
        out = []
        for i, result in enumerate(tqdm(results, total=n, desc=desc, disable=not progress)):
            if isinstance(result, _Failure):
                error = result.error
                error.add_note(f"parallel.map: {_name(func)}() failed on item {i} of {n}: {_describe(items[i])}")
                if address is not None or workers > 1:
                    error.add_note("in the worker:\n" + result.trace.rstrip())
                raise error
            out.append(result)
    return out
