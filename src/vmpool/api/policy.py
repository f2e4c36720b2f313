"""Who may call what: one table, route by route, enforced by one dependency of the app
(`api.auth.authorize`) and read by the authorization matrix test.

- `PUBLIC`: no token.
- `READ`: any valid token. A project's token (member or reader) sees its own project's
  resources only (and what an admin shared): the lists are filtered in the query and
  another project's id answers 404, as if it did not exist.
- `WRITE`: an admin, or a member acting in its own project.
- `ADMIN`: admins only: hosts, pools and their policy, maintenance, plans, migrations of
  vmpool's choosing or to a chosen host, images and networks, projects and tokens.

As in Nova's default policy, a member may ask for a migration of its VM (without a target,
and only if the pool allows it: `members_may_migrate`); the service checks those two.
A route missing from the table is refused to everyone but admins, and fails the matrix test.
"""

from __future__ import annotations

import enum


class Access(enum.StrEnum):
    PUBLIC = "public"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


P, R, W, A = Access.PUBLIC, Access.READ, Access.WRITE, Access.ADMIN

POLICY: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): P,
    ("GET", "/readyz"): P,
    ("GET", "/metrics"): A,  # every host and project: admins only (docs/operations.md)
    ("GET", "/v1/events"): R,
    # the dashboard (left out of the OpenAPI document): the page and its files hold no
    # data; its content is read with a token, scoped as the API's reads are
    ("GET", "/ui"): P,
    ("GET", "/ui/static/{name}"): P,
    ("GET", "/ui/fragments/dashboard"): R,
    # hosts
    ("GET", "/v1/hosts"): A,
    ("POST", "/v1/hosts"): A,
    ("GET", "/v1/hosts/{host_id}"): A,
    ("PATCH", "/v1/hosts/{host_id}"): A,
    ("DELETE", "/v1/hosts/{host_id}"): A,
    ("POST", "/v1/hosts/{host_id}/maintenance"): A,
    ("DELETE", "/v1/hosts/{host_id}/maintenance"): A,
    ("POST", "/v1/hosts/{host_id}/fence"): A,
    ("GET", "/v1/hosts/{host_id}/metrics"): A,
    ("GET", "/v1/hosts/{host_id}/devices"): A,
    ("PATCH", "/v1/hosts/{host_id}/devices/{address}"): A,
    # images and networks: admins add them (shared, or for one project); projects read
    ("GET", "/v1/images"): R,
    ("POST", "/v1/images"): A,
    ("GET", "/v1/images/{image_id}"): R,
    ("DELETE", "/v1/images/{image_id}"): A,
    ("GET", "/v1/networks"): R,
    ("POST", "/v1/networks"): A,
    ("GET", "/v1/networks/{network_id}"): R,
    ("DELETE", "/v1/networks/{network_id}"): A,
    # migrations
    ("GET", "/v1/migrations"): R,
    ("GET", "/v1/migrations/{migration_id}"): R,
    ("POST", "/v1/migrations/{migration_id}/cancel"): A,
    # placement groups
    ("GET", "/v1/placement-groups"): R,
    ("POST", "/v1/placement-groups"): W,
    ("GET", "/v1/placement-groups/{group_id}"): R,
    ("DELETE", "/v1/placement-groups/{group_id}"): W,
    # pools, their policy, plans
    ("GET", "/v1/pools"): A,
    ("POST", "/v1/pools"): A,
    ("GET", "/v1/pools/{pool_id}"): A,
    ("PATCH", "/v1/pools/{pool_id}"): A,
    ("DELETE", "/v1/pools/{pool_id}"): A,
    ("GET", "/v1/pools/{pool_id}/capacity"): A,
    ("GET", "/v1/pools/{pool_id}/score"): A,
    ("GET", "/v1/pools/{pool_id}/plans"): A,
    ("POST", "/v1/pools/{pool_id}/plans"): A,
    ("GET", "/v1/plans/{plan_id}"): A,
    ("POST", "/v1/plans/{plan_id}/approve"): A,
    ("POST", "/v1/plans/{plan_id}/cancel"): A,
    # projects and tokens
    ("GET", "/v1/projects"): A,
    ("POST", "/v1/projects"): A,
    ("GET", "/v1/projects/{project_id}"): R,
    ("PATCH", "/v1/projects/{project_id}"): A,
    ("DELETE", "/v1/projects/{project_id}"): A,
    ("GET", "/v1/projects/{project_id}/usage"): R,
    ("GET", "/v1/tokens"): A,
    ("POST", "/v1/tokens"): A,
    ("DELETE", "/v1/tokens/{token_id}"): A,
    # VMs and their devices
    ("GET", "/v1/vms"): R,
    ("POST", "/v1/vms"): W,
    ("GET", "/v1/vms/{vm_id}"): R,
    ("DELETE", "/v1/vms/{vm_id}"): W,
    ("PATCH", "/v1/vms/{vm_id}"): W,
    ("GET", "/v1/vms/{vm_id}/metrics"): R,
    ("POST", "/v1/vms/{vm_id}/start"): W,
    ("POST", "/v1/vms/{vm_id}/shutdown"): W,
    ("POST", "/v1/vms/{vm_id}/stop"): W,
    ("POST", "/v1/vms/{vm_id}/reboot"): W,
    ("POST", "/v1/vms/{vm_id}/migrate"): W,
    ("POST", "/v1/vms/{vm_id}/lease/renew"): W,
    ("GET", "/v1/vms/{vm_id}/disks"): R,
    ("POST", "/v1/vms/{vm_id}/disks"): W,
    ("GET", "/v1/vms/{vm_id}/disks/{disk_id}"): R,
    ("PATCH", "/v1/vms/{vm_id}/disks/{disk_id}"): W,
    ("DELETE", "/v1/vms/{vm_id}/disks/{disk_id}"): W,
    ("GET", "/v1/vms/{vm_id}/snapshots"): R,
    ("POST", "/v1/vms/{vm_id}/snapshots"): W,
    ("GET", "/v1/vms/{vm_id}/snapshots/{snapshot_id}"): R,
    ("POST", "/v1/vms/{vm_id}/snapshots/{snapshot_id}/revert"): W,
    ("DELETE", "/v1/vms/{vm_id}/snapshots/{snapshot_id}"): W,
    ("GET", "/v1/vms/{vm_id}/nics"): R,
    ("POST", "/v1/vms/{vm_id}/nics"): W,
    ("GET", "/v1/vms/{vm_id}/nics/{nic_id}"): R,
    ("DELETE", "/v1/vms/{vm_id}/nics/{nic_id}"): W,
}


def access_of(method: str, path: str) -> Access:
    """The route's access; a route missing from the table is for admins only."""
    return POLICY.get((method.upper(), path), Access.ADMIN)
