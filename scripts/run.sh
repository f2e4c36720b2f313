#!/usr/bin/env bash
# Installs vmpool, starts a two-host lab and runs the daemon on SQLite. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

export VMPOOL_DATA_DIR=${VMPOOL_DATA_DIR:-/var/lib/vmpool}
# A Linux guest boots only under TCG on nested hosts like this one; see docs/lab.md.
export VMPOOL_DOMAIN_TYPE=${VMPOOL_DOMAIN_TYPE:-qemu}
export VMPOOL_LISTEN_PORT=${VMPOOL_LISTEN_PORT:-8470}
# The lab's libvirt hosts each run in their own network namespace and are reached over their
# UNIX sockets in the lab dir: qemu+unix:///system?socket=<lab_dir>/hosts/labN/run/libvirt-sock.
# vmpool accepts socket paths under its lab_dir and under host_uri_socket_dirs (a JSON list in
# the environment); real hosts use qemu+tls or qemu+ssh (docs/security.md).
export VMPOOL_LAB_DIR=${VMPOOL_LAB_DIR:-/var/lib/vmpool-lab}
export VMPOOL_HOST_URI_SOCKET_DIRS=${VMPOOL_HOST_URI_SOCKET_DIRS:-"[\"${VMPOOL_LAB_DIR}\"]"}
vmpool=.venv/bin/vmpool

$vmpool db upgrade
$vmpool lab image   # the tiny guest; its disk image is registered in the catalog as tiny-disk
$vmpool lab up --hosts "${VMPOOL_LAB_HOSTS:-2}"
token=$($vmpool token create --role admin --name run-sh)

cat <<MSG

vmpool is starting on http://127.0.0.1:${VMPOOL_LISTEN_PORT}
  OpenAPI docs:  http://127.0.0.1:${VMPOOL_LISTEN_PORT}/docs
  admin token:   ${token}
  lab hosts:     $($vmpool lab status | awk '{print $1}' | paste -sd' ') (register them as \`vmpool lab up\` printed above)
  try:           export VMPOOL_TOKEN=${token} VMPOOL_URL=http://127.0.0.1:${VMPOOL_LISTEN_PORT}
                 (then see README.md, "A walk-through": the vmpool CLI reads these two)

MSG
exec $vmpool serve
