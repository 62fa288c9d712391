"""Replay a template's own scaling alarms and policies against a trace of arriving messages.

``watchbot-cfn simulate`` reads the rendered CloudFormation (any template that
scales an ECS service with Application Auto Scaling), models SQS's 1-minute
metrics, CloudWatch alarm evaluation, step and target-tracking policies with
their cooldowns, task start-up, jobs per task, job durations and task
scale-in protection, and reports how many tasks ran, how long messages waited
and how many jobs scale-in interrupted. What it models and what it does not is
written down in docs/scaling.md.
"""

from __future__ import annotations

from watchbot_cfn.simulate.model import Result, Settings, simulate
from watchbot_cfn.simulate.reader import Setup, SimulationError, read_setup
from watchbot_cfn.simulate.trace import Trace, TraceError, TraceRow, load_trace, parse_trace

__all__ = ["Result", "Settings", "Setup", "SimulationError", "Trace", "TraceError", "TraceRow", "load_trace",
           "parse_trace", "read_setup", "simulate"]
