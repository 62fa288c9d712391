"""A proxy in front of the moto server that leaves chosen SQS calls unanswered (a hung endpoint).

Kept for the tests written against it: it is ``FaultProxy`` with one ``stall``
rule for the first ``times`` calls of one operation.
"""

from __future__ import annotations

from tests.support.faultproxy import FaultProxy, Rule

__all__ = ["StallProxy"]


class StallProxy(FaultProxy):
    def __init__(self, target_port: int, stall: str, times: int) -> None:
        super().__init__(target_port, [Rule(stall, "stall", times=times)])
        self.operation = stall

    @property
    def stalled(self) -> int:
        return sum(call.fault == "stall" for call in self.of(self.operation))
