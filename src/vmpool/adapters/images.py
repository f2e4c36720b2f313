"""Boot images kept as folders: <image_dir>/<name>/image.json naming a kernel and an initrd."""

from __future__ import annotations

import json
from pathlib import Path

from vmpool.domain.names import is_valid_name, validate_name
from vmpool.domain.ports import BootImage
from vmpool.errors import InvalidInput, NotFound


class DirectoryImageCatalog:
    def __init__(self, image_dir: Path) -> None:
        self._dir = image_dir

    def resolve(self, name: str) -> BootImage:
        validate_name(name, "image")  # also keeps '..' and '/' out of the path
        folder = self._dir / name
        meta_file = folder / "image.json"
        if not meta_file.is_file():
            raise NotFound(f"no image named {name!r}", field="image", known=self.names())
        try:
            meta = json.loads(meta_file.read_text())
            kernel = folder / str(meta["kernel"])
            initrd = folder / str(meta["initrd"])
            cmdline = str(meta.get("cmdline", "console=ttyS0"))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"image {name!r} has a broken image.json: {exc}") from exc
        for path in (kernel, initrd):
            if folder.resolve() not in path.resolve().parents or not path.is_file():
                raise InvalidInput(f"image {name!r} names a missing file {path.name}")
        return BootImage(kernel=str(kernel), initrd=str(initrd), cmdline=cmdline)

    def names(self) -> list[str]:
        if not self._dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self._dir.iterdir()
            if is_valid_name(p.name) and (p / "image.json").is_file()
        )
