"""The image catalog: upload an image, list and read them, delete one, and put a copy on
a host that needs it.

An upload records the image first (`uploading`, which holds its name), receives the bytes
into the daemon's image store (counted, hashed, refused past `max_image_bytes`), checks
the file (`domain.images.check_image`, on `qemu-img info` with the format pinned), keeps
it, and records it `available`. Anything that goes wrong on the way removes the record
and the file: a failed or interrupted upload leaves nothing. The image is then copied to
every reachable host through libvirt: once into the shared folder for the hosts that mount
one, else into each host's local folder; a host that misses it (down, or added later) gets it
when a VM needs it there (`ensure_on_host`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vmpool.adapters.db.tables import HostRow, ImageRow
from vmpool.domain.host import HostState
from vmpool.domain.images import DiskFormat, ImageState, check_image
from vmpool.domain.names import validate_name
from vmpool.domain.ports import ImageStore
from vmpool.errors import AlreadyExists, InvalidInput, InvalidState, NotFound, VmpoolError
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageView:
    id: int
    name: str
    state: str
    format: str
    size_bytes: int
    virtual_size_bytes: int
    sha256: str
    hosts: list[str]  # where a copy is present
    created_by: str
    created_at: datetime
    stored_at: datetime | None


def image_view(row: ImageRow, host_names: dict[int, str]) -> ImageView:
    return ImageView(
        id=row.id,
        name=row.name,
        state=row.state,
        format=row.format,
        size_bytes=row.size_bytes,
        virtual_size_bytes=row.virtual_size_bytes,
        sha256=row.sha256,
        hosts=sorted(host_names.get(c.host_id, str(c.host_id)) for c in row.copies),
        created_by=row.created_by,
        created_at=row.created_at,
        stored_at=row.stored_at,
    )


def store_of(ctx: ServiceContext) -> ImageStore:
    if ctx.image_store is None:
        raise InvalidState("this vmpool has no image store configured")
    return ctx.image_store


def upload_image(
    ctx: ServiceContext,
    name: str,
    fmt: DiskFormat | None,
    sha256: str | None,
    chunks: Iterable[bytes],
    actor: str = "api",
    project_id: int | None = None,
) -> ImageView:
    """`project_id`: the project whose own image it is (None: shared with every project)."""
    validate_name(name, "image name")
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise InvalidInput("sha256 must be 64 lowercase hex digits", field="sha256")
    store = store_of(ctx)
    # 1. Intent: the name is taken now, so two uploads of one name cannot both run.
    with ctx.uow() as uow:
        if uow.images.by_name(name) is not None:
            raise AlreadyExists(f"an image named {name} already exists", name=name)
        row = uow.images.add(
            ImageRow(name=name, project_id=project_id, created_by=actor, created_at=ctx.clock())
        )
        uow.events.record(actor, "image.upload", f"image/{row.id}", name=name)
        image_id = row.id
        uow.commit()
    # 2. The bytes, checked before anything reaches a host.
    try:
        received = store.receive(image_id, chunks, ctx.max_image_bytes)
        if sha256 is not None and received.sha256 != sha256:
            raise InvalidInput(
                f"the upload's sha256 is {received.sha256}, not {sha256}: corrupted on the way?",
                field="sha256",
            )
        # Detected once (a declared format must match), then read again with it pinned.
        pinned = check_image(store.inspect(received.path, None), fmt)
        facts = store.inspect(received.path, pinned)
        check_image(facts, pinned)
        store.keep(image_id, received.path, pinned)
    except BaseException as exc:  # a client that went away included
        _forget(ctx, image_id, f"upload failed: {exc}")
        raise
    # 3. Outcome.
    with ctx.uow() as uow:
        row = uow.images.get(image_id)
        row.store(facts, pinned, received.size, received.sha256, ctx.clock())
        uow.events.record(actor, "image.stored", f"image/{image_id}", name=name,
                          format=pinned.value, bytes=received.size)  # fmt: skip
        up = [h.id for h in uow.hosts.list() if h.host_state is HostState.UP]
        uow.commit()
    for host_id in up:  # best effort: a host that misses it gets it when a VM needs it
        try:
            ensure_on_host(ctx, image_id, host_id)
        except VmpoolError as exc:
            log.warning("image %s not copied to host %s yet: %s", name, host_id, exc.message)
    return get_image(ctx, image_id)


def _forget(ctx: ServiceContext, image_id: int, why: str) -> None:
    store_of(ctx).remove(image_id)
    with ctx.uow() as uow:
        row = uow.images.find(image_id)
        if row is not None:
            uow.images.delete(row)
            uow.events.record("api", "image.upload_failed", f"image/{image_id}", error=why[:500])
            uow.commit()


def image_folder(ctx: ServiceContext, host: HostRow) -> str:
    """Where a host finds images: the shared folder if it mounts one (one copy serves every
    host that mounts it), else its local folder."""
    return host.shared_disk_path or host.local_disk_path or ctx.default_local_disk_path


def ensure_on_host(ctx: ServiceContext, image_id: int, host_id: int) -> str:
    """The path of the image's copy on the host, copied there first if it is missing."""
    with ctx.uow() as uow:
        image = uow.images.get(image_id)
        if image.image_state is not ImageState.AVAILABLE:
            raise InvalidState(f"image {image.name} is {image.state}", state=image.state)
        host = uow.hosts.get(host_id)
        copy = uow.images.copy_on(image_id, host_id)
        uri, folder = host.uri, image_folder(ctx, host)
        fmt = DiskFormat(image.format)
        known = copy.path if copy is not None else None
        name = f"image-{image_id}.{fmt.value}"
        wanted = str(Path(folder) / name)
        # Another host recorded a complete copy there: the shared folder holds it for all.
        shared = any(c.path == wanted and c.host_id != host_id for c in image.copies)
    hv = ctx.hypervisors.connect(uri)
    if known is not None and hv.volume_exists(known):
        return known
    if shared and hv.volume_exists(wanted):
        path = wanted
    else:
        source = store_of(ctx).path(image_id, fmt)
        if not Path(source).is_file():
            raise NotFound(f"the image store has no file for image {image_id}")
        if hv.volume_exists(wanted):
            hv.delete_volume(wanted)  # not recorded as a copy: a leftover, perhaps half-written
        path = hv.upload_volume(folder, name, source)
    with ctx.uow() as uow:
        stale = uow.images.copy_on(image_id, host_id)
        if stale is not None:
            uow.images.forget_copy(stale)
        uow.images.add_copy(image_id, host_id, path, ctx.clock())
        uow.commit()
    return path


def list_images(ctx: ServiceContext, after_id: int = 0, limit: int = 100) -> list[ImageView]:
    with ctx.uow() as uow:
        names = {h.id: h.name for h in uow.hosts.list()}
        return [image_view(r, names) for r in uow.images.list(after_id, limit)]


def get_image(ctx: ServiceContext, image_id: int) -> ImageView:
    with ctx.uow() as uow:
        names = {h.id: h.name for h in uow.hosts.list()}
        return image_view(uow.images.get(image_id), names)


def delete_image(ctx: ServiceContext, image_id: int, actor: str = "api") -> None:
    """Refused while a VM's boot disk is an overlay of it; its copies go from every host
    that answers (a host that does not keeps the record `deleting` until it does)."""
    with ctx.uow() as uow:
        row = uow.images.get(image_id)
        users = uow.images.users(image_id)
        if users:
            raise InvalidState(
                f"image {row.name} is the base of {len(users)} VM(s): delete them first",
                vms=list(users[:20]),
            )
        row.begin_delete()
        copies = [(c.host_id, c.path) for c in row.copies]
        uris = {h.id: h.uri for h in uow.hosts.list()}
        uow.events.record(actor, "image.delete", f"image/{image_id}", name=row.name)
        uow.commit()
    failed: list[str] = []
    for host_id, path in copies:
        try:
            ctx.hypervisors.connect(uris[host_id]).delete_volume(path)
        except (VmpoolError, KeyError) as exc:
            failed.append(f"host {host_id}: {exc}")
            continue
        with ctx.uow() as uow:
            gone = uow.images.copy_on(image_id, host_id)
            if gone is not None:
                uow.images.forget_copy(gone)
            uow.commit()
    if failed:
        raise InvalidState(
            "the image stays `deleting` until these hosts answer: " + "; ".join(failed)
        )
    store_of(ctx).remove(image_id)
    with ctx.uow() as uow:
        row = uow.images.get(image_id)
        uow.images.delete(row)
        uow.commit()
