"""Crash trials: the daemon is SIGKILLed at a random moment of each operation (create,
delete, start/stop, migrate, evacuate, a plan), restarted on the same database, and the
invariants are checked against the lab hosts and the database (tests/support/crash_trials.py).

The short version (the test suite): 3 trials per operation. The full version:

    VMPOOL_CRASH_TRIALS=20 pytest -s tests/e2e/test_crash_trials.py

prints a table (operation, trials, violations). Every trial's seed is printed; a failed
one is replayed (its choices and its moment of the kill) with VMPOOL_CRASH_SEED=SEED.
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Iterator

import pytest

from tests.integration.conftest import IMAGE_DIR, TEST_LAB_DIR, wipe_lab_domains
from tests.support.crash_trials import (
    OPERATIONS,
    Call,
    Trial,
    World,
    measure,
    run_trial,
    table,
)
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab

TRIALS = int(os.environ.get("VMPOOL_CRASH_TRIALS", "3"))
REPLAY = os.environ.get("VMPOOL_CRASH_SEED")
_results: list[Trial] = []


@pytest.fixture(scope="module")
def world(
    lab: list[LabHost], tiny_image: GuestImage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One database and lab for all the trials; the daemon of the moment."""
    wipe_lab_domains(lab)
    tmp = tmp_path_factory.mktemp("crash")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMPOOL_")}
    env.update(
        VMPOOL_DATA_DIR=str(tmp / "data"),
        VMPOOL_DOMAIN_TYPE="qemu",
        VMPOOL_IMAGE_DIR=str(IMAGE_DIR),
        VMPOOL_SERIAL_LOG_DIR=str(tmp / "serial"),
        VMPOOL_CONFIG="",
        VMPOOL_LOG_LEVEL="info",
        VMPOOL_HOST_URI_SOCKET_DIRS=json.dumps([str(TEST_LAB_DIR)]),
        # reconcile quickly: the sync, the migration queue, plans
        VMPOOL_SYNC_INTERVAL_S="1",
        VMPOOL_MIGRATION_QUEUE_INTERVAL_S="1",
        VMPOOL_REBALANCE_TICK_S="1",
        VMPOOL_METRICS_ENABLED="false",
    )
    w = World(env=env, workdir=tmp, lab=lab, python=sys.executable)
    w.setup()
    try:
        yield w
    finally:
        w.stop()
        wipe_lab_domains(lab)
        if _results:
            print(f"\ncrash trials (VMPOOL_CRASH_TRIALS={TRIALS}):\n{table(_results)}")


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_crash_trials(world: World, operation: str) -> None:
    op = OPERATIONS[operation]
    if os.environ.get("VMPOOL_CRASH_MEASURE") == "1":  # the durations the delays are drawn over
        took = [measure(world, op, []) for _ in range(2)]
        print(f"{operation} takes {', '.join(f'{t:.1f}' for t in took)} s")
        return
    seeds = [int(REPLAY)] if REPLAY else [random.SystemRandom().randrange(2**32) for _ in
                                          range(TRIALS)]  # fmt: skip
    calls: list[Call] = []
    failed: list[Trial] = []
    for seed in seeds:
        trial = run_trial(world, op, seed, calls)
        _results.append(trial)
        when = f"{trial.delay_s} s" + (" (at the answer)" if trial.at_answer else "")
        when += f" ({trial.note})" if trial.note else ""
        print(f"crash trial {operation} seed={seed} kill after {when}: "
              f"{'; '.join(trial.answered)}; {len(trial.violations)} violations "
              f"({trial.seconds} s: {trial.phases})")  # fmt: skip
        for v in trial.violations:
            print(f"    {v}")
        if trial.violations:
            failed.append(trial)
    assert not failed, "\n".join(
        f"{t.operation} seed={t.seed}: {t.violations}\n  replay: VMPOOL_CRASH_SEED={t.seed} "
        f"pytest -s tests/e2e/test_crash_trials.py -k {t.operation}"
        for t in failed
    )
