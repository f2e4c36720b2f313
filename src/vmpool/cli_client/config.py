"""Where the client commands find the API: a URL and a token, from the environment or from a
profile of the CLI's config file. Pure: no network, and the only file read is the config
file (and a profile's token_file) that the caller names."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8470"
DEFAULT_TIMEOUT_S = 120.0  # a create or a delete waits for libvirt: seconds on a TCG lab host
PROFILE_KEYS = frozenset({"url", "token", "token_file", "timeout_s", "verify"})


class ConfigError(Exception):
    """The configuration does not say how to reach the API (or says it wrongly)."""


@dataclass(frozen=True)
class Profile:
    name: str
    url: str
    token: str | None = None
    token_file: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    verify: bool | str = True  # TLS: verify the server (true), not (false), or a CA file


@dataclass(frozen=True)
class CliConfig:
    path: Path
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """The API to talk to, and where that was decided (for error messages)."""

    url: str
    token: str
    source: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    verify: bool | str = True


def config_path(env: Mapping[str, str]) -> Path:
    """`VMPOOL_CLI_CONFIG`, else `$XDG_CONFIG_HOME/vmpool/cli.toml` (~/.config by default)."""
    if env.get("VMPOOL_CLI_CONFIG"):
        return Path(env["VMPOOL_CLI_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "vmpool" / "cli.toml"


def parse_config(text: str, path: Path) -> CliConfig:
    """The profiles of a config file's text:

    default_profile = "lab"        # optional
    [profiles.lab]
    url = "http://127.0.0.1:8470"
    token = "vmp_..."              # or token_file = "lab.token" (relative to this file)
    timeout_s = 120                # optional
    verify = true                  # optional: TLS verification, or a CA bundle's path
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"default_profile", "profiles"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown keys {sorted(unknown)} (profiles go in [profiles.NAME])"
        )
    raw = data.get("profiles", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: `profiles` must be a table of [profiles.NAME] tables")
    profiles = {name: _profile(name, body, path) for name, body in raw.items()}
    default = data.get("default_profile")
    if default is not None and (not isinstance(default, str) or default not in profiles):
        raise ConfigError(f"{path}: default_profile {default!r} is not a profile of the file")
    return CliConfig(path=path, profiles=profiles, default_profile=default)


def _profile(name: str, body: object, path: Path) -> Profile:
    where = f"{path}: [profiles.{name}]"
    if not isinstance(body, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(body) - PROFILE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {sorted(unknown)} (known: {sorted(PROFILE_KEYS)})"
        )
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: `url` must be an http:// or https:// URL")
    token, token_file = body.get("token"), body.get("token_file")
    if token is not None and token_file is not None:
        raise ConfigError(f"{where}: give `token` or `token_file`, not both")
    if token is not None and (not isinstance(token, str) or not token):
        raise ConfigError(f"{where}: `token` must be a non-empty string")
    if token_file is not None and not isinstance(token_file, str):
        raise ConfigError(f"{where}: `token_file` must be a path")
    timeout = body.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{where}: `timeout_s` must be a positive number")
    verify = body.get("verify", True)
    if not isinstance(verify, bool | str):
        raise ConfigError(f"{where}: `verify` must be true, false or a CA file's path")
    return Profile(
        name=name,
        url=url.rstrip("/"),
        token=token,
        token_file=(path.parent / Path(token_file).expanduser()) if token_file else None,
        timeout_s=float(timeout),
        verify=verify,
    )


def load_config(path: Path) -> CliConfig | None:
    """The config file at `path`, or None when there is none. A file that others may read
    and that holds a token is used, with a warning."""
    try:
        text = path.read_text()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    config = parse_config(text, path)
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and any(p.token for p in config.profiles.values()):
        warning = f"{path} holds tokens and others may read it: chmod 600 {path}"
        config = CliConfig(path, config.profiles, config.default_profile, (warning,))
    return config


def resolve(env: Mapping[str, str], profile: str | None, config: CliConfig | None) -> Target:
    """The API to talk to. In this order:

    1. a profile named with `--profile` (or `VMPOOL_PROFILE`): its URL and token, all of it;
    2. else `VMPOOL_URL` and `VMPOOL_TOKEN`, when either is set (the URL defaults to
       http://127.0.0.1:8470, the daemon's default port; a token is needed);
    3. else the file's `default_profile`, its profile named `default`, or its only profile.

    The environment and a profile are never mixed: a token is only ever sent to the URL it
    was configured with.
    """
    if profile:
        if config is None:
            raise ConfigError(f"no profile {profile!r}: there is no config file (looked for it "
                              f"at {config_path(env)})")  # fmt: skip
        if profile not in config.profiles:
            known = ", ".join(sorted(config.profiles)) or "none"
            raise ConfigError(f"no profile {profile!r} in {config.path} (profiles: {known})")
        return _from_profile(config.profiles[profile], config.path)
    if env.get("VMPOOL_URL") or env.get("VMPOOL_TOKEN"):
        url = (env.get("VMPOOL_URL") or DEFAULT_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"VMPOOL_URL={url!r} is not an http:// or https:// URL")
        token = env.get("VMPOOL_TOKEN")
        if not token:
            raise ConfigError("VMPOOL_URL is set but VMPOOL_TOKEN is not: export the token too")
        return Target(url=url, token=token, source="VMPOOL_URL/VMPOOL_TOKEN")
    if config is not None:
        chosen = _default_profile(config)
        if chosen is not None:
            return _from_profile(chosen, config.path)
    raise ConfigError(
        "no API configured: export VMPOOL_TOKEN (and VMPOOL_URL, default "
        f"{DEFAULT_URL}), or write a profile in {config_path(env)} (docs/operations.md, CLI)"
    )


def _default_profile(config: CliConfig) -> Profile | None:
    if config.default_profile is not None:
        return config.profiles[config.default_profile]
    if "default" in config.profiles:
        return config.profiles["default"]
    if len(config.profiles) == 1:
        return next(iter(config.profiles.values()))
    return None


def _from_profile(p: Profile, path: Path) -> Target:
    source = f"profile {p.name} of {path}"
    token = p.token
    if p.token_file is not None:
        try:
            token = p.token_file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read token_file {p.token_file}: "
                              f"{exc.strerror}") from None  # fmt: skip
    if not token:
        raise ConfigError(f"{source} has no token (set `token` or `token_file`)")
    return Target(url=p.url, token=token, source=source, timeout_s=p.timeout_s, verify=p.verify)
