"""The daemon's own copy of every catalog image, from which hosts get theirs.

An upload is written to `<store>/staging/<id>.part` while its bytes arrive (counted
and hashed on the way, refused past the limit), inspected there, then renamed to
`<store>/<id>.<format>`. Nothing a client sends names a path: files are named by
the image's id. The folder is private to the daemon (0700).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from vmpool.adapters.storage import qemu_img
from vmpool.adapters.storage.seed_iso import build_seed_iso
from vmpool.domain.images import DiskFormat, ImageFacts
from vmpool.domain.ports import ReceivedFile
from vmpool.errors import PayloadTooLarge


class FileImageStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _ensure(self) -> Path:
        staging = self._root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        os.chmod(self._root, 0o700)
        return staging

    def receive(self, image_id: int, chunks: Iterable[bytes], max_bytes: int) -> ReceivedFile:
        part = self._ensure() / f"{image_id}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(part, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(
                            f"the image is larger than {max_bytes} bytes (max_image_bytes)",
                            max_bytes=max_bytes,
                        )
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            part.unlink(missing_ok=True)  # an interrupted upload leaves nothing
            raise
        return ReceivedFile(path=str(part), size=size, sha256=digest.hexdigest())

    def inspect(self, path: str, fmt: DiskFormat | None) -> ImageFacts:
        return qemu_img.inspect(Path(path), fmt)

    def keep(self, image_id: int, staged: str, fmt: DiskFormat) -> str:
        final = self._root / f"{image_id}.{fmt.value}"
        os.replace(staged, final)
        return str(final)

    def path(self, image_id: int, fmt: DiskFormat) -> str:
        return str(self._root / f"{image_id}.{fmt.value}")

    def keep_seed(self, vm_uuid: str, files: dict[str, bytes]) -> str:
        """The VM's first-boot seed image, kept to give it again to a host it moves to."""
        seeds = self._root / "seeds"
        seeds.mkdir(parents=True, exist_ok=True)
        path = self.seed_path(vm_uuid)
        tmp = Path(path + ".tmp")
        tmp.write_bytes(build_seed_iso(files))
        os.replace(tmp, path)
        return path

    def seed_path(self, vm_uuid: str) -> str:
        return str(self._root / "seeds" / f"{vm_uuid}.iso")

    def remove_seed(self, vm_uuid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            Path(self.seed_path(vm_uuid)).unlink()

    def remove(self, image_id: int) -> None:
        for candidate in (
            self._root / "staging" / f"{image_id}.part",
            *(self._root / f"{image_id}.{f.value}" for f in DiskFormat),
        ):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
