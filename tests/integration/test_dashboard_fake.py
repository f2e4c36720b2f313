"""The dashboard's routes (`/ui`) on fake hosts: the page needs no token and holds no data,
its fragment needs one, shows the API's figures, and shows a project's token its own VMs
only, without hosts (docs/operations.md, "Dashboard")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_world import World, to, wait_until
from tests.support.html_tree import Element, parse
from vmpool.api.app import create_app
from vmpool.api.ui_format import gib, mib, number
from vmpool.services import maintenance, metrics, migrations, projects, rebalance, sync, vms
from vmpool.services.tokens import Role, create_token

FRAGMENT = "/ui/fragments/dashboard"


@dataclass
class Api:
    world: World
    client: TestClient
    admin: str

    def get(self, path: str, token: str | None = None, **params: object) -> object:
        r = self.client.get(path, headers=auth(token or self.admin), params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def fragment(self, token: str | None = None) -> Element:
        r = self.client.get(FRAGMENT, headers=auth(token or self.admin))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-store"
        return parse(r.text)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(world: World) -> Iterator[Api]:
    client = TestClient(create_app(world.ctx), raise_server_exceptions=False)
    yield Api(world, client, create_token(world.ctx, Role.ADMIN, "ops"))
    client.close()


def test_the_page_needs_no_token_and_holds_no_data(api: Api) -> None:
    api.world.add_host("host-alpha")
    api.world.create("secret-vm", "host-alpha")
    r = api.client.get("/ui")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'none'" in csp and "unsafe-inline" not in csp
    assert "set-cookie" not in r.headers
    assert "host-alpha" not in r.text and "secret-vm" not in r.text
    page = parse(r.text)
    form = page.find("form", id="login")
    # No name on the token's input and no action: a submission without the script would
    # carry nothing (the token never reaches a URL).
    token_input = form.find("input", id="token")
    assert token_input.get("name") is None and token_input["type"] == "password"
    assert form.get("action") is None
    assert all(s.get("src") for s in page.find_all("script"))  # no inline script

    js = api.client.get("/ui/static/dashboard.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "sessionStorage" in js.text and "Authorization" in js.text
    assert api.client.get("/ui/static/dashboard.css").status_code == 200
    assert api.client.get("/ui/static/nothing.js").status_code == 404
    assert api.client.get("/ui/static/..%2Fui_format.py").status_code == 404


def test_the_fragment_needs_a_valid_token(api: Api) -> None:
    for headers in ({}, auth("vmp_not-a-token"), {"Authorization": "Basic eDp5"}):
        r = api.client.get(FRAGMENT, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
    # A cookie is no token: the page sets none and the fragment reads none.
    api.client.cookies.set("token", api.admin)
    assert api.client.get(FRAGMENT).status_code == 401


def _cells(row: Element) -> dict[str, Element]:
    return {c["data-field"]: c for c in row.find_all("td", data_field=True)}


def test_an_admin_sees_the_api_figures_of_every_host(api: Api) -> None:
    w = api.world
    a_id, a = w.add_host("host-a", cpus=8, memory_mib=16384, disk_gib=200)
    b_id, _ = w.add_host("host-b", cpus=4, memory_mib=8192, disk_gib=100)
    c_id, _ = w.add_host("host-c")
    d_id, d = w.add_host("host-d")
    mover = w.create("mover", "host-a", vcpus=2, memory_mib=1536)
    w.create("web-1", "host-a", memory_mib=256, disk_gib=3, image=None, disk_storage="local")
    w.create("web-2", "host-b", vcpus=3, memory_mib=2048)
    w.create("lost-1", "host-d")
    maintenance.enter_maintenance(w.ctx, c_id, "ops")
    d.unreachable = True
    sync.sync_all(w.ctx, base_interval_s=0.0, max_backoff_s=0.0)
    metrics.sample_all(w.ctx, w.ctx.metrics_window_s)
    metrics.sample_all(w.ctx, w.ctx.metrics_window_s)  # two samples: a utilisation
    plan = rebalance.create_plan(w.ctx, 1, rebalance.PlanRequest(), False, "ops")
    a.hold_migrations()
    moving = migrations.request_migration(w.ctx, mover.id, to(b_id))
    a.wait_for_migration(mover.uuid)
    wait_until(lambda: w.migration(moving.id).data_processed is not None, "progress")

    page = api.fragment()

    # Utilisation per host: the figures of GET /v1/hosts/{id} and its measured load.
    for host_id in (a_id, b_id, c_id, d_id):
        host = api.get(f"/v1/hosts/{host_id}")
        assert isinstance(host, dict)
        row = page.find("tr", data_host=host["name"], data_host_id=str(host_id))
        cells = _cells(row)
        assert cells["vm_count"].text() == str(host["vm_count"])
        for field, fmt in (("vcpus", number), ("memory_mib", mib), ("disk_gib", gib)):
            used, capacity = host["allocated"][field], host["capacity"][field]
            cell = cells[field]
            assert float(cell["data-used"]) == used and float(cell["data-capacity"]) == capacity
            meter = cell.find("meter")
            assert float(meter["value"]) == used and float(meter["max"]) == capacity
            assert (
                cell.find("span", **{"class": "figure"}).text() == f"{fmt(used)} / {fmt(capacity)}"
            )
        load = api.get(f"/v1/hosts/{host_id}/metrics")
        assert isinstance(load, dict)
        if load["cpu_usage_avg"] is None:
            assert cells["cpu_load"].text() == "not sampled yet"
        else:
            assert float(cells["cpu_load"]["data-used"]) == load["cpu_usage_avg"]
            assert cells["cpu_load"].text() == f"{round(100 * load['cpu_usage_avg'])}%"
    a_cells = _cells(page.find("tr", data_host="host-a"))
    assert a_cells["vcpus"].find("span", **{"class": "figure"}).text() == "3 / 32"
    assert "1.8 GiB / 15.5 GiB" in a_cells["memory_mib"].text()

    # VMs per host, as GET /v1/vms?host_id= lists them.
    for host_id in (a_id, b_id, d_id):
        listed = api.get("/v1/vms", host_id=host_id)
        assert isinstance(listed, dict)
        card = page.find("div", **{"class": "host"}, data_host=api_name(api, host_id))
        shown = [li["data-vm"] for li in card.find_all("li", data_vm=True)]
        assert shown == [v["name"] for v in listed["items"]]

    incoming = page.find("div", **{"class": "host"}, data_host="host-b").find_all(
        "li", data_incoming=True
    )
    assert [li["data-incoming"] for li in incoming] == ["mover"]

    # Hosts that need attention: maintenance and unreachable, not the up ones.
    attention = page.find("section", id="attention")
    states = {r["data-host"]: r["data-state"] for r in attention.find_all("tr", data_host=True)}
    assert states == {"host-c": "maintenance", "host-d": "unreachable"}

    # The migration in flight with its progress, as GET /v1/migrations/{id} gives it.
    m = api.get(f"/v1/migrations/{moving.id}")
    assert isinstance(m, dict) and m["state"] == "running"
    row = page.find("section", id="migrations").find("tr", data_migration=str(moving.id))
    progress = row.find("progress")
    assert int(progress["max"]) == m["data_total"]
    assert int(progress["value"]) == m["data_processed"]
    assert "mover" in row.text() and "host-a → host-b" in row.text()
    assert f"{round(100 * m['data_processed'] / m['data_total'])}%" in row.text()
    assert page.find("p", data_count="migrations").text() == "1"

    # The latest plan with its scores, and the pool score now.
    plans = api.get("/v1/pools/1/plans")
    assert isinstance(plans, dict) and plans["items"][0]["id"] == plan.id
    shown_plan = page.find("tr", data_plan=str(plan.id))
    before = shown_plan.find("td", data_field="score_before")
    after = shown_plan.find("td", data_field="score_after")
    assert float(before["data-value"]) == plans["items"][0]["score_before"]
    assert float(after["data-value"]) == plans["items"][0]["score_after"]
    assert before.text() == f"{plans['items'][0]['score_before']:.4f}"
    score = api.get("/v1/pools/1/score")
    assert isinstance(score, dict)
    tile = page.find("div", data_pool="default").find("p", data_score=True)
    assert float(tile["data-score"]) == pytest.approx(score["score"], abs=1e-9)

    # The counts.
    assert page.find("p", data_count="hosts").text() == "4"
    assert page.find("p", data_count="vms").text() == "4"
    a.release_migrations()
    assert w.settled(moving.id).state == "completed"


def api_name(api: Api, host_id: int) -> str:
    host = api.get(f"/v1/hosts/{host_id}")
    assert isinstance(host, dict)
    return str(host["name"])


def test_a_project_token_sees_its_own_vms_without_hosts(api: Api) -> None:
    w = api.world
    _, a = w.add_host("host-alpha")
    b_id, _ = w.add_host("host-beta")
    team_a = projects.create_project(w.ctx, "team-a").id
    team_b = projects.create_project(w.ctx, "team-b").id
    cmd = vms.CreateVm(name="a-vm", vcpus=1, memory_mib=64, hosts=frozenset({"host-alpha"}))
    mine = vms.create_vm(w.ctx.in_project(team_a), cmd)
    vms.create_vm(w.ctx.in_project(team_b), vms.CreateVm(name="b-vm", vcpus=1, memory_mib=64))
    a.hold_migrations()
    moving = migrations.request_migration(w.ctx, mine.id, to(b_id))
    a.wait_for_migration(mine.uuid)
    reader = create_token(w.ctx, Role.READER, "reader-a", project_id=team_a)
    member_b = create_token(w.ctx, Role.MEMBER, "member-b", project_id=team_b)

    page = api.fragment(reader)
    text = page.text()
    assert [r["data-vm"] for r in page.find_all("tr", data_vm=True)] == ["a-vm"]
    assert "b-vm" not in text
    assert "host-alpha" not in text and "host-beta" not in text
    assert page.first("section", id="utilisation") is None
    assert page.first("section", id="plans") is None
    assert page.find("div", id="meta")["data-role"] == "reader"
    row = page.find("tr", data_migration=str(moving.id))
    assert "a-vm" in row.text() and "→" not in row.text()
    assert page.find("p", data_count="vms").text() == "1"

    other = api.fragment(member_b)
    assert [r["data-vm"] for r in other.find_all("tr", data_vm=True)] == ["b-vm"]
    assert other.first("tr", data_migration=str(moving.id)) is None
    a.release_migrations()
    w.settled(moving.id)


def test_what_hosts_report_is_escaped(api: Api) -> None:
    host_id, fake = api.world.add_host("host-x")
    fake.unreachable = True
    sync.sync_all(api.world.ctx, base_interval_s=0.0, max_backoff_s=0.0)
    with api.world.ctx.uow() as uow:
        uow.hosts.get(host_id).last_error = '<script>alert("x")</script><img src=x>'
        uow.commit()
    r = api.client.get(FRAGMENT, headers=auth(api.admin))
    assert r.status_code == 200
    assert "<script>" not in r.text and "<img" not in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.text
    row = parse(r.text).find("section", id="attention").find("tr", data_host="host-x")
    assert '<script>alert("x")</script>' in row.text()
