"""``run_subprocess``: run an external program so that cancelling the unit kills its whole process tree.

GAMIT's ``sh_gamit`` starts dozens of child programs. Killing only the shell (or only the worker's pool
process) leaves them running, writing into a session directory the next attempt will reuse. So the program
starts in a new session (its own process group) and the group is killed when:

* the unit is revoked/terminated (Celery sends SIGTERM to the pool process) or the worker shuts down hard;
* Ctrl-C reaches the inline runner (KeyboardInterrupt);
* the timeout expires;
* the calling process dies abruptly (the direct child gets SIGKILL via PR_SET_PDEATHSIG on Linux).

    result = run_subprocess(["sh_gamit", "-d", "2024", "45"], cwd=session_dir, timeout=6 * 3600,
                            stdout=log_path)
    result.returncode, result.output  # output is captured text unless stdout= names a file
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..errors import GeodeError

KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL of the group


class SubprocessTimeout(GeodeError):
    pass


class SubprocessTerminated(GeodeError):
    """The unit was cancelled (SIGTERM) while its program ran; the program's process group was killed."""


@dataclass
class Completed:
    args: list[str]
    returncode: int
    output: str  # captured stdout+stderr ("" when written to a file)


@functools.cache
def _die_with_parent() -> Callable[[], None] | None:
    """The child's preexec function: prctl(PR_SET_PDEATHSIG, SIGKILL). libc is looked up here, in the parent:
    loading a library between fork and exec can deadlock a parent that has threads."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:
        return None
    return lambda: prctl(1, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_process_gone(host: str, pid: str) -> bool:
    """Whether ``host``/``pid`` (as written in a lease or a file name) names a process of this host that no
    longer exists; a process of another host is never known to be gone."""
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def kill_group(proc: subprocess.Popen, grace: float = KILL_GRACE) -> None:
    """SIGTERM the process group, then SIGKILL it once the leader has exited or ``grace`` seconds have passed
    (members that ignored SIGTERM die too)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # the group is gone already
        pass
    proc.wait()


def run_subprocess(cmd: Sequence[str | os.PathLike[str]], cwd: str | os.PathLike[str] | None = None,
                   timeout: float | None = None, *, env: dict[str, str] | None = None,
                   stdout: str | os.PathLike[str] | None = None, stdin_text: str | None = None,
                   check: bool = False) -> Completed:
    """Run ``cmd`` in its own process group; the group dies with the unit (see the module docstring).

    ``stdout``: a file to write stdout+stderr to (appended); otherwise they are captured in ``output``.
    ``check``: raise GeodeError on a non-zero exit, naming the program and the last line of its output.
    """
    args = [os.fspath(c) for c in cmd]
    out_file = open(stdout, "ab") if stdout is not None else None
    try:
        proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=out_file if out_file is not None else subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent())
    except OSError as exc:
        if out_file is not None:
            out_file.close()
        raise GeodeError(f"cannot run {args[0]}: {exc.strerror}") from None

    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_sigterm(signum, frame):  # Celery's revoke(terminate=True) or a worker shutting down hard
            # Only signal here: this handler may interrupt Popen.wait(), which holds a lock a second wait() in
            # the handler would block on forever. The except clause below waits once the wait has unwound.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            raise SubprocessTerminated(f"{Path(args[0]).name} was terminated (the unit was cancelled)")

        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            data, _ = proc.communicate(stdin_text.encode() if stdin_text is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise SubprocessTimeout(f"{Path(args[0]).name} did not finish within {timeout:.0f} s; "
                                    "its process group was killed") from None
        except BaseException:  # KeyboardInterrupt, SubprocessTerminated, anything: nothing may outlive us
            kill_group(proc, grace=1.0)
            raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if out_file is not None:
            out_file.close()
    output = (data or b"").decode(errors="replace")
    if check and proc.returncode != 0:
        last = output.strip().splitlines()[-1] if output.strip() else "no output"
        raise GeodeError(f"{Path(args[0]).name} exited with status {proc.returncode}: {last}")
    return Completed(args, proc.returncode, output)
