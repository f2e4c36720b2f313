"""The range of every number a client may give, written once: the API schemas publish
them (`Field(ge=..., le=...)`) and the services check them (`Bound.check`) for callers that
do not come through the API (the CLI, the scheduler, tests)."""

from __future__ import annotations

from dataclasses import dataclass

from vmpool.errors import InvalidInput

MAX_ID = 2**31 - 1  # ids are PostgreSQL INTEGERs


@dataclass(frozen=True, slots=True)
class Bound:
    low: float
    high: float

    def check(self, value: float | None, field: str) -> None:
        if value is not None and not self.low <= value <= self.high:
            raise InvalidInput(f"{field} must be {self.low:g}..{self.high:g}", field=field)


# A VM.
VCPUS = Bound(1, 512)
MEMORY_MIB = Bound(16, 16 * 1024 * 1024)  # 16 TiB: more than any host libvirt runs on today
DISK_GIB = Bound(0, 1024 * 1024)
DATA_DISK_GIB = Bound(1, 1024 * 1024)
SGX_EPC_MIB = Bound(0, 1024 * 1024)  # a few hundred MiB to 512 GiB on today's CPUs
DEVICES_PER_VM = Bound(1, 16)
# A migration.
BANDWIDTH_MIB_S = Bound(1, 1024 * 1024)
MAX_DOWNTIME_MS = Bound(1, 600_000)
COMPLETION_TIMEOUT_S_PER_GIB = Bound(1, 86_400)
# An allocation ratio (pool or host override) and reserved resources.
RATIO = Bound(0.1, 100.0)
RESERVED = Bound(0, 1024 * 1024 * 1024)
# The scheduling loop, and a plan asked for through the API.
REBALANCE_INTERVAL_S = Bound(1, 7 * 86_400)
MIN_GAIN = Bound(0.0, 100.0)
HYSTERESIS_CYCLES = Bound(1, 1000)
COOLDOWN_S = Bound(0, 30 * 86_400)
MAX_MOVES = Bound(0, 1000)
MAX_MEMORY_MIB = Bound(0, MAX_ID)
# A project's quota (vCPUs, MiB, GiB, VMs).
QUOTA = Bound(0, MAX_ID)
