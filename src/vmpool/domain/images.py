"""Disk images: what an uploaded file must be to enter the catalog, and the image entity.

An image is a raw or qcow2 file that stands alone: no backing file, no external data
file, no encryption. Its format is given by the client or detected once, at upload
(`qemu-img info`), and then pinned: every later use names it explicitly, so a raw image
whose first bytes look like a qcow2 header is never read as one (the attack behind
CVE-2008-2004 and its successors).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.errors import InvalidInput

GIB = 2**30


class DiskFormat(enum.StrEnum):
    RAW = "raw"
    QCOW2 = "qcow2"


class StorageKind(enum.StrEnum):
    LOCAL = "local"  # each host's own folder (local_disk_path)
    SHARED = "shared"  # one folder every host of the pool mounts at the same path


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What `qemu-img info --output=json` says about a file."""

    format: str
    virtual_size: int  # bytes the guest sees
    actual_size: int  # bytes on disk
    backing_file: str | None = None
    data_file: str | None = None
    encrypted: bool = False


def check_image(facts: ImageFacts, declared: DiskFormat | None) -> DiskFormat:
    """The format to pin, or a 422 saying why the file cannot be an image."""
    try:
        found = DiskFormat(facts.format)
    except ValueError:
        raise InvalidInput(
            f"the file is {facts.format!r}: only raw and qcow2 images are accepted",
            field="format",
        ) from None
    if declared is not None and found is not declared:
        raise InvalidInput(
            f"the file is {found.value}, not {declared.value} as declared", field="format"
        )
    if facts.backing_file:
        raise InvalidInput(
            "the image has a backing file: upload a standalone image (qemu-img convert)",
            field="image",
        )
    if facts.data_file:
        raise InvalidInput("the image names an external data file", field="image")
    if facts.encrypted:
        raise InvalidInput("encrypted images are not accepted", field="image")
    if facts.virtual_size <= 0:
        raise InvalidInput("the image is empty", field="image")
    return found


def gib_for(size_bytes: int) -> int:
    """Whole GiB holding `size_bytes`."""
    return max(1, -(-size_bytes // GIB))


def boot_disk_gib(requested_gib: int, image_virtual_size: int) -> int:
    """The size of a boot disk made from an image: at least the image's virtual size
    (0 asks for exactly that, rounded up to whole GiB)."""
    needed = gib_for(image_virtual_size)
    if requested_gib == 0:
        return needed
    if requested_gib < needed:
        raise InvalidInput(
            f"disk_gib {requested_gib} is smaller than the image ({needed} GiB)",
            field="disk_gib",
            image_gib=needed,
        )
    return requested_gib


class ImageState(enum.StrEnum):
    UPLOADING = "uploading"  # recorded before the bytes arrive; holds the name
    AVAILABLE = "available"
    DELETING = "deleting"


_I = ImageState

IMAGE_TRANSITIONS: dict[str, Transition[ImageState]] = {
    "store": allowed({_I.UPLOADING}, _I.AVAILABLE),
    "delete": allowed({_I.AVAILABLE, _I.DELETING}, _I.DELETING),
}


class Image:
    """An image's state and rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        id: int
        name: str
        state: str
        format: str
        size_bytes: int
        virtual_size_bytes: int
        sha256: str
        stored_at: datetime | None

    INITIAL: ClassVar[ImageState] = ImageState.UPLOADING

    @property
    def image_state(self) -> ImageState:
        return ImageState(self.state)

    def _go(self, event: str) -> None:
        target = transition(IMAGE_TRANSITIONS, "image", self.name, event, self.image_state)
        self.state = target.value

    def store(
        self, facts: ImageFacts, fmt: DiskFormat, size: int, sha256: str, now: datetime
    ) -> None:
        self._go("store")
        self.format = fmt.value
        self.size_bytes = size
        self.virtual_size_bytes = facts.virtual_size
        self.sha256 = sha256
        self.stored_at = now

    def begin_delete(self) -> None:
        self._go("delete")
