"""`chengguan serve` (make run): web server and worker start together and stop together.

Real child processes stand in for runserver and run_huey: each writes its PID and sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

LAUNCH = """
import sys
from chengguan.core.management.commands.serve import launch
children = [[sys.executable, "-c", line] for line in sys.argv[1:]]
sys.exit(launch(children, grace=5))
"""


def child(pidfile: Path, then: str = "time.sleep(120)") -> str:
    return f"import os, time, pathlib; pathlib.Path({str(pidfile)!r}).write_text(str(os.getpid())); {then}"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent, the launcher, has not reaped it yet).
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def wait_for(path: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def start(*children: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", LAUNCH, *children], cwd=Path(__file__).parents[3])


def test_ctrl_c_stops_both(tmp_path) -> None:
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    launcher = start(child(web), child(worker))
    pids = [wait_for(web), wait_for(worker)]
    assert all(alive(pid) for pid in pids)
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 0
    assert not any(alive(pid) for pid in pids)


def test_sigterm_stops_both(tmp_path) -> None:
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    launcher = start(child(web), child(worker))
    pids = [wait_for(web), wait_for(worker)]
    launcher.terminate()
    assert launcher.wait(timeout=30) == 0
    assert not any(alive(pid) for pid in pids)


def test_when_one_dies_the_other_is_stopped_and_its_status_kept(tmp_path) -> None:
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    launcher = start(child(web, "time.sleep(0.5); raise SystemExit(3)"), child(worker))
    worker_pid = wait_for(worker)
    assert launcher.wait(timeout=30) == 3
    assert not alive(worker_pid)


def test_a_child_that_ignores_sigint_is_killed_after_the_grace_period(tmp_path) -> None:
    web, stubborn = tmp_path / "web.pid", tmp_path / "stubborn.pid"
    ignore = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(120)"
    launcher = start(child(web), child(stubborn, ignore))
    pids = [wait_for(web), wait_for(stubborn)]
    time.sleep(0.3)  # let the stubborn child install its handler
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 0
    assert not any(alive(pid) for pid in pids)
