"""The explorer-model protocol, written once: :class:`ExplorerModel` (the defaults, update with
rollback, the split of work between what is shown now and what is computed afterwards) and
:class:`Worker` (the one background thread every model uses). Plain Python: no widgets, no matplotlib.
"""

from __future__ import annotations

import abc
import asyncio
import copy
import threading
import time
from collections import OrderedDict

import numpy as np

from .. import checks
from .settings import with_changes

__all__ = ["ExplorerModel", "Worker", "Cancelled", "cancellable", "never", "in_kernel", "seconds_per_step",
           "measured", "grid_seconds", "measured_grid", "timed_run", "DRAG_SECONDS", "SHOWN_SECONDS", "CLOSED"]


DRAG_SECONDS = 0.05  # a drag update computes about this long at most (longer runs are cut while dragging)
SHOWN_SECONDS = 0.25  # what is shown is computed in the kernel's thread when estimated below this
RATE: dict = {}  # seconds per step of one start, per method (and per grid point): measured as runs are made


def seconds_per_step(key: str) -> float:
    """The measured cost of one step of method ``key`` (the registry's first estimate before any run)."""
    from .. import methods

    return RATE.get(key, methods.METHODS[key].cost)


def measured(key: str, seconds: float, steps: int):
    """Record that ``steps`` steps of method ``key`` took ``seconds`` (a running average)."""
    if steps > 0 and np.isfinite(seconds) and seconds > 0:
        RATE[key] = 0.7 * seconds_per_step(key) + 0.3 * seconds / steps


def grid_seconds(key: str) -> float:
    """The measured cost of one step of one start of method ``key`` in a large batch (a basin map)."""
    from .. import methods

    return RATE.get(("grid", key), methods.METHODS[key].grid_cost)


def measured_grid(key: str, seconds: float, point_steps: int):
    if point_steps > 0 and np.isfinite(seconds) and seconds > 0:
        RATE[("grid", key)] = 0.7 * grid_seconds(key) + 0.3 * seconds / point_steps


def timed_run(m, landscape, starts, schedule, n_steps, **options):
    """``m.run(...)``, its cost recorded for the estimates."""
    t = time.perf_counter()
    out = m.run(landscape, starts, schedule, n_steps, **options)
    measured(m.key, time.perf_counter() - t, n_steps)
    return out


CLOSED = "This explorer is closed: its computations were stopped. Make a new explorer to go on."


class Cancelled(Exception):
    """Raised inside a piece of background work once a newer change has superseded it."""


def cancellable(landscape, cancelled):
    """``landscape`` whose gradient raises :class:`Cancelled` once ``cancelled()`` is True (a
    shallow copy: a run in the worker thread stops within a step of being superseded)."""
    if cancelled is None or getattr(cancelled, "never", False):
        return landscape
    out = copy.copy(landscape)
    grad = landscape._grad_fn

    def checked(x, **params):
        if cancelled():
            raise Cancelled
        return grad(x, **params)

    out._grad_fn = checked
    return out


def never() -> bool:
    return False


never.never = True


def in_kernel() -> bool:
    """True inside a running IPython kernel (its callbacks run on the kernel's event loop)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Worker:
    """One worker thread for the slow part of an update; the newest request wins. ``submit(key,
    compute, done)`` runs ``compute(cancelled)`` in the thread (``cancelled()`` turns True once a
    newer request, :meth:`drop` or :meth:`close` superseded it; long work checks it and raises
    :class:`Cancelled`), then ``done(result)`` in the kernel's own thread (its event loop), never
    in the worker's, and only if it is still the newest request. After :meth:`close` nothing is
    submitted any more (``closed`` is True)."""

    def __init__(self, name: str = "reachkit-explorer"):
        self._name, self._pool, self._gen, self.job, self.closed = name, None, 0, None, False

    @staticmethod
    def available(mode="auto") -> bool:
        """Whether to compute in the background: ``mode`` True, or "auto" inside a running kernel,
        and an event loop to come back to (outside one, e.g. in tests and nbval, work is synchronous)."""
        if mode is False or (mode == "auto" and not in_kernel()):
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def pending(self, key) -> bool:
        """Whether the request in flight is for ``key``."""
        return self.job is not None and self.job[1] == key

    @property
    def busy(self) -> bool:
        return self.job is not None

    def drop(self):
        """Forget the request in flight (it is told to stop; its result will be ignored)."""
        self._gen += 1
        self.job = None

    def submit(self, key, compute, done):
        if self.closed:
            raise RuntimeError("this explorer is closed: make a new one to compute again")
        loop = asyncio.get_running_loop()
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        self._gen += 1
        gen = self._gen

        def cancelled() -> bool:
            return gen != self._gen

        def run():
            if cancelled():
                raise Cancelled
            with checks.quiet_work():  # an explorer's work has its own budget and status line
                return compute(cancelled)

        fut = self._pool.submit(run)
        self.job = (gen, key, fut)

        def finished(f):  # back in the kernel's thread
            if self.job is None or self.job[0] != gen or f.cancelled():
                return
            self.job = None
            if f.exception() is None:
                done(f.result())
            elif not isinstance(f.exception(), Cancelled):
                done(f.exception())  # the model shows it in the status line

        def back(f):  # in the worker thread
            try:
                loop.call_soon_threadsafe(finished, f)
            except RuntimeError:  # the loop has closed meanwhile (the session ended): nothing to show
                pass

        fut.add_done_callback(back)

    def wait(self, timeout=None, done=None):
        """Block until the request in flight (if any) is done; then ``done(result)`` here."""
        job = self.job
        if job is None:
            return
        try:
            result = job[2].result(timeout)
        except (Cancelled, TimeoutError):
            if self.job is job and not job[2].done():
                raise TimeoutError(f"the background work did not finish within {timeout} s") from None
            return
        except Exception as exc:  # noqa: BLE001 (handed to the model, shown in the status line)
            result = exc
        if self.job is job:
            self.job = None
            done(result)

    def close(self):
        """Stop: the request in flight is dropped and nothing new is accepted."""
        self.closed = True
        self.drop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class _Checked(abc.ABCMeta):
    """Checks the protocol once ``__init__`` has run: a missing member fails at construction."""

    def __call__(cls, *args, **kwargs):
        with checks.quiet_work():  # its first runs: bounded by the explorer's own budget
            obj = super().__call__(*args, **kwargs)
        obj._check_protocol()
        return obj


class ExplorerModel(metaclass=_Checked):
    """The protocol between an explorer model and the assembly
    (:class:`reachkit.explorers.explorer.Explorer`). A model is plain Python: settings in, runs,
    read-outs and status out; no widgets, no matplotlib.

    A subclass sets, in ``__init__``: ``declarations`` (:class:`~reachkit.explorers.settings.Setting`
    list; the controls are built from it), ``values`` (name -> exact value of every declared
    setting), ``landscape``, ``step_range`` ((low, high) of the step slider) and ``current`` (the
    :class:`~reachkit.explorers.runs.Run` shown, e.g. by calling ``self.refresh()``); and defines
    ``series()`` (the view's series: key, name, colour, width, marker), ``static_layer()`` (the
    :class:`~reachkit.explorers.runs.StaticLayer` drawn behind the paths; it computes nothing),
    ``static_key()`` (changes exactly when the static layer does), ``readout_lines(frame)`` and
    ``describe(frame)`` (words; ``describe`` includes the read-outs), and ``_show(changed, final)``:
    compute what is shown for ``self.values`` and assign it (``current`` and what the static layer
    needs), returning what changed as a subset of {"runs", "fan", "background"}. A member left out
    is a TypeError when the model is made, not at the first change.

    Defaults (override as needed): ``step`` and ``start`` (``values["step"]``, ``values["start"]``),
    ``paths`` (``current.paths``), ``fan`` and ``fan_steps`` (runs precomputed for step-slider
    positions; empty: every step goes to the kernel), ``fan_index(step)``, ``step_marks()`` (ticks
    on the step slider), ``step_label``, ``clickable`` (a click or drag on the plot sets the start),
    ``click(point) -> changes``, ``inactive()`` (settings that do nothing now: their controls are
    disabled), ``listen(callback)``, ``wait()``, ``busy``, ``close()``.

    ``update(final=True, **changes)`` checks every change by its declaration, then computes; if
    anything fails (the dynamics, the read-outs, the static layer's key) the model is left exactly
    as it was and the error raised (the assembly shows it; the last valid picture stays).
    ``final=False`` is a drag update: only what is shown (``_show(changed, final=False)``: the runs,
    the landscape at the new parameters, a coarse basin map). ``final=True`` (a typed value, a
    release) computes what is shown first and then what the rest of the picture needs
    (``_pending()``: the step fan, full basins, the bifurcation diagram): inside a running kernel
    in the :class:`Worker` thread, superseded by the next change, the result taken in by
    ``_settle()`` and announced through ``listen``'s callback with what changed; elsewhere (tests,
    nbval) at once, so the result is deterministic. ``busy`` is True while that work runs;
    ``wait()`` blocks until it is in.
    """

    clickable = True
    step_label = "step a"
    fan: list = ()
    fan_steps: list = ()
    background = "auto"  # compute the rest in the worker thread: "auto" (inside a running kernel), True, False
    _REQUIRED = ("declarations", "values", "landscape", "step_range", "current")
    _CACHE = 64  # pieces of background work kept (per model)

    # -- what a subclass provides ------------------------------------------------------------------
    @abc.abstractmethod
    def series(self) -> list[dict]: ...

    @abc.abstractmethod
    def static_layer(self): ...

    @abc.abstractmethod
    def static_key(self) -> tuple: ...

    @abc.abstractmethod
    def readout_lines(self, frame: int | None = None) -> list[str]: ...

    @abc.abstractmethod
    def describe(self, frame: int | None = None) -> str: ...

    @abc.abstractmethod
    def _show(self, changed: set, final: bool) -> set[str]: ...

    def _pending(self) -> list:
        """The background work the current state still lacks: [(key, compute(cancelled) -> value)].
        Each compute must use only what it captured (the kernel thread keeps changing the model);
        its value is kept under its key for :meth:`made` and :meth:`_settle`."""
        return []

    def _settle(self) -> set[str]:
        """Take in finished background work (via :meth:`made`); return what changed."""
        return set()

    # -- the defaults ------------------------------------------------------------------------------
    @property
    def step(self) -> float:
        return self.values["step"]

    @property
    def start(self) -> tuple:
        return self.values["start"]

    @property
    def paths(self) -> dict:
        """{series key: Path} of the run shown (exact)."""
        return self.current.paths

    def fan_index(self, step) -> int | None:
        """Index of ``step`` in ``fan_steps`` (an exact match), or None."""
        try:
            return list(self.fan_steps).index(float(step))
        except ValueError:
            return None

    def step_marks(self) -> list[dict]:
        return []

    def click(self, point) -> dict:
        """The changes a click (or a drag's point) on the plot at ``point`` makes."""
        return {"start": tuple(point)}

    def inactive(self) -> set[str]:
        return set()

    @property
    def settings(self) -> dict:
        """name -> Setting."""
        return {s.name: s for s in self.declarations}

    # -- update, with rollback ---------------------------------------------------------------------
    def update(self, final: bool = True, **changes) -> set[str]:
        """Apply checked changes, all or nothing; return what changed (a subset of {"runs", "fan",
        "background"}; empty when nothing did). See the class docstring for ``final``."""
        if self.closed:
            raise RuntimeError(CLOSED)
        new = with_changes(self.settings, self.values, changes)
        changed = {k for k in changes if new[k] != self.values[k]}
        if not changed and not (final and self.draft):
            return set()
        saved = dict(vars(self))
        with checks.quiet_work():  # the explorer's budget bounds what runs now; its status line speaks
            try:
                self.values = new
                what = set(self._show(changed, final))
                self.draft = not final
                self._check_shown()
            except BaseException:
                vars(self).clear()
                vars(self).update(saved)
                raise
            if final:
                what |= self._start_pending()
        return what

    def refresh(self):
        """Compute everything for the current values (at construction): what is shown, then the
        rest (in the worker inside a running kernel, else now)."""
        self._show(set(), True)
        self.draft = False
        self._check_shown()
        self._start_pending()

    def _check_shown(self):
        """Everything the assembly reads after an update must work before the update is kept
        (``describe`` holds the read-outs)."""
        self.describe()
        self.static_key()
        self.series()

    # -- the background work -------------------------------------------------------------------------
    draft = False  # True after a drag update (final=False): the fan, full basins... are not computed
    _listener = None

    @property
    def worker(self) -> Worker:
        if "_worker" not in vars(self):
            self._worker = Worker()
        return self._worker

    @property
    def _made(self) -> OrderedDict:
        if "_made_cache" not in vars(self):
            self._made_cache, self._made_lock = OrderedDict(), threading.Lock()
        return self._made_cache

    def made(self, key, default=None):
        """The finished background piece ``key`` (or ``default``)."""
        made = self._made
        with self._made_lock:
            return made.get(key, default)

    def _keep(self, key, value):
        made = self._made
        with self._made_lock:
            made[key] = value
            made.move_to_end(key)
            while len(made) > self._CACHE:
                made.popitem(last=False)

    def _compute_pieces(self, pieces, cancelled=never):
        for key, compute in pieces:
            if cancelled():
                raise Cancelled
            if self.made(key) is None:
                self._keep(key, compute(cancelled))

    def _start_pending(self) -> set[str]:
        """Start the background work the state lacks; return what changed if it was done at once."""
        pieces = [(k, f) for k, f in self._pending() if self.made(k) is None]
        if not pieces:
            self.worker.drop()
            return self._settle()
        key = tuple(k for k, _ in pieces)
        if self.worker.pending(key):
            return set()
        if self.in_background():
            self.worker.submit(key, lambda cancelled: self._compute_pieces(pieces, cancelled), self._arrived)
            return set()
        self.worker.drop()  # a result computed now supersedes any work in flight
        self._compute_pieces(pieces)
        return self._settle()

    def _arrived(self, result):
        """Background work is done (in the kernel's thread): take it in and tell the listener."""
        if self.worker.closed:
            return
        if isinstance(result, Exception):
            self.background_error = f"{type(result).__name__}: {result}"
        what = self._settle()
        what |= self._start_pending()  # what the state lacks now (a change arrived meanwhile)
        if self._listener is not None and what:
            self._listener(what)

    background_error = None  # the last background failure, in words (shown by the model's status)

    def in_background(self) -> bool:
        """Whether the rest of an update goes to the worker thread (see :meth:`Worker.available`)."""
        return Worker.available(self.background) and not self.closed

    @property
    def busy(self) -> bool:
        """True while background work for this model runs."""
        return "_worker" in vars(self) and self._worker.busy

    def listen(self, callback):
        """``callback(what)`` runs in the kernel's thread when background work has changed ``what``
        (a subset of {"runs", "fan", "background"})."""
        self._listener = callback

    def wait(self, timeout: float | None = None):
        """Block until the background work (if any) is done and taken in."""
        while self.busy:
            self.worker.wait(timeout, self._arrived_waiting)
        return self

    def _arrived_waiting(self, result):
        self._arrived(result)

    def close(self):
        """Stop the background work; this model computes nothing more."""
        self.worker.close()

    @property
    def closed(self) -> bool:
        return "_worker" in vars(self) and self._worker.closed

    # -- construction check ------------------------------------------------------------------------
    def _check_protocol(self):
        missing = [n for n in self._REQUIRED if not hasattr(self, n)]
        if missing:
            raise TypeError(f"{type(self).__name__} must set {missing} in __init__ (see ExplorerModel)")
        names = [s.name for s in self.declarations]
        if sorted(names) != sorted(self.values):
            raise TypeError(f"{type(self).__name__}.values must hold exactly the declared settings "
                            f"{names}; got {sorted(self.values)}")
