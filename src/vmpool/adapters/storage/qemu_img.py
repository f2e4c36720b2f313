"""What `qemu-img info` says about a file, read without trusting the file.

The format is pinned with `-f` whenever it is known, so qemu-img never probes a raw
file's contents; `--force-share` reads without taking the image lock; the backing chain
is not followed (no `--backing-chain`), so a backing file naming `/etc/shadow` is reported,
never opened. A timeout bounds a hostile file that makes qemu-img work hard.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from vmpool.domain.images import DiskFormat, ImageFacts
from vmpool.errors import InvalidInput, VmpoolError

TIMEOUT_S = 30.0


class QemuImgFailed(VmpoolError):
    code = "qemu_img_failed"
    status = 500


def inspect(path: Path, fmt: DiskFormat | None = None) -> ImageFacts:
    """The facts of the file at `path`; `fmt` None lets qemu-img detect the format (done
    once, at upload, and pinned from then on)."""
    cmd = ["qemu-img", "info", "--output=json", "--force-share"]
    if fmt is not None:
        cmd += ["-f", fmt.value]
    cmd.append(str(path))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise InvalidInput("the image could not be read in time", field="image") from None
    except OSError as exc:
        raise QemuImgFailed(f"qemu-img cannot run: {exc}") from exc
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no reason"
        reason = reason.replace(f"'{path}'", "the file").replace(str(path), "the file")
        raise InvalidInput(f"the file is not a readable image: {reason[:300]}", field="image")
    return facts_of(json.loads(done.stdout))


def facts_of(doc: dict[str, Any]) -> ImageFacts:
    """`qemu-img info --output=json` as ImageFacts."""
    specific = doc.get("format-specific") or {}
    data = specific.get("data") or {}
    return ImageFacts(
        format=str(doc.get("format", "")),
        virtual_size=int(doc.get("virtual-size", 0)),
        actual_size=int(doc.get("actual-size", 0)),
        backing_file=doc.get("backing-filename") or doc.get("full-backing-filename"),
        data_file=data.get("data-file"),
        encrypted=bool(doc.get("encrypted", False) or data.get("encrypt")),
    )
