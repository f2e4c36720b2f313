from vmpool.domain.migration import ACTIVE_MIGRATION_STATES, MigrationState
from vmpool.domain.model import completion_timeout_s, downtime_steps


def test_downtime_rises_in_steps_to_the_maximum() -> None:
    assert downtime_steps(500) == [125, 250, 375, 500]
    assert downtime_steps(100) == [30, 53, 76, 100]  # never below 30 ms
    assert downtime_steps(20) == [20]  # too small to split
    steps = downtime_steps(4000, steps=6)
    assert steps[0] == 666 and steps[-1] == 4000 and steps == sorted(steps)


def test_completion_timeout_scales_with_memory_as_nova() -> None:
    assert completion_timeout_s(8192, 800) == 6400
    assert completion_timeout_s(256, 800) == 800  # at least one GiB's worth


def test_claims_are_held_exactly_while_a_migration_is_not_final() -> None:
    for state in MigrationState:
        assert (state in ACTIVE_MIGRATION_STATES) is (not state.is_final)
