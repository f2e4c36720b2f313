"""Each entity's transition table as a Mermaid state diagram: docs/architecture.md shows
these (a unit test checks that it says exactly this; `scripts/state_diagrams.py` prints
them)."""

from __future__ import annotations

from vmpool.domain.disk import DISK_TRANSITIONS, Disk
from vmpool.domain.host import HOST_TRANSITIONS, Host
from vmpool.domain.images import IMAGE_TRANSITIONS, Image
from vmpool.domain.lifecycle import mermaid
from vmpool.domain.migration import MIGRATION_TRANSITIONS, Migration
from vmpool.domain.plan import PLAN_TRANSITIONS, STEP_TRANSITIONS, Plan, PlanStep
from vmpool.domain.vm import VM_TRANSITIONS, Vm

DIAGRAMS = {
    "Vm": mermaid(VM_TRANSITIONS, Vm.INITIAL),
    "Migration": mermaid(MIGRATION_TRANSITIONS, Migration.INITIAL),
    "Plan": mermaid(PLAN_TRANSITIONS, Plan.INITIAL),
    "PlanStep": mermaid(STEP_TRANSITIONS, PlanStep.INITIAL),
    "Host": mermaid(HOST_TRANSITIONS, Host.INITIAL),
    "Image": mermaid(IMAGE_TRANSITIONS, Image.INITIAL),
    "Disk": mermaid(DISK_TRANSITIONS, Disk.INITIAL),
}
