"""GeoDE's ``JobServer`` API for users' own scripts, on top of the same dispatch machinery.

    from geode.jobs.compat import JobServer

    def on_done(job):                      # called from ONE background thread, in completion order
        if job.exception: print(job.ip_addr, job.exception)   # a traceback string, never an object
        else: totals.append(job.result)

    server = JobServer(run_parallel=True)  # config: a geode Settings, a config file path, or None (the usual lookup)
    server.create_cluster(my_module.process_station, callback=on_done, progress_bar=tqdm_bar,
                          on_nodes_changed=lambda nodes: print(sum(n.avail_cpus for n in nodes)))
    for stn in stations:
        server.submit_async(stn)          # returns the JobResult at once; its callback fires later
    server.wait()                          # every callback has run when this returns
    server.close_cluster()

Contract (differences from the dispy version are deliberate):

* ``function`` is a registered ``geode.jobs`` task (any name in ``geode.jobs.all_tasks()``), or a module-level
  function importable by its module path on every worker (not one defined in a script run as ``__main__``).
  Registered tasks travel as JSON. Plain functions are called on workers through ``geode.jobs.call``, which
  imports them by name: that is code execution chosen by whoever writes to the broker, so workers accept it only
  with ``[celery] allow_pickle = true`` (a trusted, password-protected Redis). Inline runs accept both.
* Arguments and results go through the JSON codec in both modes (inline behaves as a worker would).
* Callbacks fire from a background thread, also before ``wait()``, never inside ``submit``/``submit_async``;
  exceptions inside a callback are logged and do not stop the others. The progress bar ticks after the callback,
  for successes and failures alike.
* ``JobResult``: ``result``, ``exception`` (traceback text or None), ``ip_addr`` (worker host), ``id`` (hashable),
  ``args``, ``status``.
* ``on_nodes_changed`` is called with ``WorkerNode(name, avail_cpus)`` objects when the cluster is created.
* Ctrl-C inside ``wait()`` cancels what is still queued or running and re-raises KeyboardInterrupt.
* Problems raise ``geode.errors`` exceptions (broker down → ServiceUnavailable) instead of ``os._exit(1)``.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import platform
import queue
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ConfigError, UsageError
from . import codec
from .registry import Task, all_tasks, load_task_modules, task

log = logging.getLogger("geode.jobs")
_ids = itertools.count(1)


@dataclass
class WorkerNode:
    name: str
    avail_cpus: int

    @property
    def ip_addr(self) -> str:
        return self.name


@dataclass
class JobResult:
    args: tuple
    id: int = field(default_factory=lambda: next(_ids))
    result: Any = None
    exception: str | None = None
    ip_addr: str | None = None
    status: str = "Created"  # Created, Finished, Terminated, Cancelled


def _trusted_broker() -> bool:
    from ..config import load_settings

    return bool(load_settings().get("celery.allow_pickle", False))


@task("geode.jobs.call", queue="compute")
def call(target: str, args: list) -> Any:
    """Call the importable function ``module:qualname`` (JobServer facade); needs a trusted broker on workers."""
    if not _trusted_broker():
        raise ConfigError(f"refusing to import {target} from a message: set [celery] allow_pickle = true on this "
                          "worker to let the broker choose functions, or register the function as a geode task")
    return resolve_function(target)(*args)


def function_path(function: Callable) -> str:
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        raise UsageError(f"{getattr(function, '__name__', function)!r} must be a module-level function in an "
                         "importable module (not defined in the script being run, nor a lambda/closure)")
    return f"{module}:{qualname}"


def resolve_function(target: str) -> Callable:
    module, _, qualname = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class JobServer:
    def __init__(self, config=None, check_gamit_tables=None, check_archive=True, check_executables=True,
                 check_atx=True, run_parallel=True, software_sync=()):
        from ..config import Settings, load_settings

        self.settings = config if isinstance(config, Settings) else load_settings(config)
        self.run_parallel = bool(self.settings.parallel and run_parallel)
        self.nodes: list[WorkerNode] = []
        self.progress_bar = None
        self.callback: Callable | None = None
        self._app = None
        self._thread: threading.Thread | None = None
        self._inbox: queue.Queue = queue.Queue()
        self._outstanding = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._task: Task | None = None
        self._target = ""
        self._sent: dict[str, JobResult] = {}
        if self.run_parallel:
            from ..distributed.app import get_app
            from ..distributed.broker import check_broker

            check_broker(self.settings)
            self._app = get_app(self.settings)
        self.nodes = self._discover_nodes()

    # -- nodes -------------------------------------------------------------------------------------------------

    def _discover_nodes(self) -> list[WorkerNode]:
        if not self.run_parallel:
            return [WorkerNode(platform.node(), os.cpu_count() or 1)]
        from ..distributed.worker import workers_status

        return [WorkerNode(w.hostname, int(w.concurrency or 1)) for w in workers_status(self.settings)]

    # -- the cluster ---------------------------------------------------------------------------------------------

    def create_cluster(self, function, deps=(), callback=None, progress_bar=None, verbose=False, modules=(),
                       on_nodes_changed=None, node_setup=None, node_cleanup=None):
        """Set the function and callback for the following submits (``deps``/``modules`` are not needed)."""
        self.close_cluster()
        load_task_modules()
        if isinstance(function, Task):
            self._task, self._target = function, ""
        else:
            registered = next((t for t in all_tasks().values() if t.func is function), None)
            self._task = registered
            self._target = "" if registered else function_path(function)
        self._function = function
        self.callback, self.progress_bar = callback, progress_bar
        if node_setup is not None and not self.run_parallel:
            node_setup()
        self._stop.clear()
        self._thread = threading.Thread(target=self._dispatch, name="geode-jobserver", daemon=True)
        self._thread.start()
        if on_nodes_changed is not None:
            self.nodes = self._discover_nodes()
            on_nodes_changed(list(self.nodes))

    def submit(self, *args) -> JobResult:
        """Queue one job; like submit_async (the callback fires from the background thread)."""
        return self.submit_async(*args)

    def submit_async(self, *args) -> JobResult:
        if self._thread is None:
            raise UsageError("create_cluster() must be called before submit()")
        job = JobResult(args=args)
        with self._idle:
            self._outstanding += 1
        self._inbox.put(job)
        return job

    def wait(self) -> None:
        """Block until every submitted job has called back (Ctrl-C cancels the rest and re-raises)."""
        try:
            with self._idle:
                while self._outstanding:
                    self._idle.wait(0.2)
        except KeyboardInterrupt:
            self._cancel()
            raise

    def close_cluster(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)
            self._thread = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close_cluster()

    # -- the background thread ------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._inbox.get(timeout=0.05 if self._sent else 0.2)
            except queue.Empty:
                job = None
            if job is not None:
                if self.run_parallel:
                    self._send(job)
                else:
                    self._run_inline(job)
                    self._finish(job)
            if self._sent and (job is None or self._inbox.empty()):
                self._collect()

    def _wire_call(self, job: JobResult) -> tuple[str, list]:
        if self._task is not None:
            return self._task.name, [codec.to_wire(a) for a in job.args]
        return "geode.jobs.call", [self._target, codec.to_wire(list(job.args))]

    def _run_inline(self, job: JobResult) -> None:
        job.ip_addr = platform.node()
        try:
            args = codec.round_trip(job.args)
            func = self._task.func if self._task is not None else self._function
            job.result = codec.round_trip(func(*args))
            job.status = "Finished"
        except Exception:
            job.exception, job.status = traceback.format_exc(), "Terminated"

    def _send(self, job: JobResult) -> None:
        name, args = self._wire_call(job)
        queue_name = self._task.queue if self._task is not None else "compute"
        try:
            sent = self._app.send_task(name, args=args, queue=queue_name, routing_key=queue_name)
            self._sent[sent.id] = job
        except Exception:
            job.exception, job.status = traceback.format_exc(), "Terminated"
            self._finish(job)

    def _collect(self) -> None:
        for task_id, meta in self._app.backend.get_many(list(self._sent), max_iterations=1, interval=0):
            job = self._sent.pop(task_id)
            job.ip_addr = meta.get("worker")
            if meta.get("status") == "SUCCESS":
                job.result, job.status = codec.from_wire(meta.get("result")), "Finished"
            else:
                job.exception = meta.get("traceback") or str(meta.get("result"))
                job.status = "Cancelled" if meta.get("status") == "REVOKED" else "Terminated"
            self._finish(job)

    def _finish(self, job: JobResult) -> None:
        try:
            if self.callback is not None:
                self.callback(job)
        except Exception:
            log.warning("the JobServer callback raised for job %s:\n%s", job.id, traceback.format_exc())
        if self.progress_bar is not None:
            try:
                self.progress_bar.update()
            except Exception:
                pass
        with self._idle:
            self._outstanding -= 1
            self._idle.notify_all()

    def _cancel(self) -> None:
        ids = list(self._sent)
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                break
        if ids and self._app is not None:
            self._app.control.revoke(ids, terminate=True, signal="SIGTERM")
        self._sent.clear()
        with self._idle:
            self._outstanding = 0
            self._idle.notify_all()
