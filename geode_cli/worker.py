"""`geode worker`: start, inspect and stop Celery workers (also installed as the `geode-worker` script)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from . import console
from .context import app_context
from .options import JsonOpt

sub = typer.Typer(help="Start, inspect and stop Celery workers that run geode's units of work.",
                  no_args_is_help=True)


@sub.command("start")
def start(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(
        "--queues", "-Q", help="Comma-separated queues to consume: gamit, compute, io.")] = "gamit,compute,io",
    concurrency: Annotated[Optional[int], typer.Option(
        "--concurrency", "-c", min=1, help="Worker processes (default: number of CPUs).")] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l", help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    hostname: Annotated[Optional[str], typer.Option(
        "--hostname", "-n", help="Node name (default geode-<queues>@<host>); must be unique per worker.")] = None,
    max_tasks_per_child: Annotated[Optional[int], typer.Option(
        "--max-tasks-per-child", min=1,
        help="Replace a worker process after this many units (bounds memory of numpy-heavy work).")] = None,
) -> None:
    """Run a worker in the foreground until Ctrl-C / SIGTERM (running units finish first)."""
    from geode.distributed.worker import parse_queues, start_worker

    actx = app_context(ctx)
    start_worker(actx.settings, parse_queues(queues), concurrency=concurrency, loglevel=loglevel.upper(),
                 hostname=hostname, max_tasks_per_child=max_tasks_per_child)


@sub.command("status")
def status(
    ctx: typer.Context,
    json_: JsonOpt = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for replies.")] = 1.5,
    check: Annotated[bool, typer.Option(
        "--check", help="Also run the health check task on each worker (database, programs, paths, drift); "
                        "a busy worker answers when a slot frees.")] = False,
) -> None:
    """Workers that answer: ping, queues, active/reserved units, concurrency, geode version. Exit 69 if none."""
    from geode.distributed.broker import describe_broker
    from geode.distributed.worker import check_workers, workers_status
    from geode.errors import GeodeError, ServiceUnavailable

    actx = app_context(ctx)
    found = workers_status(actx.settings, timeout=timeout)
    health = check_workers(actx.settings, [w.hostname for w in found]) if check and found else {}
    if actx.want_json(json_):
        console.print_json({"broker": describe_broker(actx.settings),
                            "workers": [dict(w.as_dict(), **({"health": health[w.hostname]} if health else {}))
                                        for w in found]})
    else:
        console.table(
            [console.Column("worker", key=True, priority=0, wrap=False), console.Column("ping", priority=2, wrap=False),
             console.Column("queues", priority=0), console.Column.num("active", 1), console.Column.num("reserved", 3),
             console.Column.num("concurrency", 3), console.Column("geode", priority=4, wrap=False),
             console.Column("drift", priority=1)],
            [[w.hostname, "ok" if w.ping else "-", ",".join(w.queues), w.active, w.reserved, w.concurrency,
              w.geode, "; ".join(w.drift)] for w in found])
        console.notice(f"{len(found)} worker(s) on {describe_broker(actx.settings)}")
    if not found:
        raise ServiceUnavailable(f"no worker answered on broker {describe_broker(actx.settings)}")
    sick = {host: report for host, report in health.items() if not report.get("success")}
    for host, report in sick.items():
        console.error(f"{host}: {'; '.join(report.get('errors') or ['failed'])}")
    if sick:
        raise GeodeError(f"{len(sick)} worker(s) failed the health check")


@sub.command("stop")
def stop(
    ctx: typer.Context,
    hostnames: Annotated[Optional[list[str]], typer.Argument(
        help="Worker names as shown by `geode worker status` (default: all).", show_default=False)] = None,
) -> None:
    """Graceful shutdown: workers finish their running units and exit."""
    from geode.distributed.worker import stop_workers
    from geode.errors import ServiceUnavailable

    stopped = stop_workers(app_context(ctx).settings, hostnames or None)
    for host in stopped:
        sys.stdout.write(f"{host}\n")
    if not stopped:
        raise ServiceUnavailable("no worker answered")
    console.notice(f"{len(stopped)} worker(s) shutting down")


@sub.command("selftest", hidden=True)
def selftest(
    ctx: typer.Context,
    tasks: Annotated[int, typer.Option("--tasks", min=1, help="Number of units.")] = 20,
    sleep: Annotated[float, typer.Option("--sleep", min=0.0, help="Seconds each unit sleeps.")] = 0.0,
    fail: Annotated[int, typer.Option("--fail", min=0, help="Also send this many failing units.")] = 0,
    record: Annotated[bool, typer.Option(
        "--record", help="Units also upsert one row each into geode_job_probe (selftest-NNNN): proves every "
                         "unit is stored once whatever happens to workers, broker or database.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Is my cluster working? Runs sleep (and fail) units through the dispatch layer and reports the nodes."""
    from geode.jobs.builtin import fail as fail_task, record as record_task, sleep as sleep_task
    from geode.errors import GeodeError

    actx = app_context(ctx)
    runner = actx.runner()
    if record:
        units = [{"key": f"selftest-{i:04d}", "value": str(i), "seconds": sleep} for i in range(tasks)]
        summary = runner.map(record_task, units, progress=actx.progress(), description="selftest: units")
    else:
        summary = runner.map(sleep_task, [(sleep, i) for i in range(tasks)], progress=actx.progress(),
                             description="selftest: units")
    failed = list(summary.failures)
    if fail:
        failed += runner.map(fail_task, [(f"selftest failure {i}",) for i in range(fail)]).failures
    nodes: dict[str, int] = {}
    for outcome in summary.results:
        nodes[outcome.node] = nodes.get(outcome.node, 0) + 1
    if actx.want_json(json_):
        console.print_json({"mode": runner.mode, "done": len(summary.results), "failed": len(failed),
                            "nodes": nodes, "failures": [{"message": f.message, "node": f.node} for f in failed]})
    else:
        for node, count in sorted(nodes.items()):
            sys.stdout.write(f"{node}\t{count}\n")
    for f in failed:
        console.error(f"unit {f.index} on {f.node or '?'}: {f.message}")
    if failed:
        raise GeodeError(f"{len(failed)} unit(s) failed")


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="worker")


def run_worker_script() -> None:
    """The `geode-worker` console script: `geode worker start` with the same options and exit codes."""
    import os

    from geode.db import connection
    from geode.errors import GeodeError

    connection.APPLICATION_NAME = f"geode worker start [{os.getpid()}]"  # as `geode worker start` names itself
    script = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    script.command()(start)
    console.setup_logging(0, False)
    try:
        script(prog_name="geode-worker", standalone_mode=False)
    except GeodeError as exc:
        console.error(str(exc))
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
