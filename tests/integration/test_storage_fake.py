"""Images and data disks through the use cases, on fake hosts (issue 10): what the database
records, what each host holds, what is claimed, and that every refusal leaves nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.fake_world import DISK_FOLDER, World, to
from vmpool.adapters.db.tables import DiskRow
from vmpool.adapters.storage.seed_iso import read_seed_iso
from vmpool.domain.images import DiskFormat
from vmpool.domain.seed import FirstBoot
from vmpool.errors import (
    AlreadyExists,
    Conflict,
    HypervisorFailure,
    InvalidInput,
    InvalidState,
    NoCapacity,
    PayloadTooLarge,
)
from vmpool.services import disk_recovery, disks, hosts, images, migrations, sync, vms

GIB = 2**30


def _image(tmp_path: Path, name: str, fmt: str, size: str, *extra: str) -> Path:
    path = tmp_path / f"{name}.{fmt}"
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, *extra, str(path), size], check=True)
    return path


def _chunks(path: Path, size: int = 65536) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(size):
            yield chunk


def _store_files(world: World) -> list[str]:
    root = world.runtime.settings.effective_image_store_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_an_upload_is_checked_kept_and_copied_to_every_host(world: World, tmp_path: Path) -> None:
    _, a = world.add_host("a")
    _, b = world.add_host("b")
    source = _image(tmp_path, "base", "qcow2", "3G")

    view = images.upload_image(world.ctx, "base", None, None, _chunks(source))

    assert (view.state, view.format, view.virtual_size_bytes) == ("available", "qcow2", 3 * GIB)
    assert view.size_bytes == source.stat().st_size and len(view.sha256) == 64
    assert view.hosts == ["a", "b"]
    copy = f"{DISK_FOLDER}/image-{view.id}.qcow2"
    assert copy in a.volumes and copy in b.volumes
    assert _store_files(world) == [f"{view.id}.qcow2"]
    with pytest.raises(AlreadyExists):
        images.upload_image(world.ctx, "base", None, None, _chunks(source))


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("backing file", InvalidInput),
        ("data file", InvalidInput),
        ("declared raw is qcow2", InvalidInput),
        ("checksum mismatch", InvalidInput),
        ("too large", PayloadTooLarge),
        ("not an image", InvalidInput),
        ("client went away", ConnectionError),
    ],
)
def test_a_refused_upload_leaves_nothing(
    world: World, tmp_path: Path, case: str, error: type[Exception]
) -> None:
    _, a = world.add_host("a")
    fmt: DiskFormat | None = None
    sha: str | None = None
    if case == "backing file":
        chunks = _chunks(_image(tmp_path, "evil", "qcow2", "1M", "-b", "/etc/shadow", "-F", "raw"))
    elif case == "data file":
        chunks = _chunks(_image(tmp_path, "ext", "qcow2", "1M", "-o", f"data_file={tmp_path}/d"))
    elif case == "declared raw is qcow2":
        chunks, fmt = _chunks(_image(tmp_path, "q", "qcow2", "1M")), DiskFormat.RAW
    elif case == "checksum mismatch":
        chunks, sha = _chunks(_image(tmp_path, "q", "qcow2", "1M")), "0" * 64
    elif case == "too large":
        chunks = iter([b"\0" * (world.ctx.max_image_bytes + 1)])
    elif case == "not an image":
        chunks, fmt = iter([b"hello, not a qcow2"]), DiskFormat.QCOW2
    else:

        def broken() -> Iterator[bytes]:
            yield b"\0" * 4096
            raise ConnectionError("the client went away")

        chunks = broken()

    with pytest.raises(error):
        images.upload_image(world.ctx, "bad", fmt, sha, chunks)

    assert images.list_images(world.ctx) == []
    assert _store_files(world) == []
    assert a.volumes == {} and a.calls_of("upload_volume") == 0


def test_a_vm_boots_from_an_overlay_of_its_image(world: World, tmp_path: Path) -> None:
    a_id, a = world.add_host("a")
    source = _image(tmp_path, "b", "raw", "3M")  # a raw image: its bytes are its disk
    image = images.upload_image(world.ctx, "base", None, None, _chunks(source))

    vm = world.create("from-image", on="a", image="base")

    assert vm.disk_gib == 1 and vm.image == "base"  # 3 MiB rounded up to whole GiB
    assert vm.disk_path is not None and vm.disk_path in a.volumes
    assert a.backings[vm.disk_path] == (f"{DISK_FOLDER}/image-{image.id}.raw", DiskFormat.RAW)
    spec = a.get_domain(vm.uuid).spec
    assert spec is not None and spec.boot is None and spec.disk_path == vm.disk_path
    assert world.allocated(a_id).disk_gib == 1.0
    # The image is in use: it stays.
    with pytest.raises(InvalidState, match="base of 1 VM"):
        images.delete_image(world.ctx, image.id)
    # A disk smaller than the image is refused before anything is made.
    big = images.upload_image(
        world.ctx, "big", None, None, _chunks(_image(tmp_path, "q", "qcow2", "1536M"))
    )
    assert big.virtual_size_bytes == 1536 * 2**20
    with pytest.raises(InvalidInput, match="smaller than the image"):
        world.create("too-small", image="big", disk_gib=1)
    assert world.create("big-enough", image="big").disk_gib == 2  # 1.5 GiB rounded up
    vms.delete_vm(world.ctx, vms.list_vms(world.ctx)[-1].id)
    assert [v.name for v in vms.list_vms(world.ctx)] == ["from-image"]

    vms.delete_vm(world.ctx, vm.id)
    assert vm.disk_path not in a.volumes
    images.delete_image(world.ctx, image.id)
    images.delete_image(world.ctx, big.id)
    assert a.volumes == {} and images.list_images(world.ctx) == [] and _store_files(world) == []


def test_a_host_added_later_gets_the_image_when_a_vm_needs_it(world: World, tmp_path: Path) -> None:
    world.add_host("a")
    image = images.upload_image(
        world.ctx, "base", None, None, _chunks(_image(tmp_path, "b", "qcow2", "1G"))
    )
    _, late = world.add_host("late", cpus=64)  # more room: placement picks it
    assert images.get_image(world.ctx, image.id).hosts == ["a"]

    vm = world.create("there", image="base")

    assert vm.host_name == "late" and late.calls_of("upload_volume") == 1
    assert images.get_image(world.ctx, image.id).hosts == ["a", "late"]


def test_data_disks_are_added_grown_and_removed_with_their_claims(world: World) -> None:
    a_id, a = world.add_host("a", disk_gib=100)
    vm = world.create("db", on="a", disk_gib=10)

    first = disks.add_disk(world.ctx, vm.id, 20)
    second = disks.add_disk(world.ctx, vm.id, 5)

    assert (first.target, second.target) == ("vdb", "vdc")
    assert first.state == "attached" and a.volumes[first.path] == 20
    assert a.get_domain(vm.uuid).data_disks == {"vdb": first.path, "vdc": second.path}
    assert world.allocated(a_id).disk_gib == 35.0

    grown = disks.resize_disk(world.ctx, vm.id, first.id, 30)
    assert (grown.size_gib, grown.state, a.volumes[first.path]) == (30, "attached", 30)
    assert world.allocated(a_id).disk_gib == 45.0
    with pytest.raises(InvalidInput, match="cannot shrink"):
        disks.resize_disk(world.ctx, vm.id, first.id, 29)

    disks.remove_disk(world.ctx, vm.id, second.id)
    assert first.path in a.volumes and second.path not in a.volumes
    assert a.get_domain(vm.uuid).data_disks == {"vdb": first.path}
    assert [d.target for d in disks.list_disks(world.ctx, vm.id)] == ["vdb"]
    assert world.allocated(a_id).disk_gib == 40.0

    # A new disk takes the first free name again.
    assert disks.add_disk(world.ctx, vm.id, 1).target == "vdc"
    # Deleting the VM deletes every volume it had.
    vms.delete_vm(world.ctx, vm.id)
    assert a.volumes == {} and world.allocated(a_id).disk_gib == 0.0


def test_a_disk_that_does_not_fit_is_refused_with_the_reason(world: World) -> None:
    a_id, a = world.add_host("a", disk_gib=50)
    vm = world.create("full", on="a", disk_gib=10)
    before = dict(a.volumes)

    with pytest.raises(NoCapacity, match="disk"):
        disks.add_disk(world.ctx, vm.id, 500)
    with pytest.raises(NoCapacity):
        disks.add_disk(world.ctx, vm.id, 5, storage="shared")  # no host mounts shared storage

    assert a.volumes == before and disks.list_disks(world.ctx, vm.id) == []
    assert world.allocated(a_id).disk_gib == 10.0


def test_a_failed_attach_and_a_guest_that_holds_its_disk_leave_things_as_they_were(
    world: World,
) -> None:
    a_id, a = world.add_host("a")
    vm = world.create("app", on="a")
    a.fail_next("attach_disk", HypervisorFailure("internal error: unable to execute QEMU command"))
    with pytest.raises(HypervisorFailure):
        disks.add_disk(world.ctx, vm.id, 4)
    assert a.volumes == {} and disks.list_disks(world.ctx, vm.id) == []
    assert world.allocated(a_id).disk_gib == 0.0

    disk = disks.add_disk(world.ctx, vm.id, 4)
    a.guest_holds_disks = True
    with pytest.raises(Exception, match="did not release"):
        disks.remove_disk(world.ctx, vm.id, disk.id)
    kept = disks.get_disk(world.ctx, vm.id, disk.id)
    assert kept.state == "attached" and kept.last_error is not None
    assert disk.path in a.volumes  # never deleted under a guest that still uses it


def test_disks_change_only_while_the_vm_runs_or_is_stopped(world: World) -> None:
    world.add_host("a")
    vm = world.create("busy")
    with world.ctx.uow() as uow:
        row = uow.vms.get(vm.id)
        row.begin_migration(world.ctx.clock())
        uow.commit()
    with pytest.raises(InvalidState, match="migrating"):
        disks.add_disk(world.ctx, vm.id, 1)


def test_a_migration_copies_only_what_the_vm_wrote_and_cleans_up_after_itself(
    world: World, tmp_path: Path
) -> None:
    a_id, a = world.add_host("a")
    source = _chunks(_image(tmp_path, "b", "qcow2", "2G"))
    image = images.upload_image(world.ctx, "base", None, None, source)
    b_id, b = world.add_host("b")  # added after the upload: it has no copy yet
    vm = world.create("mover", on="a", image="base")
    data = disks.add_disk(world.ctx, vm.id, 3)
    base_path = f"{DISK_FOLDER}/image-{image.id}.qcow2"
    assert base_path not in b.volumes

    m = world.settled(
        migrations.request_migration(world.ctx, vm.id, migrations.MigrateOptions(storage="copy")).id
    )

    assert m.state == "completed" and m.storage == "copy"
    [request] = a.migration_requests
    assert request.copy_storage and request.disks == ("vda", "vdb")
    # The base image was put on the target first; the overlay made there has the same base.
    assert base_path in b.volumes and b.backings[vm.disk_path] == (base_path, DiskFormat.QCOW2)  # type: ignore[index]
    assert b.volumes[data.path] == 3
    # The source keeps its image copy, not the VM's volumes.
    assert vm.disk_path not in a.volumes and data.path not in a.volumes and base_path in a.volumes
    assert world.allocated(a_id).disk_gib == 0.0 and world.allocated(b_id).disk_gib == 5.0
    assert b.get_domain(vm.uuid).data_disks == {"vdb": data.path}


def test_a_failed_copy_migration_removes_the_volumes_it_made_on_the_target(
    world: World,
) -> None:
    _, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("stays", on="a", disk_gib=2)
    disks.add_disk(world.ctx, vm.id, 1)
    a.fail_next_migration("operation failed: migration out job: unexpectedly failed")

    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id, storage="copy")).id)

    assert m.state == "failed" and world.vm(vm.id).host_name == "a"
    assert b.volumes == {}  # the target volumes made for the copy are gone
    assert len(a.volumes) == 2
    with pytest.raises(Conflict, match="storage=copy"):
        migrations.request_migration(world.ctx, vm.id, to(b_id, storage="shared"))


def test_first_boot_data_reaches_the_vm_on_a_seed_that_follows_it(world: World) -> None:
    _, a = world.add_host("a")
    b_id, b = world.add_host("b")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbq0iu7 me@laptop"
    cmd = vms.CreateVm(
        name="cloudy", vcpus=1, memory_mib=64, hosts=frozenset({"a"}),
        first_boot=FirstBoot(user_data="#cloud-config\nruncmd: [[touch, /ok]]\n",
                             ssh_keys=(key,), network_config="version: 2\n"),
    )  # fmt: skip
    vm = vms.create_vm(world.ctx, cmd)

    assert vm.seed_path == f"{DISK_FOLDER}/cloudy-{vm.uuid}-seed.iso"
    spec = a.get_domain(vm.uuid).spec
    assert spec is not None and spec.seed_path == vm.seed_path
    files = read_seed_iso(a.uploaded[vm.seed_path])
    assert files["user-data"] == b"#cloud-config\nruncmd: [[touch, /ok]]\n"
    assert files["network-config"] == b"version: 2\n"
    assert (
        files["meta-data"]
        == (
            f'instance-id: "{vm.uuid}"\nlocal-hostname: "cloudy"\npublic-keys: ["{key}"]\n'
        ).encode()
    )

    # It moves with the VM (libvirt does not copy a read-only CD-ROM: vmpool puts it there).
    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)
    assert m.state == "completed", m.error
    assert read_seed_iso(b.uploaded[vm.seed_path]) == files
    assert vm.seed_path not in a.volumes
    vms.delete_vm(world.ctx, vm.id)
    assert b.volumes == {}
    assert not Path(world.ctx.image_store.seed_path(vm.uuid)).exists()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("boot", "field"),
    [
        (FirstBoot(ssh_keys=("not a key",)), "ssh_keys"),
        (FirstBoot(user_data="x" * (17 * 1024)), "user_data"),
        (FirstBoot(user_data="nul\x00"), "user_data"),
    ],
)
def test_bad_first_boot_data_is_refused_before_anything_is_made(
    world: World, boot: FirstBoot, field: str
) -> None:
    _, a = world.add_host("a")
    cmd = vms.CreateVm(name="bad", vcpus=1, memory_mib=64, first_boot=boot)
    with pytest.raises(InvalidInput) as e:
        vms.create_vm(world.ctx, cmd)
    assert e.value.details["field"] == field
    assert vms.list_vms(world.ctx) == [] and a.volumes == {} and a.domains == {}


def test_disk_changes_left_mid_way_are_settled_once_stale(world: World) -> None:
    a_id, a = world.add_host("a")
    vm = world.create("crashy", on="a")
    attached = disks.add_disk(world.ctx, vm.id, 2)
    resized = disks.add_disk(world.ctx, vm.id, 3)
    # Intents a vmpool that stopped left behind: a new disk half attached (its volume made,
    # not attached yet), a detach that never finished, a resize with no outcome.
    half = f"{DISK_FOLDER}/crashy-{vm.uuid}-vdd.qcow2"
    a.create_volume(DISK_FOLDER, Path(half).stem, 4)
    old = world.ctx.clock() - timedelta(seconds=world.ctx.stale_intent_s + 1)
    with world.ctx.uow() as uow:
        uow.disks.add(DiskRow(vm_id=vm.id, target="vdd", size_gib=4, storage="local",
                              path=half, state_changed_at=old, created_at=old))  # fmt: skip
        uow.disks.get(vm.id, attached.id).begin_detach(old)
        uow.disks.get(vm.id, resized.id).begin_resize(5, old)
        uow.commit()
    assert world.allocated(a_id).disk_gib == 2 + 5 + 4

    settled = disk_recovery.settle_stale(world.ctx)

    assert len(settled) == 3
    left = disks.list_disks(world.ctx, vm.id)
    assert [(d.target, d.state, d.size_gib) for d in left] == [("vdc", "attached", 5)]
    assert left[0].last_error is not None and "grow again" in left[0].last_error
    assert half not in a.volumes and attached.path not in a.volumes
    assert a.get_domain(vm.uuid).data_disks == {"vdc": resized.path}
    assert world.allocated(a_id).disk_gib == 5.0
    assert disk_recovery.settle_stale(world.ctx) == []  # nothing left to settle


def test_shared_disks_are_claimed_against_the_shared_folder(world: World) -> None:
    world.cloud.shared_folders.add("/srv/shared")
    a_id, a = world.add_host("a")
    a.folder_capacity["/srv/shared"] = 10  # the NFS export is 10 GiB
    hosts.update_host(world.ctx, a_id, {"shared_disk_path": "/srv/shared"}, "op")
    sync.sync_all(world.ctx, 1, 10)  # measures it
    assert world.host(a_id).traits.count("shared-storage") == 1

    vm = world.create("nfs-boot", on="a", disk_gib=4, disk_storage="shared")
    disk = disks.add_disk(world.ctx, vm.id, 5, storage="shared")
    assert world.allocated(a_id).disk_gib == 0.0  # nothing of the host's own disk
    with pytest.raises(NoCapacity, match="shared storage has 1 GiB free of 10, 2 asked") as e:
        disks.add_disk(world.ctx, vm.id, 2, storage="shared")
    assert e.value.details["rejections"][0]["filter"] == "shared_disk"
    with pytest.raises(NoCapacity):
        disks.resize_disk(world.ctx, vm.id, disk.id, 7)
    with pytest.raises(NoCapacity):
        world.create("another", on="a", disk_gib=2, disk_storage="shared")
    assert disks.resize_disk(world.ctx, vm.id, disk.id, 6).size_gib == 6  # 1 GiB did fit
    assert sorted(world.cloud.shared_volumes.values()) == [4, 6]


def test_a_local_boot_disk_is_copied_and_a_shared_data_disk_trusted(world: World) -> None:
    world.cloud.shared_folders.add("/srv/shared")
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    for host_id in (a_id, b_id):
        hosts.update_host(world.ctx, host_id, {"shared_disk_path": "/srv/shared"}, "op")
    vm = world.create("mixed", on="a", disk_gib=2)
    shared = disks.add_disk(world.ctx, vm.id, 1, storage="shared")

    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)

    assert m.state == "completed" and m.storage == "copy", m.error
    [request] = a.migration_requests
    assert request.disks == ("vda",) and request.trust_shared_storage
    assert vm.disk_path in b.volumes and shared.path in world.cloud.shared_volumes


def test_hosts_that_mount_the_shared_folder_share_one_copy_of_an_image(
    world: World, tmp_path: Path
) -> None:
    world.cloud.shared_folders.add("/srv/shared")
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    for host_id in (a_id, b_id):
        hosts.update_host(world.ctx, host_id, {"shared_disk_path": "/srv/shared"}, "op")
    image = images.upload_image(
        world.ctx, "base", None, None, _chunks(_image(tmp_path, "b", "qcow2", "1G"))
    )

    copy = f"/srv/shared/image-{image.id}.qcow2"
    assert a.calls_of("upload_volume") + b.calls_of("upload_volume") == 1
    assert image.hosts == ["a", "b"] and copy in world.cloud.shared_volumes
    vm = world.create("on-b", on="b", image="base")
    assert b.backings[vm.disk_path] == (copy, DiskFormat.QCOW2)  # type: ignore[index]
    # It moves to a with its overlay copied; the base is the same file there.
    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(a_id)).id)
    assert m.state == "completed" and a.backings[vm.disk_path][0] == copy  # type: ignore[index]
    vms.delete_vm(world.ctx, vm.id)
    images.delete_image(world.ctx, image.id)
    assert world.cloud.shared_volumes == {}
