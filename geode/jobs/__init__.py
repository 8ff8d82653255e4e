"""The dispatch layer: register tasks once, run them inline or on Celery workers.

    from geode.jobs import task, get_runner

    @task("geode.scan.read_file", queue="io")
    def read_file(path: str) -> dict: ...

    runner = get_runner(settings, parallel=None)     # None: the config decides
    summary = runner.map(read_file, [(p,) for p in paths], on_result=..., progress=...)
    summary.results / summary.failures

External programs inside a task: ``geode.jobs.run_subprocess(cmd, cwd, timeout)`` kills the program's whole
process tree when the unit is cancelled (Ctrl-C, revoke) or times out.
"""

from .dispatch import get_runner
from .outcomes import Outcome, Progress, RunAborted, RunInterrupted, RunSummary, TaskFailure
from .process import run_subprocess
from .registry import QUEUES, Task, all_tasks, get_task, load_task_modules, task
from .runner import InlineRunner, Runner

__all__ = [
    "QUEUES", "Task", "task", "get_task", "all_tasks", "load_task_modules", "Runner", "InlineRunner", "Outcome",
    "Progress", "RunAborted", "RunInterrupted", "RunSummary", "TaskFailure", "get_runner", "run_subprocess",
]
