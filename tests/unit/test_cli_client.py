"""The client commands' pure parts: where the URL and token come from (environment, profiles),
how values, migrations and errors are shown, and Ctrl-C's question."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from vmpool_client.models import HostOut, MigrationOut

from vmpool.cli_client import render
from vmpool.cli_client.config import (
    DEFAULT_URL,
    CliConfig,
    ConfigError,
    config_path,
    parse_config,
    resolve,
)
from vmpool.cli_client.session import error_line
from vmpool.cli_client.watch import Display, ask

PATH = Path("/home/op/.config/vmpool/cli.toml")
TWO_PROFILES = """
default_profile = "lab"
[profiles.lab]
url = "http://127.0.0.1:8470/"
token = "vmp_lab"
[profiles.prod]
url = "https://vmpool.example.org"
token = "vmp_prod"
timeout_s = 30
verify = "/etc/ssl/ca.pem"
"""


def config(text: str = TWO_PROFILES) -> CliConfig:
    return parse_config(text, PATH)


# -- configuration -------------------------------------------------------------------------


def test_the_config_file_is_found_where_xdg_says() -> None:
    assert config_path({"HOME": "/home/op"}) == PATH
    assert config_path({"HOME": "/home/op", "XDG_CONFIG_HOME": "/cfg"}) == Path(
        "/cfg/vmpool/cli.toml"
    )
    assert config_path({"VMPOOL_CLI_CONFIG": "/etc/vmpool/cli.toml"}) == Path(
        "/etc/vmpool/cli.toml"
    )


def test_an_explicit_profile_wins_over_the_environment_and_is_used_whole() -> None:
    env = {"VMPOOL_URL": "http://elsewhere:1", "VMPOOL_TOKEN": "vmp_env"}
    t = resolve(env, "prod", config())
    assert (t.url, t.token, t.timeout_s, t.verify) == (
        "https://vmpool.example.org", "vmp_prod", 30.0, "/etc/ssl/ca.pem",
    )  # fmt: skip
    assert "profile prod" in t.source


def test_the_environment_wins_over_the_default_profile_and_is_never_mixed_with_it() -> None:
    t = resolve({"VMPOOL_TOKEN": "vmp_env"}, None, config())
    assert (t.url, t.token) == (DEFAULT_URL, "vmp_env")  # not the lab profile's URL
    t = resolve({"VMPOOL_URL": "http://h:9/", "VMPOOL_TOKEN": "vmp_env"}, None, config())
    assert (t.url, t.token, t.source) == ("http://h:9", "vmp_env", "VMPOOL_URL/VMPOOL_TOKEN")
    with pytest.raises(ConfigError, match="VMPOOL_TOKEN is not"):
        resolve({"VMPOOL_URL": "http://h:9"}, None, config())  # never the profile's token


def test_without_a_choice_the_default_profile_then_default_then_the_only_one() -> None:
    assert resolve({}, None, config()).token == "vmp_lab"
    named_default = '[profiles.default]\nurl = "http://a:1"\ntoken = "A"\n' \
                    '[profiles.other]\nurl = "http://b:1"\ntoken = "B"\n'  # fmt: skip
    assert resolve({}, None, config(named_default)).token == "A"
    assert resolve({}, None, config('[profiles.x]\nurl = "http://x:1"\ntoken = "X"')).token == "X"
    two = '[profiles.a]\nurl = "http://a:1"\ntoken = "A"\n[profiles.b]\nurl = "http://b:1"\n'
    with pytest.raises(ConfigError, match="no API configured"):
        resolve({}, None, config(two))
    with pytest.raises(ConfigError, match="no API configured"):
        resolve({"HOME": "/home/op"}, None, None)


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"no profile 'staging' .*lab, prod"):
        resolve({}, "staging", config())
    with pytest.raises(ConfigError, match="there is no config file"):
        resolve({"HOME": "/home/op"}, "lab", None)


def test_a_token_file_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "prod.token").write_text("vmp_from_file\n")
    c = parse_config('[profiles.p]\nurl = "http://p:1"\ntoken_file = "prod.token"\n',
                     tmp_path / "cli.toml")  # fmt: skip
    assert resolve({}, "p", c).token == "vmp_from_file"
    missing = parse_config('[profiles.p]\nurl = "http://p:1"\ntoken_file = "gone"\n',
                           tmp_path / "cli.toml")  # fmt: skip
    with pytest.raises(ConfigError, match="cannot read token_file"):
        resolve({}, "p", missing)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[profiles.a\n", "not valid TOML"),
        ('url = "http://a"\n', "unknown keys"),
        ('[profiles.a]\nurl = "ftp://a"\ntoken = "t"\n', "http:// or https://"),
        ('[profiles.a]\nurl = "http://a"\ntoken = "t"\ntoekn = "t"\n', "unknown keys"),
        ('[profiles.a]\nurl = "http://a"\ntoken = "t"\ntoken_file = "f"\n', "not both"),
        ('[profiles.a]\nurl = "http://a"\ntimeout_s = 0\n', "positive"),
        ('default_profile = "b"\n[profiles.a]\nurl = "http://a"\n', "not a profile"),
    ],
)
def test_a_config_file_that_is_wrong_says_where(text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        parse_config(text, PATH)


# -- values --------------------------------------------------------------------------------


def test_sizes_durations_and_ages_read_as_an_operator_expects() -> None:
    assert [render.size(n) for n in (None, 512, 1536, 50 * 2**20, 3 * 2**30)] == [
        "-", "512 B", "1.5 KiB", "50.0 MiB", "3.0 GiB",
    ]  # fmt: skip
    assert [render.mib(n) for n in (256, 1536)] == ["256 MiB", "1.5 GiB"]
    assert [render.duration_ms(ms) for ms in (None, 42, 3400, 125_000, 7_300_000)] == [
        "-", "42 ms", "3.4 s", "2 min 5 s", "2 h 1 min",
    ]  # fmt: skip
    now = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)
    assert [render.ago(now - timedelta(seconds=s), now) for s in (5, 190, 7200, 200000)] == [
        "5 s ago", "3 min ago", "2 h ago", "2 d ago",
    ]  # fmt: skip
    assert render.when(now) == "2025-01-31 12:00:00"


def migration(**changes: Any) -> MigrationOut:
    data: dict[str, Any] = {
        "id": 7, "vm_id": 3, "vm_name": "web-1", "source_host_id": 1, "source_host": "lab1",
        "target_host_id": 2, "target_host": "lab2", "state": "running", "reason": "api",
        "bandwidth_mib_s": 8, "max_downtime_ms": 500, "auto_converge": False,
        "allow_post_copy": False, "completion_timeout_s_per_gib": 800, "storage": "shared",
        "cancel_requested": False, "data_total": 128 * 2**20, "data_processed": 40 * 2**20,
        "data_remaining": 96 * 2**20, "memory_dirty_rate": 2**20, "iteration": 2,
        "current_max_downtime_ms": 500, "post_copy": False, "downtime_ms": None,
        "total_time_ms": None, "error": None, "created_at": "2025-01-31T12:00:00Z",
        "started_at": "2025-01-31T12:00:01Z", "finished_at": None,
    }  # fmt: skip
    data.update(changes)
    return MigrationOut.from_dict(data)


def test_a_migration_in_flight_shows_its_progress_and_its_end_the_downtime() -> None:
    m = migration()
    assert render.migration_route(m) == "web-1 lab1 → lab2"
    # the bar: memory in sync = total - remaining (processed may exceed the total)
    assert render.migration_copied(m) == (32 * 2**20, 128 * 2**20)
    assert render.migration_detail(m) == (
        "processed 40.0 MiB, remaining 96.0 MiB, dirty 1.0 MiB/s, pass 2"
    )
    assert render.migration_copied(migration(data_total=None)) == (0.0, None)
    done = migration(state="completed", downtime_ms=42, total_time_ms=3400, data_remaining=0)
    assert render.migration_summary(done) == (
        "web-1 moved lab1 → lab2: downtime 42 ms, total 3.4 s (migration 7)"
    )
    failed = migration(state="failed", error="timeout after 80 s")
    assert render.migration_summary(failed) == "migration 7 of web-1 failed: timeout after 80 s"
    cancelled = migration(state="cancelled")
    assert render.migration_summary(cancelled) == "migration 7 cancelled: web-1 stays on lab1"
    # a project's token sees no hosts
    assert render.migration_route(migration(source_host=None, target_host=None)) == "web-1"


def test_an_error_answer_becomes_one_line_with_its_status_and_code() -> None:
    body = b'{"error": {"code": "not_found", "message": "vm 9 does not exist", "details": {}}}'
    assert error_line(404, body) == "vm 9 does not exist (404 not_found)"
    invalid = {"error": {"code": "invalid_input", "message": "the request is invalid",
               "details": {"errors": [{"loc": ["body", "name"], "msg": "String should match "
               "pattern"}, {"loc": ["query", "limit"], "msg": "too big"}]}}}  # fmt: skip
    assert error_line(422, json.dumps(invalid).encode()) == (
        "the request is invalid: name: String should match pattern; limit: too big "
        "(422 invalid_input)"
    )
    assert error_line(502, b"<html>\n<h1>Bad Gateway</h1>") == "HTTP 502: <html>"
    assert error_line(500, b"") == "HTTP 500"


def test_piped_lines_change_only_when_the_state_does() -> None:
    buffer = io.StringIO()
    display = Display(Console(file=buffer, width=200))
    assert not display.live
    for m in (migration(state="queued", data_total=None), migration(),
              migration(data_remaining=10 * 2**20), migration(state="completed",
              downtime_ms=42, total_time_ms=3400)):  # fmt: skip
        display.migration("m", m)
    lines = buffer.getvalue().splitlines()
    assert lines == [
        "web-1 lab1 → lab2: queued",
        "web-1 lab1 → lab2: processed 40.0 MiB, remaining 96.0 MiB, dirty 1.0 MiB/s, pass 2",
        "web-1 lab1 → lab2: completed: downtime 42 ms, 3.4 s",
    ]
    quiet = io.StringIO()
    Display(Console(file=quiet), quiet=True).migration("m", migration())
    assert quiet.getvalue() == ""


def test_ctrl_c_asks_until_it_understands_and_defaults_to_stop_watching() -> None:
    console = Console(file=io.StringIO())
    answers = iter(["x", "C"])
    assert ask("migration 7", "cancel it", console, lambda _: next(answers)) == "cancel"
    assert ask("migration 7", "cancel it", console, lambda _: "") == "stop"
    assert ask("migration 7", "cancel it", console, lambda _: "w") == "watch"

    def interrupted(_: str) -> str:
        raise KeyboardInterrupt

    assert ask("migration 7", "cancel it", console, interrupted) == "stop"


def test_host_tables_show_allocation_of_capacity() -> None:
    host = HostOut.from_dict({
        "id": 1, "pool_id": 1, "name": "lab1", "uri": "qemu:///system", "state": "up",
        "host_uuid": "u", "hostname": "lab1", "arch": "x86_64", "cpus": 4, "memory_mib": 8192,
        "disk_gib": 100, "domain_types": ["qemu"], "traits": [], "operator_traits": [],
        "networks": [], "overrides": {"cpu_allocation_ratio": None, "ram_allocation_ratio": None,
        "disk_allocation_ratio": None, "reserved_vcpus": None, "reserved_memory_mib": None},
        "cpu_model": "qemu64", "libvirt_version": "9.0.0", "hypervisor_version": "7.2.0",
        "capacity": {"vcpus": 16.0, "memory_mib": 7680.0, "disk_gib": 100.0},
        "allocated": {"vcpus": 2.0, "memory_mib": 384.0, "disk_gib": 0.0}, "vm_count": 2,
        "last_seen_at": "2025-01-31T11:59:58Z", "last_error": None, "next_check_at": None,
        "migration_address": None, "peer_uri": None, "local_disk_path": None,
        "shared_disk_path": None, "maintenance_since": None, "fenced_at": None,
        "fenced_by": None, "fence_command": None, "evacuation": None, "foreign_domains": [],
        "created_at": "2025-01-31T10:00:00Z",
    })  # fmt: skip
    buffer = io.StringIO()
    now = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)
    Console(file=buffer, width=200).print(render.hosts_table([host], now))
    row = buffer.getvalue().splitlines()[2].split()
    assert row == ["1", "lab1", "up", "2", "2/16", "384", "MiB", "of", "7.5", "GiB", "0/100",
                   "2", "s", "ago"]  # fmt: skip
    assert render.evacuation_table(host) is None


def test_a_renew_duration_is_read_in_seconds_minutes_hours_or_days() -> None:
    from vmpool.cli_client.vms import parse_duration

    assert [parse_duration(t) for t in ("90", "90s", "15m", "2h", "7d")] == [
        90, 90, 900, 7200, 604_800,
    ]  # fmt: skip
    for bad in ("", "h", "0h", "-1h", "2w", "1.5h", "2 h"):
        with pytest.raises(typer.BadParameter):
            parse_duration(bad)
