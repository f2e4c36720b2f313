"""The storage rules of the domain (issue 10): what an image must be, how big a boot disk is,
how disks are named and grown, how a VM with disks migrates, what the seed says, and the
image and disk entities' transition tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from vmpool.adapters.storage.qemu_img import facts_of
from vmpool.domain.disk import (
    DATA_TARGETS,
    DISK_TRANSITIONS,
    Disk,
    DiskState,
    check_growth,
    check_migration_storage,
    migration_storage,
    next_target,
)
from vmpool.domain.images import (
    GIB,
    IMAGE_TRANSITIONS,
    DiskFormat,
    Image,
    ImageFacts,
    ImageState,
    boot_disk_gib,
    check_image,
)
from vmpool.domain.seed import FirstBoot, seed_files
from vmpool.errors import Conflict, InvalidInput, InvalidState

NOW = datetime(2026, 1, 1, tzinfo=UTC)
QCOW2 = ImageFacts(format="qcow2", virtual_size=3 * GIB, actual_size=200_000)


@pytest.mark.parametrize(
    ("facts", "declared", "why"),
    [
        (ImageFacts("vmdk", GIB, 1), None, "only raw and qcow2"),
        (ImageFacts("qcow2", GIB, 1, backing_file="/etc/shadow"), None, "backing file"),
        (ImageFacts("qcow2", GIB, 1, data_file="/dev/sda"), None, "external data file"),
        (ImageFacts("qcow2", GIB, 1, encrypted=True), None, "encrypted"),
        (ImageFacts("raw", 0, 0), None, "empty"),
        (QCOW2, DiskFormat.RAW, "not raw as declared"),
    ],
)
def test_what_is_not_an_image(facts: ImageFacts, declared: DiskFormat | None, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        check_image(facts, declared)


def test_a_standalone_image_pins_its_format() -> None:
    assert check_image(QCOW2, None) is DiskFormat.QCOW2
    assert check_image(ImageFacts("raw", 4096, 4096), DiskFormat.RAW) is DiskFormat.RAW


def test_qemu_img_json_is_read_with_its_dangers() -> None:
    doc: dict[str, Any] = {
        "format": "qcow2", "virtual-size": 1024, "actual-size": 200704,
        "backing-filename": "/etc/shadow", "backing-filename-format": "raw",
        "format-specific": {"type": "qcow2", "data": {"data-file": "/x", "encrypt": {}}},
    }  # fmt: skip
    facts = facts_of(doc)
    assert (facts.backing_file, facts.data_file, facts.virtual_size) == ("/etc/shadow", "/x", 1024)
    assert facts_of({"format": "qcow2", "encrypted": True}).encrypted


def test_a_boot_disk_is_at_least_its_image() -> None:
    assert boot_disk_gib(0, 3 * GIB) == 3
    assert boot_disk_gib(0, 3 * GIB + 1) == 4  # whole GiB, rounded up
    assert boot_disk_gib(0, 4096) == 1
    assert boot_disk_gib(10, 3 * GIB) == 10
    with pytest.raises(InvalidInput, match="smaller than the image"):
        boot_disk_gib(2, 3 * GIB)


def test_disks_are_named_in_order_and_never_shrink() -> None:
    assert next_target([]) == "vdb"
    assert next_target(["vdb", "vdd"]) == "vdc"
    with pytest.raises(InvalidState, match="at most 25"):
        next_target(DATA_TARGETS)
    check_growth(5, 5)
    check_growth(5, 6)
    with pytest.raises(InvalidInput, match="cannot shrink"):
        check_growth(5, 4)


@pytest.mark.parametrize(
    ("has_local", "has_shared", "default", "refused"),
    [
        (True, False, "copy", "shared"),
        (True, True, "copy", "shared"),
        (False, True, "shared", "copy"),
        (False, False, "shared", None),  # no disk: either is fine
    ],
)
def test_how_a_vm_with_disks_migrates(
    has_local: bool, has_shared: bool, default: str, refused: str | None
) -> None:
    assert migration_storage(has_local, has_shared) == default
    check_migration_storage(default, has_local, has_shared, "vm")
    if refused is not None:
        with pytest.raises(Conflict):
            check_migration_storage(refused, has_local, has_shared, "vm")


def test_the_seed_says_what_was_given_and_nothing_can_change_its_shape() -> None:
    hostile = 'x"\ninstance-id: evil'
    files = seed_files(hostile, "u-1", FirstBoot(user_data="#cloud-config\n"))
    assert files["meta-data"].splitlines()[0] == b'instance-id: "u-1"'
    assert files["meta-data"].count(b"instance-id") == 2  # the second is inside a quoted value
    assert b'local-hostname: "x\\"\\ninstance-id: evil"' in files["meta-data"]
    assert "network-config" not in files
    assert seed_files("a", "u", FirstBoot())["user-data"] == b"#cloud-config\n"
    assert not FirstBoot().wanted and FirstBoot(ssh_keys=("k",)).wanted
    with pytest.raises(InvalidInput):
        FirstBoot(ssh_keys=("ssh-ed25519 AAAA\nrm -rf /",)).check()
    FirstBoot(ssh_keys=("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= u@h",)).check()


class FakeDisk(Disk):
    def __init__(self, state: DiskState) -> None:
        self.id, self.target, self.size_gib, self.state = 1, "vdb", 5, state.value
        self.state_changed_at, self.last_error = NOW, None


class FakeImage(Image):
    def __init__(self, state: ImageState) -> None:
        self.id, self.name, self.state = 1, "base", state.value
        self.format, self.size_bytes, self.virtual_size_bytes, self.sha256 = "", 0, 0, ""
        self.stored_at = None


DISK_EVENTS = {
    "attached": lambda d: d.attached(NOW),
    "begin_resize": lambda d: d.begin_resize(6, NOW),
    "resize_ended": lambda d: d.resize_ended(NOW),
    "begin_detach": lambda d: d.begin_detach(NOW),
    "detach_failed": lambda d: d.detach_failed(NOW, "held"),
}
IMAGE_EVENTS = {
    "store": lambda i: i.store(QCOW2, DiskFormat.QCOW2, 200_000, "ab" * 32, NOW),
    "delete": lambda i: i.begin_delete(),
}


@pytest.mark.parametrize("event", list(DISK_TRANSITIONS))
@pytest.mark.parametrize("state", list(DiskState))
def test_disk_transitions(event: str, state: DiskState) -> None:
    disk = FakeDisk(state)
    rule = DISK_TRANSITIONS[event]
    if state in rule.sources:
        DISK_EVENTS[event](disk)
        assert disk.state == rule.target.value
    else:
        with pytest.raises(InvalidState):
            DISK_EVENTS[event](disk)
        assert disk.state == state.value


@pytest.mark.parametrize("event", list(IMAGE_TRANSITIONS))
@pytest.mark.parametrize("state", list(ImageState))
def test_image_transitions(event: str, state: ImageState) -> None:
    image = FakeImage(state)
    rule = IMAGE_TRANSITIONS[event]
    if state in rule.sources:
        IMAGE_EVENTS[event](image)
        assert image.state == rule.target.value
    else:
        with pytest.raises(InvalidState):
            IMAGE_EVENTS[event](image)
        assert image.state == state.value


def test_a_failed_resize_gives_back_the_size_it_claimed() -> None:
    disk = FakeDisk(DiskState.ATTACHED)
    before = disk.begin_resize(9, NOW)
    assert (before, disk.size_gib) == (5, 9)  # claimed with the intent
    disk.resize_ended(NOW, restore_gib=before, error="blockResize failed")
    assert (disk.size_gib, disk.disk_state, disk.last_error) == (
        5,
        DiskState.ATTACHED,
        "blockResize failed",
    )
