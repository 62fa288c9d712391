"""Charts of a simulation: plain text for the terminal, PNG when matplotlib is installed.

The text chart stacks three panels over one time axis (arrivals, backlog,
tasks) in at most ``width`` columns plus an 8-column label margin, so it reads in
an 80-column terminal. When a run is longer than the width, each column covers
several minutes and shows the largest value among them.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from watchbot_cfn.simulate.model import Result
from watchbot_cfn.simulate.reader import SimulationError

__all__ = ["DEFAULT_HEIGHT", "DEFAULT_WIDTH", "png_available", "text_chart", "write_png"]

DEFAULT_WIDTH = 70
DEFAULT_HEIGHT = 5
_MARGIN = 8
_BAR = "#"


def _columns(values: list[int], per_column: int) -> list[int]:
    return [max(values[start:start + per_column], default=0) for start in range(0, len(values), per_column)]


def _panel(title: str, values: list[int], per_column: int, height: int) -> list[str]:
    columns = _columns(values, per_column)
    peak = max(columns, default=0)
    lines = [f"{title} (peak {peak:,})"]
    for row in range(height, 0, -1):
        label = f"{peak:,}" if row == height else ""
        cells = "".join(_BAR if value > 0 and math.ceil(value / peak * height) >= row else " "
                        for value in columns) if peak else " " * len(columns)
        lines.append(f"{label:>{_MARGIN - 2}} |{cells.rstrip()}")
    lines.append(f"{'0':>{_MARGIN - 2}} +{'-' * len(columns)}")
    return lines


def _axis(minutes: int, per_column: int, columns: int) -> list[str]:
    marks = [" "] * columns
    labels = [" "] * (columns + 8)
    step = 10
    for column in range(0, columns, step):
        marks[column] = "|"
        text = str(column * per_column)
        for offset, char in enumerate(text):
            if column + offset < len(labels):
                labels[column + offset] = char
    return [" " * _MARGIN + "".join(marks).rstrip(),
            " " * _MARGIN + "".join(labels).rstrip() + f"  minute (1 column = {per_column} min)"]


def text_chart(result: Result, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> str:
    """Arrivals per minute, backlog (visible + in flight) and tasks, one column per minute or more."""
    minutes = len(result.tasks)
    per_column = max(1, math.ceil(minutes / width))
    columns = math.ceil(minutes / per_column) if minutes else 0
    backlog = [v + f for v, f in zip(result.visible, result.in_flight, strict=True)]
    lines: list[str] = []
    lines += _panel("arrivals per minute", result.arrivals, per_column, height)
    lines += _panel("backlog: visible + in-flight messages", backlog, per_column, height)
    lines += _panel("tasks (starting, running or stopping)", result.tasks, per_column, height)
    lines += _axis(minutes, per_column, columns)
    return "\n".join(lines) + "\n"


def png_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def headline(result: Result) -> str:
    """The run's figures in one line, for the chart's title."""
    drained = "not drained" if result.drained_minute is None else f"drained at minute {result.drained_minute}"
    return (f"max {result.max_tasks} tasks, p95 wait {result.p95_wait_seconds:,.0f} s, "
            f"{result.task_minutes:,.0f} task-minutes, {result.interrupted_jobs} interrupted jobs, {drained}")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_png(result: Result, path: str, title: str) -> None:
    """Three stacked plots over minutes, written through a temporary file and a rename."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SimulationError("--png needs matplotlib, which is not installed; "
                              "pip install 'watchbot-cfn[plot]'") from None
    minutes = list(range(len(result.tasks)))
    backlog = [v + f for v, f in zip(result.visible, result.in_flight, strict=True)]
    figure, axes = plt.subplots(3, 1, sharex=True, figsize=(9, 6.5))
    try:
        axes[0].bar(minutes, result.arrivals, width=1.0, color="tab:gray")
        axes[0].set_ylabel("arrivals / min")
        axes[1].plot(minutes, result.visible, label="visible", color="tab:orange")
        axes[1].plot(minutes, backlog, label="visible + in flight", color="tab:red")
        axes[1].set_ylabel("messages")
        axes[1].legend(loc="upper right")
        axes[2].step(minutes, result.desired, where="post", label="desired", color="tab:blue", linestyle="--")
        axes[2].step(minutes, result.tasks, where="post", label="tasks", color="tab:green")
        axes[2].set_ylabel("tasks")
        axes[2].set_xlabel("minute")
        axes[2].legend(loc="upper right")
        from matplotlib.ticker import MaxNLocator

        axes[2].yaxis.set_major_locator(MaxNLocator(integer=True))  # tasks are whole
        figure.suptitle(f"{title}\n{headline(result)}", fontsize=10)
        figure.tight_layout()
        target = Path(path)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".png",
                                             dir=target.parent if str(target.parent) else ".")
        os.close(handle)
        try:
            figure.savefig(temporary, format="png", dpi=100)
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary file only
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    finally:
        plt.close(figure)
