"""mbarriers of one thread block: arrival counts, transaction bytes and phases.

A phase completes when its expected arrivals have arrived and its pending transaction
bytes (mbarrier_expect_tx, TMA copies) are done; `wait_parity(p)` passes once the phase
with parity p has completed, i.e. while the current phase's parity differs from p.
"""
from __future__ import annotations
from ...errors import DeviceRuntimeError


class MBarrier:
    __slots__ = ("count", "arrived", "tx", "phase")

    def __init__(self, count: int):
        self.count = count
        self.arrived = 0
        self.tx = 0
        self.phase = 0

    def arrive(self, n: int = 1) -> None:
        self.arrived += n
        self._maybe_complete()

    def expect_tx(self, nbytes: int) -> None:
        self.tx += nbytes

    def complete_tx(self, nbytes: int) -> None:
        self.tx -= nbytes
        self._maybe_complete()

    def _maybe_complete(self) -> None:
        while self.arrived >= self.count and self.tx <= 0:
            self.arrived -= self.count
            self.tx = 0
            self.phase += 1

    def passed(self, parity: int) -> bool:
        return (self.phase & 1) != (parity & 1)


class BarrierSet:
    """All barriers of a block, by (buffer, index). `progress` counts state changes so a
    scheduler can tell a stuck set of waiting thread groups (a deadlock) from a slow one."""

    def __init__(self):
        self.barriers: dict = {}
        self.progress = 0

    def allocate(self, buffer) -> None:
        for i, c in enumerate(buffer.arrive_counts or (1,)):
            self.barriers[(buffer, i)] = MBarrier(c)

    def get(self, buffer, index: int) -> MBarrier:
        try:
            return self.barriers[(buffer, index)]
        except KeyError:

            raise DeviceRuntimeError(f"barrier {buffer.name}[{index}] does not exist "
                                     f"({buffer.name} holds {len(buffer.arrive_counts or ())} barriers)") from None

    def arrive(self, buffer, index: int, n: int = 1) -> None:
        self.get(buffer, index).arrive(n)
        self.progress += 1

    def expect_tx(self, buffer, index: int, nbytes: int) -> None:
        self.get(buffer, index).expect_tx(nbytes)
        self.progress += 1

    def complete_tx(self, buffer, index: int, nbytes: int) -> None:
        self.get(buffer, index).complete_tx(nbytes)
        self.progress += 1


class GridBarrier:
    """T.sync_grid across blocks that run cooperatively: `count` arrivals end a generation."""

    def __init__(self, count: int):
        self.count = count
        self.arrived = 0
        self.generation = 0
        self.progress = 0

    def arrive(self) -> int:
        generation = self.generation
        self.arrived += 1
        self.progress += 1
        if self.arrived == self.count:
            self.arrived = 0
            self.generation += 1
        return generation

    def passed(self, generation: int) -> bool:
        return self.generation > generation


class TotalProgress:
    """The progress of many barrier sets together, for a scheduler over several blocks."""

    def __init__(self, parts):
        self.parts = parts

    @property
    def progress(self) -> int:
        return sum(p.progress for p in self.parts)
