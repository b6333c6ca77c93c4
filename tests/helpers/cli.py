"""Run ``python -m <module> ...`` as a separate process that starts with torch, MONAI and monai_xrgan imported.

Each end-to-end test runs several command lines; a fresh interpreter spends most of a tiny run importing torch and
MONAI (≈ 7 s on 2 cores). Here a ``forkserver`` process imports them once and forks a clean child per command line:
the child has its own memory, file descriptors, environment, ``sys.excepthook`` and exit code, as a subprocess has,
but none of the pytest process's state (threads, monkeypatches, logging handlers).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence

#: imported by the fork server before it forks the first child
PRELOAD = ["torch", "ignite.engine", "monai.bundle", "monai.engines", "monai.handlers", "monai_xrgan.bundle",
           "monai_xrgan.engines", "monai_xrgan.handlers", "monai_xrgan.transforms", "monai_xrgan.workflows"]  # fmt: skip

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def _exit_code(error: SystemExit) -> int:
    if error.code is None or isinstance(error.code, int):
        return error.code or 0
    print(error.code, file=sys.stderr)  # what the interpreter does with sys.exit("message")
    return 1


def _child(module: str, args: Sequence[str], env: Mapping[str, str], log_path: str) -> None:
    """Run ``module`` as ``__main__`` with ``args``, output to ``log_path``; exit as the interpreter would."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    os.environ.clear()
    os.environ.update(env)
    import torch

    torch.set_num_threads(max(1, int(env.get("OMP_NUM_THREADS", "1"))))  # torch read OMP_NUM_THREADS when preloaded
    sys.argv = [module, *args]
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as error:
        code = _exit_code(error)
    except BaseException:  # an uncaught exception: the interpreter's (or the installed) excepthook prints it
        sys.excepthook(*sys.exc_info())
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_module(module: str, args: Sequence[str], env: Mapping[str, str] | None = None,
               timeout: float = 600) -> subprocess.CompletedProcess:  # fmt: skip
    """``subprocess.run([sys.executable, "-m", module, *args], stdout=PIPE, stderr=STDOUT, text=True)``, from the
    fork server; ``env`` defaults to ``os.environ``. Raises ``subprocess.TimeoutExpired`` after ``timeout`` s."""
    command = [sys.executable, "-m", module, *map(str, args)]
    with tempfile.NamedTemporaryFile("r", suffix=".log", encoding="utf-8", errors="replace") as log:
        process = _context.Process(target=_child, args=(module, command[3:], dict(env or os.environ), log.name))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(command, timeout, output=log.read())
        return subprocess.CompletedProcess(command, process.exitcode, stdout=log.read())
