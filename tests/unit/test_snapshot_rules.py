"""The snapshot rules (domain/snapshot.py): pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vmpool.domain.snapshot import (
    Snapshot,
    SnapshotState,
    check_description,
    check_disks,
    check_snapshot_migration,
    check_vm_snapshot_free,
    libvirt_snapshot_name,
    snapshot_migration_blocker,
    snapshot_mode,
    snapshot_size_gib,
)
from vmpool.errors import Conflict, InvalidInput, InvalidState, InvalidTransition

NOW = datetime(2025, 1, 1, tzinfo=UTC)


class _Snap(Snapshot):
    def __init__(self, state: SnapshotState) -> None:
        self.id, self.name, self.state = 1, "s", state.value
        self.state_changed_at, self.last_error = NOW, None


def test_a_running_vm_is_snapshotted_with_its_memory_a_stopped_one_without() -> None:
    assert snapshot_mode("vm", "running", None) is True
    assert snapshot_mode("vm", "running", True) is True
    assert snapshot_mode("vm", "stopped", None) is False
    assert snapshot_mode("vm", "stopped", False) is False


@pytest.mark.parametrize(
    ("state", "include", "says"),
    [
        ("running", False, "include_memory true"),
        ("stopped", True, "no memory"),
        ("migrating", None, "runs or is stopped"),
        ("starting", None, "runs or is stopped"),
        ("paused", None, "runs or is stopped"),
    ],
)
def test_what_cannot_be_snapshotted_is_refused_with_why(
    state: str, include: bool | None, says: str
) -> None:
    with pytest.raises(InvalidState, match=says):
        snapshot_mode("vm", state, include)


def test_a_snapshot_needs_qcow2_disks() -> None:
    check_disks("vm", ["qcow2", "qcow2"])
    with pytest.raises(InvalidState, match="no disk"):
        check_disks("vm", [])
    with pytest.raises(InvalidState, match="raw"):
        check_disks("vm", ["qcow2", "raw"])


def test_descriptions_are_any_printable_text_up_to_255() -> None:
    text = "<a href='x'>&amp;</a> ]]> \"é\""
    assert check_description(text) == text
    assert check_description("x" * 255) == "x" * 255
    with pytest.raises(InvalidInput, match="at most 255"):
        check_description("x" * 256)
    for bad in ("a\nb", "a\tb", "a\x00b", "a\x1bb"):
        with pytest.raises(InvalidInput, match="control"):
            check_description(bad)


def test_the_libvirt_name_is_vmpools_own() -> None:
    assert libvirt_snapshot_name("ab12") == "vmpool-snap-ab12"


def test_the_claim_is_the_disks_worst_case_plus_memory_rounded_up() -> None:
    assert snapshot_size_gib(10, 1536, with_memory=True) == 12
    assert snapshot_size_gib(10, 1024, with_memory=True) == 11
    assert snapshot_size_gib(10, 1536, with_memory=False) == 10
    assert snapshot_size_gib(0, 64, with_memory=True) == 1


def test_a_copy_migration_of_a_vm_with_snapshots_is_refused() -> None:
    assert snapshot_migration_blocker("vm", 0, "copy") is None
    assert snapshot_migration_blocker("vm", 3, "shared") is None
    why = snapshot_migration_blocker("vm", 2, "copy")
    assert why is not None and "2 snapshot(s)" in why and "shared storage" in why
    with pytest.raises(Conflict, match="delete the snapshots"):
        check_snapshot_migration("vm", 1, "copy")
    check_snapshot_migration("vm", 1, "shared")


def test_one_snapshot_change_at_a_time() -> None:
    check_vm_snapshot_free("vm", False)
    with pytest.raises(InvalidState, match="try again"):
        check_vm_snapshot_free("vm", True)


def test_snapshot_transitions() -> None:
    s = _Snap(SnapshotState.CREATING)
    with pytest.raises(InvalidTransition):
        s.begin_revert(NOW)
    s.taken(NOW)
    assert s.snapshot_state is SnapshotState.READY
    s.begin_revert(NOW)
    with pytest.raises(InvalidTransition):
        s.begin_delete(NOW)  # not while it is being reverted to
    s.reverted(NOW)
    s.begin_delete(NOW)
    s.delete_failed(NOW, "busy")
    assert (s.snapshot_state, s.last_error) == (SnapshotState.READY, "busy")


LIBVIRT_SNAPSHOT = """<domainsnapshot><name>vmpool-snap-1</name><state>running</state>
<memory snapshot='internal'/><domain type='qemu'><name>web</name>
<memory unit='KiB'>262144</memory><currentMemory unit='KiB'>131072</currentMemory>
<vcpu placement='static' current='1'>2</vcpu></domain></domainsnapshot>"""


def test_the_sizes_a_snapshot_recorded_are_read_from_libvirts_xml() -> None:
    from vmpool.adapters.hypervisor.domain_xml import snapshot_sizes

    assert snapshot_sizes(LIBVIRT_SNAPSHOT) == (1, 128)  # current, not the maxima
    plain = "<domainsnapshot><domain><vcpu>3</vcpu><memory unit='MiB'>512</memory></domain>"
    assert snapshot_sizes(plain + "</domainsnapshot>") == (3, 512)
    assert snapshot_sizes("<domainsnapshot><name>x</name></domainsnapshot>") is None
    assert snapshot_sizes("not xml <") is None


def test_a_revert_to_other_sizes_than_the_vm_has_now_is_refused_with_what_to_do() -> None:
    from vmpool.domain.snapshot import check_revert_sizes
    from vmpool.errors import Conflict

    check_revert_sizes("web", "s1", (1, 128), (1, 128))
    check_revert_sizes("web", "s1", None, (2, 256))  # the record does not say
    with pytest.raises(Conflict) as refused:
        check_revert_sizes("web", "s1", (1, 128), (2, 128))
    assert "resize it to the snapshot's sizes" in refused.value.message
    assert refused.value.details == {"snapshot_vcpus": 1, "snapshot_memory_mib": 128}
