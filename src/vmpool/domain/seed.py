"""The first-boot configuration of a VM, as cloud-init's NoCloud data source reads it: the
files `meta-data`, `user-data` and (optionally) `network-config` on a volume labelled
`cidata`. vmpool writes them on an ISO 9660 image attached as the VM's CD-ROM.

SSH keys go into `meta-data` as `public-keys` (cloud-init gives them to the default user),
so that a client's `user_data` is passed on exactly as given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from vmpool.errors import InvalidInput

MAX_USER_DATA = 16 * 1024
MAX_NETWORK_CONFIG = 8 * 1024
MAX_SSH_KEYS = 16
# One public key on one line: its type, its base64 body, an optional comment (the schema
# publishes the same pattern).
SSH_KEY_PATTERN = (
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)"
    r"@openssh\.com) [A-Za-z0-9+/=]{16,4096}( [ -~]{0,256})?$"
)
_SSH_KEY = re.compile(SSH_KEY_PATTERN)


@dataclass(frozen=True)
class FirstBoot:
    user_data: str | None = None
    ssh_keys: tuple[str, ...] = field(default_factory=tuple)
    network_config: str | None = None

    @property
    def wanted(self) -> bool:
        return bool(self.user_data or self.ssh_keys or self.network_config)

    def check(self) -> None:
        _text(self.user_data, MAX_USER_DATA, "user_data")
        _text(self.network_config, MAX_NETWORK_CONFIG, "network_config")
        if len(self.ssh_keys) > MAX_SSH_KEYS:
            raise InvalidInput(f"at most {MAX_SSH_KEYS} ssh_keys", field="ssh_keys")
        for key in self.ssh_keys:
            if not _SSH_KEY.fullmatch(key):
                raise InvalidInput(
                    "an ssh key is one line: its type, its base64 body, an optional comment",
                    field="ssh_keys",
                )


def _text(value: str | None, limit: int, name: str) -> None:
    if value is None:
        return
    if len(value.encode()) > limit:
        raise InvalidInput(f"{name} is over {limit} bytes", field=name)
    if "\x00" in value:
        raise InvalidInput(f"{name} must be text", field=name)


def seed_files(vm_name: str, vm_uuid: str, boot: FirstBoot) -> dict[str, bytes]:
    """The NoCloud files. YAML is written as JSON values (JSON is YAML), so no value can
    change the document's shape."""
    meta = [f"instance-id: {json.dumps(vm_uuid)}", f"local-hostname: {json.dumps(vm_name)}"]
    if boot.ssh_keys:
        meta.append(f"public-keys: {json.dumps(list(boot.ssh_keys))}")
    files = {
        "meta-data": ("\n".join(meta) + "\n").encode(),
        "user-data": (boot.user_data if boot.user_data is not None else "#cloud-config\n").encode(),
    }
    if boot.network_config is not None:
        files["network-config"] = boot.network_config.encode()
    return files


def network_config(nics: list[tuple[str, list[str], str | None, str | None]]) -> str:
    """A cloud-init network-config (version 2) that gives each NIC, found by its MAC
    address, its addresses and default routes. JSON is YAML, so no YAML writer is needed."""
    ethernets: dict[str, object] = {}
    for i, (mac, addresses, gateway4, gateway6) in enumerate(nics):
        routes = [{"to": "default", "via": gw} for gw in (gateway4, gateway6) if gw is not None]
        entry: dict[str, object] = {"match": {"macaddress": mac}, "addresses": addresses}
        if routes:
            entry["routes"] = routes
        ethernets[f"nic{i}"] = entry
    return json.dumps({"version": 2, "ethernets": ethernets}, indent=2) + "\n"
