"""`chengguan serve`: the web server and the background worker side by side (`make run`).

Each child runs in its own process group so that a signal reaches all of its processes (the
development server's autoreloader runs the real server as a grandchild). Ctrl-C (SIGINT) or
SIGTERM on the launcher asks every child to stop; when one child ends by itself (a port in
use, a crash) the other is stopped too, and its exit status is the launcher's. A child that
does not stop within the grace period is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any, Protocol

from django.core.management.base import BaseCommand

GRACE_SECONDS = 10.0
POLL_SECONDS = 0.2


class Writer(Protocol):
    def write(self, text: str) -> Any: ...


def _signal_group(process: subprocess.Popen[Any], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # already gone


def launch(
    commands: Sequence[Sequence[str]], *, grace: float = GRACE_SECONDS, out: Writer | None = None
) -> int:
    """Runs ``commands`` together until a signal arrives or one of them ends; returns the
    exit status (0 after Ctrl-C / SIGTERM, else the status of the child that ended first)."""
    out = out or sys.stdout
    stopping: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes: list[subprocess.Popen[Any]] = []
    names: dict[int, str] = {}
    status = 0
    try:
        for command in commands:
            process = subprocess.Popen(list(command), start_new_session=True)
            processes.append(process)
            names[process.pid] = " ".join(command)
        while not stopping:
            ended = [p for p in processes if p.poll() is not None]
            if ended:
                status = ended[0].returncode or 0
                out.write(f"{names[ended[0].pid]} 已退出（状态 {status}），正在停止其他进程…\n")
                break
            time.sleep(POLL_SECONDS)
    finally:
        # SIGINT is the polite stop for both runserver and the huey consumer (the consumer
        # finishes the task in hand); SIGKILL only for a child that ignores it.
        for process in processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGINT)
        deadline = time.monotonic() + grace
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


class Command(BaseCommand):
    help = "同时启动网站（runserver）和后台任务进程（run_huey），按 Ctrl-C 一并停止。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="地址:端口")
        parser.add_argument("--no-worker", action="store_true", help="只启动网站，不启动后台任务进程")

    def handle(self, *args: Any, **options: Any) -> None:
        cli = [sys.executable, "-m", "chengguan.cli"]
        commands = [[*cli, "runserver", options["addrport"]]]
        if not options["no_worker"]:
            commands.append([*cli, "run_huey"])
        status = launch(commands, out=self.stdout)
        if status:
            sys.exit(status)
