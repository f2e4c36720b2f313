"""The operator CLI (`vmpool host|vm|migration|pool|plan|score|events`) against the real
daemon with lab hosts: lists, shows, creates and deletes, `--json` parsed, API errors as one
line with a non-zero exit, an unreachable daemon, profiles; a migration in a pseudo-terminal
with its progress bar, Ctrl-C and its choice; a plan and an evacuation followed line by line.
One daemon for the module (its hosts registered through the CLI)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect
import pytest
from typer.testing import CliRunner

from tests.e2e.conftest import VMPOOL, Daemon, daemon_env_in, free_port, start_daemon
from tests.integration.conftest import wipe_lab_domains
from vmpool.cli import app
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab


@dataclass
class Cli:
    daemon: Daemon
    home: Path
    lab: list[LabHost]
    image: str

    def env(self, **extra: str | None) -> dict[str, str | None]:
        """The CLI's environment: the daemon's URL and token, a HOME without a config file,
        and none of the daemon's own settings."""
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("VMPOOL_")}
        env.update(VMPOOL_URL=self.daemon.url, VMPOOL_TOKEN=self.daemon.token,
                   HOME=str(self.home), XDG_CONFIG_HOME=None, COLUMNS=None)  # fmt: skip
        env.update(extra)
        return env

    def run(self, *args: str, code: int = 0, **env: str | None) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env(**env))
        assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def api(self, path: str) -> Any:
        with self.daemon.client() as c:
            return c.get(path).json()


@pytest.fixture(scope="module")
def cli(
    lab: list[LabHost], tiny_image: GuestImage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cli]:
    folder = tmp_path_factory.mktemp("cli")
    daemon = start_daemon(daemon_env_in(folder), folder)
    home = folder / "home"
    home.mkdir()
    c = Cli(daemon, home, lab, tiny_image.name)
    for h in lab[:2]:
        out = c.run("host", "register", h.uri, "--name", h.name,
                    "--migration-address", h.migration_address).stdout  # fmt: skip
        assert out.startswith(f"registered host {h.name} (id "), out
    yield c
    daemon.proc.terminate()
    try:
        daemon.proc.wait(timeout=20)
    except Exception:
        daemon.proc.kill()
    wipe_lab_domains(lab)


def create(cli: Cli, name: str, host: str, *extra: str, boot: bool = False) -> dict[str, Any]:
    """A VM on `host`; one that boots the tiny guest with `boot`, else one idling in its BIOS
    (quicker to start, move and destroy, and enough where the guest plays no part)."""
    image = ("--image", cli.image) if boot else ()
    out = cli.run("vm", "create", name, "--memory-mib", "128", *image, "--host", host,
                  *extra).stdout  # fmt: skip
    assert re.match(rf"created VM {name} \(id \d+\) on {host}: running$", out.strip()), out
    vm: dict[str, Any] = cli.json("vm", "show", name)
    return vm


def test_hosts_and_vms_listed_shown_created_stopped_and_deleted(cli: Cli) -> None:
    lab1, lab2 = (h.name for h in cli.lab[:2])
    rows = cli.run("host", "list").stdout.splitlines()
    assert rows[0].split()[:4] == ["ID", "NAME", "STATE", "VMS"]
    assert [r.split()[1:3] for r in rows[2:]] == [[lab1, "up"], [lab2, "up"]]
    shown = cli.run("host", "show", lab1).stdout
    assert re.search(rf"^uri\s+{re.escape(cli.lab[0].uri)}$", shown, re.M), shown

    vm = create(cli, "cli-web", lab1, "--vcpus", "1")
    rows = cli.run("vm", "list").stdout.splitlines()
    row = next(r.split() for r in rows if "cli-web" in r)
    assert row[:6] == [str(vm["id"]), "cli-web", "running", lab1, "1", "128"]
    # a name or an id, where an operator types one
    assert re.search(r"^name\s+cli-web$", cli.run("vm", "show", str(vm["id"])).stdout, re.M)
    assert (
        cli.json("vm", "show", str(vm["id"]))["uuid"] == cli.json("vm", "show", "cli-web")["uuid"]
    )
    assert cli.run("vm", "stop", "cli-web").stdout.strip() == "cli-web: stopped"
    assert cli.run("vm", "list", "--state", "stopped").stdout.count("cli-web") == 1
    assert cli.run("vm", "start", str(vm["id"])).stdout.strip() == "cli-web: running"
    assert "cli-web" in cli.run("vm", "list", "--host", lab1).stdout
    assert "cli-web" not in cli.run("vm", "list", "--host", lab2).stdout

    pools = cli.run("pool", "list").stdout
    assert re.search(r"^1\s+default\s+spread", pools, re.M), pools
    assert "allocation ratios" in cli.run("pool", "show", "default").stdout
    score = cli.run("score").stdout
    assert score.startswith("pool 1 (balance): score ") and lab1 in score
    events = cli.run("events", "--kind", "vm.create").stdout
    assert f"vm/{vm['id']}" in events

    assert cli.run("vm", "delete", "cli-web").stdout.strip() == "deleted VM cli-web"
    assert "cli-web" not in cli.run("vm", "list").stdout
    assert cli.run("vm", "list", "--host", lab1).stdout.strip() == "no VMs"


def test_json_output_is_the_apis_own(cli: Cli) -> None:
    vm = create(cli, "cli-json", cli.lab[1].name)
    assert vm == cli.api(f"/v1/vms/{vm['id']}")  # as the API writes it
    listed = cli.json("vm", "list")
    assert [v["name"] for v in listed] == [v["name"] for v in cli.api("/v1/vms")["items"]]
    hosts = cli.json("host", "list")
    assert [h["name"] for h in hosts] == [h.name for h in cli.lab[:2]]
    assert hosts[1]["vm_count"] == 1
    assert cli.json("host", "show", cli.lab[1].name)["id"] == hosts[1]["id"]
    assert cli.json("pool", "show", "1")["name"] == "default"
    assert cli.json("score")["pool_id"] == 1
    events = cli.json("events", "--subject", f"vm/{vm['id']}")
    assert "vm.create" in {e["kind"] for e in events}
    assert cli.json("plan", "list") == []
    # any route, with the same URL, token and errors
    assert json.loads(cli.run("api", "GET", f"/v1/vms/{vm['id']}").stdout)["uuid"] == vm["uuid"]
    made = json.loads(cli.run("api", "POST", "/v1/projects", '{"name": "cli-team"}').stdout)
    assert cli.api(f"/v1/projects/{made['id']}")["name"] == "cli-team"
    cli.run("api", "DELETE", f"/v1/projects/{made['id']}")
    cli.run("vm", "delete", str(vm["id"]))


def test_errors_are_one_line_on_stderr_with_a_non_zero_exit(cli: Cli, tmp_path: Path) -> None:
    def error(*args: str, code: int = 1, **env: str | None) -> str:
        result = cli.run(*args, code=code, **env)
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        return str(result.stderr.strip())

    assert error("vm", "show", "nope") == "vmpool: no VM named 'nope'"
    assert error("vm", "show", "999999") == "vmpool: vm 999999 does not exist (404 not_found)"
    assert error("host", "show", "99") == "vmpool: host 99 does not exist (404 not_found)"
    assert error("api", "GET", "/v1/vms/999999") == (
        "vmpool: vm 999999 does not exist (404 not_found)"
    )
    create(cli, "cli-dup", cli.lab[0].name)
    assert re.fullmatch(
        r"vmpool: .*cli-dup.* \(409 already_exists\)",
        error("vm", "create", "cli-dup", "--memory-mib", "128"),
    )
    assert error("host", "delete", cli.lab[0].name).endswith("(409 invalid_state)")
    assert error("vm", "create", "cli-huge", "--memory-mib", "4000000").endswith(
        "(409 no_capacity)"
    )
    assert error("vm", "create", "Bad_Name") == (
        "vmpool: the request is invalid: name: String should match pattern "
        "'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' (422 invalid_input)"
    )
    assert error("vm", "list", VMPOOL_TOKEN="vmp_wrong") == (
        "vmpool: invalid token (401 unauthorized); the token comes from VMPOOL_URL/VMPOOL_TOKEN"
    )
    cli.run("vm", "delete", "cli-dup")

    closed = f"http://127.0.0.1:{free_port()}"
    assert error("vm", "list", code=3, VMPOOL_URL=closed) == (
        f"vmpool: cannot reach the vmpool API at {closed} (Connection refused): is the daemon "
        "running there? (the URL comes from VMPOOL_URL/VMPOOL_TOKEN)"
    )
    assert error("vm", "list", code=4, VMPOOL_URL=None, VMPOOL_TOKEN=None).startswith(
        "vmpool: no API configured: export VMPOOL_TOKEN"
    )


def test_profiles_of_the_config_file_name_the_daemon(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "vmpool"
    folder.mkdir()
    (folder / "lab.token").write_text(cli.daemon.token + "\n")
    config = folder / "cli.toml"
    config.write_text(
        f'default_profile = "lab"\n[profiles.lab]\nurl = "{cli.daemon.url}"\n'
        f'token_file = "lab.token"\n[profiles.gone]\nurl = "http://127.0.0.1:{free_port()}"\n'
        f'token = "vmp_x"\n'
    )
    config.chmod(0o600)
    no_env = {"VMPOOL_URL": None, "VMPOOL_TOKEN": None, "XDG_CONFIG_HOME": str(tmp_path)}
    assert "default" in cli.run("pool", "list", **no_env).stdout  # the default profile
    assert cli.run("pool", "list", "--profile", "gone", code=3, **no_env).stderr.startswith(
        "vmpool: cannot reach the vmpool API at http://127.0.0.1:"
    )
    # an explicit profile wins over the environment; VMPOOL_PROFILE names one too
    assert cli.run("pool", "list", "--profile", "lab", VMPOOL_TOKEN="vmp_wrong",
                   XDG_CONFIG_HOME=str(tmp_path)).exit_code == 0  # fmt: skip
    assert cli.run("pool", "list", code=3, VMPOOL_PROFILE="gone", **no_env).exit_code == 3
    config.chmod(0o644)
    warned = cli.run("pool", "list", "--profile", "gone", code=3, **no_env).stderr
    assert "holds tokens and others may read it" in warned


@contextlib.contextmanager
def spawn(cli: Cli, *args: str) -> Iterator[pexpect.spawn]:
    """The CLI as its own process, in a pseudo-terminal of 160 columns (killed if the test
    fails before it ends)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMPOOL_")}
    env.update({k: v for k, v in cli.env(TERM="xterm-256color").items() if v is not None})
    for k, v in cli.env().items():
        if v is None:
            env.pop(k, None)
    # (a test run started in the background ignores SIGINT, and would pass that on)
    child = pexpect.spawn(
        VMPOOL, list(args), env=env, dimensions=(30, 160), timeout=60, encoding="utf-8",
        codec_errors="replace", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        yield child
    finally:
        child.close(force=True)


def test_vm_migrate_in_a_terminal_draws_a_progress_bar_and_ends_with_downtime_and_duration(
    cli: Cli,
) -> None:
    lab1, lab2 = (h.name for h in cli.lab[:2])
    vm = create(cli, "cli-mover", lab1, boot=True)  # its memory is worth copying

    # Ctrl-C while it copies: cancel it; the VM stays on its source.
    with spawn(cli, "vm", "migrate", "cli-mover", "--to", lab2, "--bandwidth-mib-s", "1") as child:
        child.expect("processed")  # the bar is fed by the migration's progress
        child.sendintr()
        child.expect(r"choice \[c/s/w\]")
        child.sendline("c")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130, child.before
        assert re.search(r"migration \d+ cancelled: cli-mover stays on " + lab1, child.before)
    assert cli.json("vm", "show", "cli-mover")["host_name"] == lab1

    # Then to its end: the bar, and the summary with the downtime and the total time.
    with spawn(cli, "vm", "migrate", "cli-mover", "--to", lab2, "--bandwidth-mib-s", "48") as child:
        child.expect(r"cli-mover moved \S+ → \S+: downtime (\d+) ms, total ([\d.]+ s|\d+ ms)")
        summary, drawn = child.after, child.before
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, drawn
    assert "━" in drawn and re.search(r"\d+%", drawn), drawn  # rich's bar, and its percentage
    assert "processed" in drawn and "remaining" in drawn and "pass" in drawn
    assert "\x1b[2K" in drawn  # redrawn in place: a live display, not lines
    assert f"{lab1} → {lab2}" in summary
    assert cli.json("vm", "show", str(vm["id"]))["host_name"] == lab2
    migrations = cli.json("migration", "list", "--vm", "cli-mover")
    assert [m["state"] for m in migrations] == ["cancelled", "completed"]
    cli.run("vm", "delete", "cli-mover")


def test_a_plan_step_by_step_then_an_evacuation_a_line_per_vm(cli: Cli) -> None:
    names = ("cli-pack-1", "cli-pack-2")
    for name, host in zip(names, cli.lab[:2], strict=True):
        create(cli, name, host.name)

    # One VM on each host: a consolidation plan empties one; approve --wait follows it.
    plan = cli.json("plan", "create", "--strategy", "consolidate", "--min-gain", "0")
    assert plan["state"] == "proposed" and plan["steps"], plan
    out = cli.run("plan", "approve", str(plan["id"]), "--wait").stdout
    lines = out.splitlines()
    n = len(plan["steps"])
    steps = f"{n} step" + ("s" if n > 1 else "")
    assert lines[0].startswith(f"plan {plan['id']} approved: {steps}, score ")
    for step in plan["steps"]:  # a line per step and state, the last its end
        prefix = (f"step {step['seq']}/{n} {step['vm_name']} {step['source_host']} → "
                  f"{step['target_host']} (consolidate): ")  # fmt: skip
        assert any(line.startswith(prefix + "completed: downtime") for line in lines), out
    assert re.fullmatch(rf"plan {plan['id']} completed: score .*; steps: {n} completed",
                        lines[-1]), out  # fmt: skip
    shown = cli.run("plan", "show", str(plan["id"])).stdout
    assert re.search(r"^state\s+completed$", shown, re.M), shown

    # Both VMs on one host now: its maintenance moves them to the other, a line per VM.
    full = next(h for h in cli.json("host", "list") if h["vm_count"] == 2)["name"]
    other = next(h.name for h in cli.lab[:2] if h.name != full)
    out = cli.run("host", "maintenance", "enter", full).stdout
    lines = out.splitlines()
    assert lines[0] == f"{full} is in maintenance; evacuating its VMs"
    for name in names:
        mine = [line for line in lines if line.startswith(f"{name} → {other}: ")]
        assert mine and re.match(r".*: completed: downtime \d+ ms, ", mine[-1]), out
    assert lines[-1] == f"{full}: evacuation done, 2 VMs moved, 0 remaining"
    assert cli.json("host", "show", full)["state"] == "maintenance"
    assert cli.run("host", "maintenance", "leave", full).stdout.strip() == (
        f"{full} left maintenance: up"
    )
    for name in names:
        cli.run("vm", "delete", name)
    assert [h["vm_count"] for h in cli.json("host", "list")] == [0, 0]
