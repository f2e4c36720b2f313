"""Settings: environment variables `VMPOOL_*` over a TOML file over defaults.

Nothing here connects anywhere; reading settings has no side effects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("/etc/vmpool/vmpool.toml")
CONFIG_FILE_ENV = "VMPOOL_CONFIG"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VMPOOL_", extra="forbid")

    data_dir: Path = Path("/var/lib/vmpool")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite under data_dir when unset"
    )
    database_connect_timeout_s: int = Field(
        default=3,
        ge=1,
        description="PostgreSQL: a connection attempt gives up after this long (a request "
        "then gets 503 database_unavailable)",
    )
    database_pool_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="PostgreSQL: how long a request waits for a free connection of the pool",
    )
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8470, ge=1, le=65535)
    domain_type: Literal["auto", "kvm", "qemu"] = "auto"
    image_dir: Path | None = Field(default=None, description="boot images (data_dir/images)")
    image_store_dir: Path | None = Field(
        default=None, description="the daemon's copy of catalog images (data_dir/image-store)"
    )
    max_image_bytes: int = Field(
        default=64 * 2**30, ge=1, description="the largest image an upload may bring"
    )
    serial_log_dir: Path | None = Field(
        default=None, description="guest serial logs; data_dir/serial if unset"
    )
    token_default_ttl_s: int = Field(
        default=90 * 86_400, ge=60, description="lifetime of a new API token unless given"
    )
    token_max_ttl_s: int = Field(
        default=366 * 86_400, ge=60, description="the longest lifetime a token may be given"
    )
    jwt_jwks: str | None = Field(
        default=None,
        description="OIDC/JWT bearer tokens: a JWKS file path or the provider's JWKS URL",
    )
    jwt_issuer: str | None = Field(default=None, description="the `iss` a JWT must carry")
    jwt_audience: str | None = Field(default=None, description="the `aud` a JWT must carry")
    jwt_role_claim: str = Field(default="vmpool_role", description="admin, member or reader")
    jwt_project_claim: str = Field(default="vmpool_project", description="a project's name")
    jwt_subject_claim: str = Field(default="sub", description="the actor in the audit trail")
    mac_prefix: str = Field(
        default="52:54:00",
        pattern=r"^[0-9a-f]{2}(:[0-9a-f]{2}){0,4}$",
        description="the first bytes of the MAC addresses vmpool hands out (QEMU's by default)",
    )
    sync_interval_s: float = Field(
        default=15.0, gt=0, description="the safety net: domain events bring changes at once"
    )
    sync_enabled: bool = True
    sync_workers: int = Field(
        default=32,
        ge=1,
        le=512,
        description="hosts synced at once (each waits on its host's calls meanwhile)",
    )
    host_backoff_max_s: float = Field(default=300.0, gt=0)
    stale_intent_s: float = Field(
        default=120.0,
        gt=0,
        description="age at which the sync settles a transitional state",
    )
    ha_interval_s: float = Field(
        default=5.0, gt=0, description="how often the leader fences and restarts (HA round)"
    )
    fence_after_s: float = Field(
        default=60.0,
        gt=0,
        description="a host with a fence command that has not answered this long is fenced",
    )
    fence_timeout_s: float = Field(default=60.0, gt=0, description="a fence command's deadline")
    connect_timeout_s: float = Field(default=10.0, gt=0)
    host_call_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="deadline of each libvirt call (but a migration's own); a host that "
        "misses it is marked unreachable and API calls needing it get 503 at once",
    )
    keepalive_interval_s: int = Field(default=5, ge=1, description="libvirt keepalive probes")
    keepalive_count: int = Field(
        default=3, ge=1, description="missed keepalive probes that close a connection"
    )
    allow_insecure_tcp: bool = Field(
        default=False,
        description="accept qemu+tcp:// host URIs (no encryption, no authentication): labs only",
    )
    allow_no_verify: bool = Field(
        default=False, description="accept no_verify=1 (TLS without certificate checks)"
    )
    allow_test_driver: bool = Field(
        default=False, description="accept test:///default host URIs: for tests only"
    )
    host_uri_key_dirs: list[Path] = Field(
        default=[Path("/etc/vmpool/keys"), Path("/etc/pki/libvirt")],
        description="folders that keyfile=, known_hosts= and pkipath= may name",
    )
    host_uri_socket_dirs: list[Path] = Field(
        default=[], description="folders that socket= may name (the lab folder always)"
    )
    default_local_disk_path: str = Field(
        default="/var/lib/libvirt/images/vmpool",
        description="where VM disks go on a host that sets no local_disk_path",
    )
    lease_stale_s: float = Field(
        default=15.0, gt=0, description="a daemon lease not refreshed for this long is taken over"
    )
    leader_timeout_s: float = Field(
        default=5.0,
        ge=1,
        description="PostgreSQL replicas: a leader silent this long loses "
        "its lock (idle_session_timeout) and another replica takes over",
    )
    leader_poll_s: float = Field(
        default=1.0, gt=0, description="how often a replica tries for, or checks, the lock"
    )
    metrics_enabled: bool = True
    metrics_interval_s: float = Field(default=5.0, gt=0)
    metrics_window_s: float = Field(
        default=60.0, gt=0, description="time constant of the smoothed CPU utilisation"
    )
    migration_queue_enabled: bool = True
    migration_queue_interval_s: float = Field(default=2.0, gt=0)
    migration_poll_s: float = Field(default=0.5, gt=0, description="progress sampling period")
    rebalance_enabled: bool = True
    rebalance_tick_s: float = Field(
        default=5.0,
        gt=0,
        description="how often the loop looks for pools whose rebalance interval has passed "
        "and moves running plans on; each pool's own interval is set on the pool",
    )
    reclaim_enabled: bool = Field(
        default=True, description="the reclaim job: lease warnings, expired leases, idle VMs"
    )
    reclaim_interval_s: float = Field(
        default=60.0, gt=0, description="how often the reclaim job runs (docs/lifecycle.md)"
    )
    lease_warnings_s: list[int] = Field(
        default=[86_400, 3_600],
        max_length=16,
        description="a vm.lease_expiring event this many seconds before a lease ends (each once)",
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: a line a person reads; json: one JSON object per line, for a log "
        "shipper (docs/operations.md#logs)",
    )
    register_local_host: bool = Field(
        default=False,
        description="on start, register local_host_uri as a host unless a host has that URI",
    )
    local_host_uri: str = Field(
        default="qemu:///system",
        description="the URI register_local_host registers (replicas sharing a database need "
        "one the other replicas reach too, e.g. qemu+tls://this-host/system)",
    )
    lab_dir: Path = Path("/var/lib/vmpool-lab")
    lab_base_port: int = 16510

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vmpool.db'}"

    @property
    def effective_image_dir(self) -> Path:
        return self.image_dir or self.data_dir / "images"

    @property
    def effective_image_store_dir(self) -> Path:
        return self.image_store_dir or self.data_dir / "image-store"

    @property
    def effective_serial_log_dir(self) -> Path:
        return self.serial_log_dir or self.data_dir / "serial"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)


def _config_file() -> Path | None:
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} (from {CONFIG_FILE_ENV}) does not exist")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None) -> Settings:
    """Settings from the environment and the TOML file (`--config`, else the default path)."""
    if config_file is not None:
        if not config_file.is_file():
            raise FileNotFoundError(f"config file {config_file} does not exist")
        os.environ[CONFIG_FILE_ENV] = str(config_file)
    return Settings()
