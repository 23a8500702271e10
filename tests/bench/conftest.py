"""Benchmark plumbing: the machine header, one printed line per figure, the summary table.

Run with `tox -e bench` (= `pytest tests/bench -q -s -p no:randomly`); the figures and
their knobs are described in test_bench.py.
"""

import math
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass

import pytest


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def python_pace(additions=10_000_000):
    """Seconds a pure-Python loop of `additions` takes: how fast this machine runs Klaxon's code."""
    started = time.perf_counter()
    total = 0
    for number in range(additions):
        total += number
    return time.perf_counter() - started


def ping_pong_us(rounds=5000, cpus=None):
    """Microseconds of one byte there and back between two processes over pipes; `cpus`
    pins both to those CPUs. Every hop of an alert (HTTP, AMQP, PostgreSQL) wakes another
    process like this, and under virtualisation a wake-up on the other core can cost
    several times one on the same core."""
    there, back = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        for _ in range(rounds):
            os.read(there[0], 1)
            os.write(back[1], b"x")
        os._exit(0)
    saved = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    started = time.perf_counter()
    for _ in range(rounds):
        os.write(there[1], b"x")
        os.read(back[0], 1)
    elapsed = time.perf_counter() - started
    os.sched_setaffinity(0, saved)
    os.waitpid(child, 0)
    for fd in (*there, *back):
        os.close(fd)
    return elapsed / rounds * 1e6


def machine_pace():
    return (
        f"10M Python additions in {python_pace():.2f} s; pipe ping-pong between two processes "
        f"{ping_pong_us():.0f} us ({ping_pong_us(cpus={0}):.0f} us on one core)"
    )


def cpu_ticks():
    """(all, steal) jiffies of the machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return sum(fields), fields[7] if len(fields) > 7 else 0


STARTED_TICKS = cpu_ticks()


def stolen_share():
    """The share of the machine's CPU time the hypervisor took since the run started."""
    total, steal = (now - then for now, then in zip(cpu_ticks(), STARTED_TICKS, strict=True))
    return steal / total if total else 0.0


def load_average():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass
class Figure:
    number: str
    name: str
    value: float | None
    unit: str
    target: str
    how: str

    def shown(self):
        if self.value is None:
            return "n/a"
        if math.isinf(self.value):
            return "never"
        return f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:,.3g}"


FIGURES = []
STARTED = time.monotonic()


def pytest_sessionstart(session):
    command = shlex.join([os.path.basename(sys.argv[0]), *sys.argv[1:]])
    tox_env = os.environ.get("TOX_ENV_NAME")
    lines = [
        "",
        "=" * 100,
        "Klaxon benchmarks",
        f"command : {'tox -e ' + tox_env + '  →  ' if tox_env else ''}{command}",
        f"machine : nproc={os.cpu_count()}  cpu={cpu_model()}  load average={load_average()}",
        f"pace    : {machine_pace()}",
        f"python  : {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"host    : {platform.node()}  {platform.platform()}",
        "=" * 100,
    ]
    print("\n".join(lines), flush=True)


class Recorder:
    def __call__(self, number, name, value, unit, target="", how=""):
        """Print one figure on a line of its own and keep it for the summary table."""
        figure = Figure(str(number), name, value, unit, target, how)
        FIGURES.append(figure)
        target_text = f"   (target {target})" if target else ""
        print(f"\nFIGURE {figure.number}: {name} = {figure.shown()} {unit}{target_text}", flush=True)
        if how:
            print(f"          measured: {how}", flush=True)
        return figure

    @staticmethod
    def note(text):
        print(f"          {text}", flush=True)


@pytest.fixture(scope="session")
def record():
    return Recorder()


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    write = terminalreporter.write_line
    width = max(len(f.name) for f in FIGURES)
    write("")
    write("=" * 100)
    write(
        f"Klaxon benchmark summary ({time.monotonic() - STARTED:.0f} s, load average now {load_average()}, "
        f"CPU time taken by the hypervisor (steal) {stolen_share():.1%})"
    )
    write(f"{'#':<4} {'figure':<{width}} {'value':>12}  {'unit':<12} target")
    write("-" * 100)
    for figure in FIGURES:
        value = f"{figure.shown():>12}  {figure.unit:<12}"
        write(f"{figure.number:<4} {figure.name:<{width}} {value} {figure.target}")
    write("=" * 100)
