"""The NoCloud seed as an ISO 9660 image labelled `cidata`, made with pycdlib: Rock Ridge and
Joliet carry the lower-case, dashed names cloud-init looks for (plain ISO 9660 allows
neither), and each file also has an 8.3 name."""

from __future__ import annotations

import io

import pycdlib


def build_seed_iso(files: dict[str, bytes]) -> bytes:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident="cidata")
    used: set[str] = set()
    for name, data in sorted(files.items()):
        short = name.upper().replace("-", "_")[:8]
        if short in used:
            raise ValueError(f"two seed files would share the 8.3 name {short}")
        used.add(short)
        iso.add_fp(io.BytesIO(data), len(data), f"/{short}.;1", rr_name=name,
                   joliet_path=f"/{name}")  # fmt: skip
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read_seed_iso(data: bytes) -> dict[str, bytes]:
    """The files of a seed image by their Rock Ridge names (what cloud-init sees)."""
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        out: dict[str, bytes] = {}
        for child in iso.list_children(rr_path="/"):
            if child.is_dot() or child.is_dotdot():
                continue
            name = child.rock_ridge.name().decode()
            buf = io.BytesIO()
            iso.get_file_from_iso_fp(buf, rr_path=f"/{name}")
            out[name] = buf.getvalue()
        return out
    finally:
        iso.close()
