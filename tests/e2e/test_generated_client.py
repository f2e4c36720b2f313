"""The generated Python client (clients/python, issue 14) drives the real daemon, and nothing
else does: register lab hosts, create a VM, migrate it while polling its progress, read the
pool score, delete. A route or model that is awkward to call from it is fixed on the API
side (operationIds, tags, enums), so what this test reads is what a client author gets."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from vmpool_client import AuthenticatedClient
from vmpool_client.api.events import list_events
from vmpool_client.api.hosts import list_hosts, register_host
from vmpool_client.api.migrations import get_migration
from vmpool_client.api.pools import get_pool_score
from vmpool_client.api.vms import create_vm, delete_vm, get_vm, migrate_vm
from vmpool_client.models import (
    ErrorBody,
    HostCreate,
    HostOut,
    HostState,
    MigrateIn,
    MigrationOut,
    MigrationState,
    PoolScoreOut,
    VmCreate,
    VmOut,
    VmState,
)

from tests.e2e.conftest import Daemon
from tests.integration.conftest import where, wipe_lab_domains
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab

ENDED = {MigrationState.COMPLETED, MigrationState.FAILED, MigrationState.CANCELLED}


def test_the_generated_client_registers_creates_migrates_scores_and_deletes(
    daemon: Daemon, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    client = AuthenticatedClient(base_url=daemon.url, token=daemon.token, timeout=60.0)
    try:
        with client:
            hosts = []
            for h in lab[:2]:
                made = register_host.sync(
                    client=client, body=HostCreate.from_dict(h.registration())
                )
                assert isinstance(made, HostOut), made
                assert made.state is HostState.UP
                hosts.append(made)
            listed = list_hosts.sync(client=client)
            assert listed is not None and not isinstance(listed, ErrorBody)
            assert {h.name for h in listed.items} == {h.name for h in lab[:2]}

            body = VmCreate(name="client-vm", vcpus=1, memory_mib=256, image=tiny_image.name,
                            hosts=[hosts[0].name])  # fmt: skip
            vm = create_vm.sync(client=client, body=body)
            assert isinstance(vm, VmOut), vm
            assert vm.state is VmState.RUNNING and vm.host_name == hosts[0].name

            # an error answer parses as the one error body, with its code
            again = create_vm.sync_detailed(client=client, body=body)
            assert again.status_code == HTTPStatus.CONFLICT
            assert isinstance(again.parsed, ErrorBody) and again.parsed.error.code

            # slow enough that the copy is seen in progress
            order = MigrateIn(target_host_id=hosts[1].id, bandwidth_mib_s=16)
            m = migrate_vm.sync(vm.id, client=client, body=order)
            assert isinstance(m, MigrationOut), m
            seen: list[MigrationOut] = []
            deadline = time.monotonic() + 180
            while True:
                now = get_migration.sync(m.id, client=client)
                assert isinstance(now, MigrationOut), now
                seen.append(now)
                if now.state in ENDED:
                    break
                assert time.monotonic() < deadline, f"migration still {now.state}"
                time.sleep(0.3)
            assert now.state is MigrationState.COMPLETED, now.error
            assert any(s.state is MigrationState.RUNNING and (s.data_processed or 0) > 0
                       for s in seen), [(s.state, s.data_processed) for s in seen]  # fmt: skip
            assert now.downtime_ms is not None and now.total_time_ms is not None
            moved = get_vm.sync(vm.id, client=client)
            assert isinstance(moved, VmOut) and moved.host_name == hosts[1].name
            running, _ = where(lab, vm.uuid)
            assert running == [hosts[1].name]

            score = get_pool_score.sync(vm.pool_id, client=client)
            assert isinstance(score, PoolScoreOut), score
            assert {h.name for h in score.hosts} == {h.name for h in hosts}
            assert score.score >= 0

            events = list_events.sync(client=client, subject=f"migration/{m.id}")
            assert events is not None and not isinstance(events, ErrorBody)
            assert [e.kind for e in events.items].count("migration.completed") == 1

            gone = delete_vm.sync_detailed(vm.id, client=client)
            assert gone.status_code == HTTPStatus.NO_CONTENT
            assert get_vm.sync_detailed(vm.id, client=client).status_code == HTTPStatus.NOT_FOUND
            assert where(lab, vm.uuid) == ([], [])
    finally:
        wipe_lab_domains(lab)
