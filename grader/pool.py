"""The batch's workers: processes that run tasks, started, fed, watched and
stopped by one object.

A worker (grader/worker.py) is a long-lived grader process that reads one
task at a time (a JSON line) and answers it (a JSON line). Each worker is
the leader of a session of its own, with everything it starts (QEMU, the
compiler): ending a worker's process group ends all of it, and a signal
sent to the batch's terminal reaches the batch alone, which then decides.
If the batch dies without a word (SIGKILL), the kernel sends every worker
SIGTERM (PR_SET_PDEATHSIG), and a worker answers that by killing its group.

Cores, not workers, are what tests compete for: a guest spinning with
interrupts off keeps a core busy until its timeout, but a halted or idle
guest costs nothing. So the pool counts as busy only the workers whose
processes ran on a CPU recently (from /proc), and starts a new task
whenever fewer than `cores` are busy, with up to `slots` tasks at a time.
Without /proc, every task counts as busy.
"""
from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

# A task younger than this is busy whatever it measures: starting QEMU and
# most whole tests take less.
IDLE_AFTER = 1.0  # seconds
# Below this share of a core run over the last IDLE_AFTER seconds, a task
# idles. Only time on a CPU counts: an idle QEMU wakes for its timers, and
# on a loaded machine each wake-up waits in the run queue, which would add
# up to more than this. A guest that spins gets its fair share of a core,
# far above this even with every core shared by three.
IDLE_SHARE = 0.2
# No task takes this long (a test is bounded by its timeout, a build by the
# compiler's): a worker still busy after it is stuck, and is replaced.
TASK_LIMIT = 600.0  # seconds
_PR_SET_PDEATHSIG = 1


@dataclass
class Running:
    """A task on a worker: since when, and the CPU its worker's processes
    used, sampled."""

    task: dict
    started: float
    samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=32))  # (time, cpu)
    verdicts: list[bool] = field(default_factory=list)  # idle(), at each sample once it can tell

    def idle(self, now: float) -> bool:
        """Whether its processes ran less than IDLE_SHARE of a core over
        the last IDLE_AFTER seconds."""
        if now - self.started < IDLE_AFTER:
            return False
        window = [(t, d) for t, d in self.samples if t >= now - IDLE_AFTER - 0.3]
        if len(window) < 2 or window[-1][0] - window[0][0] < IDLE_AFTER * 0.7:
            return False
        (t0, d0), (t1, d1) = window[0], window[-1]
        return 0 <= (d1 - d0) / (t1 - t0) < IDLE_SHARE  # less when a process ended: not known idle

    def mostly_idle(self) -> bool:
        """Whether it idled for most of its life. What a test that timed out
        did while it waited: its last second, spent ending QEMU and writing
        the report (slow on a loaded machine), says nothing of the guest."""
        return sum(self.verdicts) * 2 > len(self.verdicts)


@dataclass
class Worker:
    proc: subprocess.Popen
    running: Running | None = None
    partial: bytes = b""


def _cpu_time(pid: int) -> float | None:
    """Seconds the threads of process `pid` and of its descendants spent
    running on a CPU (the first field of /proc's schedstat). None when
    /proc cannot tell (not Linux, or the process is gone)."""
    total = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0]) / 1e9
            for child in (task / "children").read_text().split():
                total += _cpu_time(int(child)) or 0.0
    except (OSError, ValueError):
        return None
    return total


def _die_with_parent(parent: int) -> None:
    """In a new worker, before it runs: SIGTERM when the batch dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: a worker still ends when its task pipe closes
    if os.getppid() != parent:
        os._exit(1)  # the batch died before prctl


class Pool:
    """Up to `slots` workers running the command `argv`, with at most
    `cores` of them busy. Not thread-safe: one loop drives it."""

    def __init__(self, argv: list[str], cores: int, slots: int, log: Path) -> None:
        self.argv = argv
        self.cores = max(1, cores)
        self.slots = max(self.cores, slots)
        self.log = log
        self.workers: list[Worker] = []
        self.selector = selectors.DefaultSelector()

    # ---- Starting tasks --------------------------------------------------

    @property
    def running(self) -> list[Running]:
        return [w.running for w in self.workers if w.running]

    def busy(self) -> int:
        now = time.monotonic()
        return sum(not r.idle(now) for r in self.running)

    def has_room(self) -> bool:
        """Whether a task may start now: a core and a slot are free."""
        return len(self.running) < self.slots and self.busy() < self.cores

    def start(self, task: dict) -> None:
        """Sends `task` to an idle worker, starting one if needed."""
        while True:
            worker = next((w for w in self.workers if w.running is None), None) or self._spawn()
            assert worker.proc.stdin
            try:
                worker.proc.stdin.write(json.dumps(task).encode() + b"\n")
                worker.proc.stdin.flush()
            except OSError:  # it died while idle: take another
                self._bury(worker)
                continue
            worker.running = Running(task, time.monotonic())
            return

    def _spawn(self) -> Worker:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as log:
            parent = os.getpid()
            proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                    start_new_session=True, preexec_fn=lambda: _die_with_parent(parent))
        assert proc.stdout
        os.set_blocking(proc.stdout.fileno(), False)
        worker = Worker(proc)
        self.selector.register(proc.stdout, selectors.EVENT_READ, worker)
        self.workers.append(worker)
        return worker

    # ---- Answers -----------------------------------------------------------

    def wait(self, timeout: float) -> list[tuple[Running, dict | None]]:
        """Waits up to `timeout` seconds for answers; returns the finished
        tasks with their answers (None for a task whose worker died)."""
        done: list[tuple[Running, dict | None]] = []
        for key, _ in self.selector.select(timeout):
            worker: Worker = key.data
            try:
                chunk = os.read(key.fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:  # the worker died: its task has no answer
                self._bury(worker)
                if worker.running:
                    done.append((worker.running, None))
                continue
            worker.partial += chunk
            *lines, worker.partial = worker.partial.split(b"\n")
            for line in lines:
                if worker.running:
                    done.append((worker.running, json.loads(line)))
                    worker.running = None
        self._sample()
        for worker in list(self.workers):  # a task that never answers: its worker is stuck
            if worker.running and time.monotonic() - worker.running.started > TASK_LIMIT:
                done.append((worker.running, None))
                self._bury(worker)
        return done

    def _sample(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.running:
                cpu = _cpu_time(worker.proc.pid)
                if cpu is not None:
                    worker.running.samples.append((now, cpu))
                    if now - worker.running.started >= IDLE_AFTER:
                        worker.running.verdicts.append(worker.running.idle(now))

    def _bury(self, worker: Worker) -> None:
        self.selector.unregister(worker.proc.stdout)
        self.workers.remove(worker)
        self._kill(worker)

    # ---- Stopping ----------------------------------------------------------

    @staticmethod
    def _kill(worker: Worker) -> None:
        """Ends the worker and everything it started (its session)."""
        try:
            os.killpg(worker.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        worker.proc.wait()
        for stream in (worker.proc.stdin, worker.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """Ends every worker, its QEMUs and compilers, at once: what they
        were doing had no result yet, and none is recorded."""
        for worker in list(self.workers):
            self._kill(worker)
        self.workers.clear()
        self.selector.close()
