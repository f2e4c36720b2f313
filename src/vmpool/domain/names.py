"""Strict names: validated before they reach a database row, a URI or domain XML."""

from __future__ import annotations

import re

from vmpool.errors import InvalidInput

# A DNS label: safe as a libvirt domain name, a file name and in XML without escaping.
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_NAME_RE = re.compile(NAME_PATTERN)
MAX_NAME_LENGTH = 63


def is_valid_name(name: str) -> bool:
    return bool(_NAME_RE.fullmatch(name))


def validate_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not is_valid_name(name):
        shown = name if isinstance(name, str) and len(name) <= 80 else f"{str(name)[:80]}..."
        raise InvalidInput(
            f"invalid {what} {shown!r}: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
            field=what,
            pattern=NAME_PATTERN,
        )
    return name


# A host trait: discovered (kvm, tpm, ...) or set by an operator (gpu:a100).
TRAIT_PATTERN = r"^[a-z0-9][a-z0-9_.:-]{0,62}$"
_TRAIT_RE = re.compile(TRAIT_PATTERN)


def validate_trait(trait: str) -> str:
    if not _TRAIT_RE.fullmatch(trait):
        raise InvalidInput(
            f"invalid trait {trait[:70]!r}: lowercase letters, digits and _.:- (e.g. gpu:a100)",
            field="traits",
        )
    return trait


# An absolute folder path without . or .. components, safe in domain and pool XML.
FOLDER_PATTERN = (
    r"^(/([A-Za-z0-9_-][A-Za-z0-9._-]*|\.[A-Za-z0-9_-][A-Za-z0-9._-]*|\.\.[A-Za-z0-9._-]+))+$"
)
_FOLDER_RE = re.compile(FOLDER_PATTERN)
MAX_FOLDER_LENGTH = 255


def validate_folder(path: str, field: str) -> str:
    if len(path) > MAX_FOLDER_LENGTH or not _FOLDER_RE.fullmatch(path):
        raise InvalidInput(f"{field} must be an absolute folder path", field=field)
    return path
