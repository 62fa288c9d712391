"""The local pipeline: moto's server, the stack deployed to it, one watcher per system, live counts.

Ctrl-C lets running jobs drain as SIGTERM would on ECS (a second Ctrl-C stops
them at once), then stops the watcher and the endpoint and removes the run's
private directory: nothing keeps running.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

__all__ = ["LocalRun"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class LocalRun:
    """One ``local`` session: endpoint, stack, watchers, view, and the orderly stop."""

    def __init__(self, template: dict[str, Any], prefixes: list[str], stack_name: str, port: int,
                 parameters: dict[str, str], out: Any) -> None:
        self.template = template
        self.prefixes = prefixes
        self.stack_name = stack_name
        self.port = port
        self.parameters = parameters
        self.out = out
        self.stop_requests = 0
        self.watchers: list[Any] = []
        self.endpoint: Any = None
        self.exit_code = 0

    # -- signals -------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stop_requests += 1

    def run(self) -> int:
        import shutil
        import tempfile

        from watchbot_cfn.local.processes import adopt_orphans

        previous = {signum: signal.signal(signum, self._on_signal) for signum in _SIGNALS}
        run_dir = Path(tempfile.mkdtemp(prefix="watchbot-local-"))
        adopt_orphans()
        try:
            if self._start(run_dir):
                self._watch()
            self._stop()
        finally:
            self._force_stop()
            shutil.rmtree(run_dir, ignore_errors=True)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.exit_code

    # -- start ---------------------------------------------------------------------
    def _start(self, run_dir: Path) -> bool:
        """Endpoint, stack, watchers; False when a stop was asked for meanwhile."""
        from watchbot_cfn.aws.clients import connect
        from watchbot_cfn.local.deploy import deploy_locally, placeholder_parameters
        from watchbot_cfn.local.endpoint import LocalEndpoint
        from watchbot_cfn.local.watcher import WatcherProcess, watcher_spec

        out = self.out
        self.endpoint = LocalEndpoint(self.port, run_dir / "endpoint.log").start()
        self.aws = connect(None, self.endpoint.url, placeholder_credentials=True)
        out.print(f"local AWS endpoint: {self.endpoint.url} (region {self.aws.region})")
        out.print(f"stack: {self.stack_name}")
        if self.stop_requests:
            return False
        _, placeholders = placeholder_parameters(self.template, self.parameters)
        if placeholders:
            out.print(f"parameters with placeholder values: {', '.join(placeholders)} (set them with --parameter)")
        stack = deploy_locally(self.aws, self.stack_name, self.template, self.parameters)
        resources = len(self.template.get("Resources") or {})
        out.print(f"deployed {resources} resources; created through the service APIs because moto's "
                  f"CloudFormation skips them: {', '.join(stack.created_locally) or 'none'}")
        if stack.not_emulated:
            kinds = sorted({kind.split("::", 1)[-1] for kind in stack.not_emulated.values()})
            out.print(f"not emulated ({len(stack.not_emulated)} resources jobs do not need): {', '.join(kinds)}")
        for prefix in self.prefixes:
            spec = watcher_spec(stack.resolver, prefix)
            watcher = WatcherProcess(spec, self.endpoint.url, self.aws.region, run_dir, self._emitter(prefix))
            self.watchers.append(watcher)
            label = f"{prefix}: " if len(self.prefixes) > 1 else ""
            out.print(f"{label}watcher runs `{spec.command}` in {os.getcwd()}")
            for volume, path in watcher.volumes:
                out.print(f"{label}volume {volume} -> {path}" + (" (TMPDIR)" if path == watcher.tmpdir else ""))
            if watcher.missing_secrets:
                out.print(f"{label}secrets not set (export them to pass them on): "
                          f"{', '.join(watcher.missing_secrets)}")
        if self.stop_requests:
            return False
        for watcher in self.watchers:
            watcher.start()
        fifo = any(w.spec.queue_url.endswith(".fifo") for w in self.watchers)
        example = "--group-id demo 'hello'" if fifo else "'hello'"
        out.print(f"send work: watchbot-cfn send --stack-name {self.stack_name} --endpoint-url {self.endpoint.url} "
                  f"{example}")
        out.print("Ctrl-C stops everything")
        return True

    def _emitter(self, prefix: str) -> Any:
        label = f"[{prefix}] " if len(self.prefixes) > 1 else ""
        return lambda line: self.out.print(label + line)

    # -- run -----------------------------------------------------------------------
    def _watch(self) -> None:
        last_status = ""
        while not self.stop_requests:
            for watcher in self.watchers:
                if not watcher.running and not self._replace(watcher):
                    return
            status = self._status()
            if status and status != last_status:
                if self.out.live:
                    self.out.update(status)
                else:
                    self.out.print(f"[local] {status}")
                last_status = status
            self._sleep(1.0)

    def _replace(self, watcher: Any) -> bool:
        """A watcher that exited is started again, as ECS starts a new task; bad configuration ends the run."""
        from watchbot_cfn import contract

        code = watcher.wait(5)
        if code == contract.EXIT_BAD_CONFIG:
            self.out.print(f"watchbot-cfn: error: the watcher of {watcher.spec.prefix} refused its configuration "
                           "(see its line above)")
            self.exit_code = 1
            return False
        if code != 0:
            self.out.print(f"[local] the watcher of {watcher.spec.prefix} exited with {code}; starting a new one")
            self._sleep(1.0)
        if self.stop_requests:
            return False
        watcher.start()
        return True

    def _status(self) -> str:
        from watchbot_cfn.local.watcher import queue_depths

        sqs = self.aws.client("sqs")
        parts = []
        for watcher in self.watchers:
            try:
                visible, in_flight = queue_depths(sqs, watcher.spec.queue_url)
                dead = sum(queue_depths(sqs, watcher.spec.dead_letter_queue_url))
            except Exception:  # the endpoint is stopping; keep the last figures
                return ""
            counts = watcher.snapshot()
            label = f"{watcher.spec.prefix}: " if len(self.watchers) > 1 else ""
            parts.append(f"{label}visible {visible}, in flight {in_flight}, dead-letter {dead}, "
                         f"succeeded {counts.succeeded}, failed {counts.failed} (rejected {counts.rejected})")
        return " | ".join(parts)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        seen = self.stop_requests
        while time.monotonic() < deadline and self.stop_requests == seen:
            time.sleep(0.05)

    # -- stop ----------------------------------------------------------------------
    def _stop(self) -> None:
        """Drain like SIGTERM on ECS; each further Ctrl-C is passed on, so the watcher stops its jobs at once."""
        from watchbot_cfn import contract

        running = [w for w in self.watchers if w.running]
        self.out.clear()
        if running:
            drain = max(w.spec.drain_timeout for w in running)
            self.out.print(f"[local] stopping: running jobs get up to {drain:g} s to finish (Ctrl-C again to stop "
                           "them now)")
            for watcher in running:
                watcher.signal_stop()
            handled = self.stop_requests
            deadline = time.monotonic() + drain + contract.SHUTDOWN_MARGIN + 5
            while any(w.running for w in running) and time.monotonic() < deadline:
                if self.stop_requests > handled:
                    handled = self.stop_requests
                    for watcher in running:
                        watcher.signal_stop()
                time.sleep(0.05)
        for watcher in self.watchers:
            watcher.finish_reading()
        totals = [f"{w.spec.prefix}: succeeded {w.counts.succeeded}, failed {w.counts.failed} "
                  f"(rejected {w.counts.rejected})" for w in self.watchers]
        if totals:
            self.out.print(f"[local] stopped; {' | '.join(totals)}")

    def _force_stop(self) -> None:
        """Whatever still runs (after an error, or a watcher past its deadline) is killed, orphans included."""
        from watchbot_cfn.local.processes import sweep_orphans

        for watcher in self.watchers:
            watcher.kill()
        if self.endpoint is not None:
            self.endpoint.stop()
        sweep_orphans(known=set())
