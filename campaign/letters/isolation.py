"""Run one function in a child process under wall-clock, CPU and memory limits.

WeasyPrint lays out HTML that organisers and partners influence. A page 100000 inches
wide or a 10,000-page document must not hang or exhaust the web process or the worker,
so every render runs in a child: the parent waits at most `seconds` and then kills it;
the child caps its own address space (RLIMIT_AS) and CPU time (RLIMIT_CPU, which still
holds if the parent dies first).

Children are forked by a multiprocessing 'forkserver': a clean, single-threaded process
started once per parent, which has already imported WeasyPrint and rendered a warm-up
page (see prewarm.py). A fork from it takes milliseconds, inherits no database
connection, thread or request state from the app, and starts with the fonts loaded.
The child gets everything as arguments; it never opens the database.
"""

import logging
import math
import multiprocessing
import resource
import signal
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing import forkserver, popen_forkserver, process, spawn
from typing import Any

log = logging.getLogger(__name__)

_MB = 1024 * 1024
#: Imported once by the forkserver so that every child starts with WeasyPrint warm.
PRELOAD = ["campaign.letters.prewarm"]


class Refused(Exception):
    """Raised inside the child for input it will not finish; the message is for people."""


class Failed(Exception):
    """Raised in the parent when the child was stopped, refused its input or crashed."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        #: A traceback or exit status for the log; never shown to users.
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """How long and how much memory a child may use; 0 means no limit."""

    seconds: float = 60.0
    memory_mb: int = 1024


_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)
_launch_lock = threading.Lock()


class _Popen(popen_forkserver.Popen):
    """Starts a forkserver child without re-running the parent's main script in it.

    multiprocessing re-imports the parent's __main__ (the pytest, flask or gunicorn
    script) in every child, in case the target was defined there. Ours are module-level
    functions, and that import cost 0.1-0.2 s per render, so it is left out.
    """

    def _launch(self, process_obj):
        with _launch_lock:
            real = spawn.get_preparation_data

            def without_main(name):
                data = real(name)
                data.pop("init_main_from_path", None)
                data.pop("init_main_from_name", None)
                return data

            spawn.get_preparation_data = without_main
            try:
                super()._launch(process_obj)
            finally:
                spawn.get_preparation_data = real


class _Process(process.BaseProcess):
    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj):  # noqa: N802 (multiprocessing's name)
        return _Popen(process_obj)


def run(func, *args, limits: Limits, usage: dict | None = None) -> Any:
    """Call `func(*args)` in a limited child process and return its result.

    `func` must be a module-level function and its arguments picklable. Raises Failed
    with a reason people can act on when a limit is hit or the child fails. When given,
    `usage` receives the child's CPU seconds and peak RSS (for benchmarks and logs).
    """
    receive, send = _context.Pipe(duplex=False)
    # The child's temporary files (WeasyPrint unpacks web fonts) go here, and the parent
    # removes them even when the child had to be killed.
    with tempfile.TemporaryDirectory(prefix="undersigned-render-") as scratch:
        child = _Process(target=_child, args=(send, func, args, limits, scratch), daemon=True)
        started = time.monotonic()
        child.start()
        send.close()  # our copy: the child's exit must show up as EOF on `receive`
        try:
            kind, payload, *spent = _wait(receive, child, limits)
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()
            exitcode = child.exitcode
            child.close()
    log.debug("child %s finished in %.3fs", getattr(func, "__name__", func), _since(started))
    if usage is not None and spent:
        usage.update(spent[0])
    if kind == "ok":
        return payload
    raise _failure(kind, payload, exitcode, limits)


def _since(started: float) -> float:
    return time.monotonic() - started


def _wait(receive, child, limits: Limits) -> tuple:
    """The child's (kind, payload[, usage]) message, or a "timeout"/"died" stand-in."""
    if not receive.poll(limits.seconds or None):
        child.kill()
        return "timeout", ""
    try:
        return receive.recv()
    except EOFError:
        child.join()
        return "died", child.exitcode


def _failure(kind: str, payload, exitcode, limits: Limits) -> Failed:
    """Turn what happened to the child into a reason for people and a detail for the log."""
    if kind == "refused":
        return Failed(payload)
    if kind == "timeout":
        return Failed(
            f"making the PDF took longer than {limits.seconds:g} seconds, the limit; "
            "shorten the letter or ask an administrator to raise PDF_MAX_SECONDS"
        )
    if kind == "died" and exitcode == -signal.SIGXCPU:
        return Failed(
            f"making the PDF used more than {limits.seconds:g} seconds of processor time",
            detail="SIGXCPU",
        )
    if kind == "memory":
        return Failed(_over_memory(limits), detail="MemoryError")
    if kind == "died" and limits.memory_mb and exitcode is not None and exitcode < 0:
        # Native code (Pango, GLib, fontconfig) aborts or crashes when an allocation or a
        # thread's stack is refused under RLIMIT_AS, instead of raising MemoryError.
        log.warning("PDF child ended by signal %s under a %s MB limit", -exitcode, limits.memory_mb)
        return Failed(_over_memory(limits), detail=f"signal {-exitcode}")
    log.error("PDF child process failed: %s %s", kind, payload or exitcode)
    return Failed(
        "the PDF renderer failed; the server log has the details",
        detail=str(payload or exitcode),
    )


def _over_memory(limits: Limits) -> str:
    return (
        f"making the PDF needed more than {limits.memory_mb} MB of memory, the limit; "
        "shorten the letter or ask an administrator to raise PDF_MAX_MEMORY_MB"
    )


def _child(send, func, args, limits: Limits, scratch: str) -> None:
    """The child's entry point: apply the limits, run, and send back one message."""
    try:
        _apply_limits(limits)
        tempfile.tempdir = scratch
        result = func(*args)
        own = resource.getrusage(resource.RUSAGE_SELF)
        spent = {"cpu_seconds": own.ru_utime + own.ru_stime, "max_rss_mb": own.ru_maxrss / 1024}
        message = ("ok", result, spent)
    except Refused as exc:
        message = ("refused", str(exc))
    except MemoryError:
        message = ("memory", "")
    except BaseException:  # noqa: BLE001  (reported to the parent, which logs it)
        message = ("error", traceback.format_exc(limit=20))
    try:
        send.send(message)
    except MemoryError:
        send.send(("memory", ""))
    finally:
        send.close()


def _apply_limits(limits: Limits) -> None:
    if limits.memory_mb:
        size = limits.memory_mb * _MB
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if limits.seconds:
        # A backstop should the parent die before it can kill us: SIGXCPU ends the child.
        cpu = math.ceil(limits.seconds) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def start() -> None:
    """Start the forkserver now, so the first render does not pay for it (about 1-2 s).

    Not for a process that forks workers which then render (an RQ worker forks one per
    job): a forked child cannot use its parent's forkserver (waitpid fails), so each job
    process starts its own.
    """
    forkserver.ensure_running()
