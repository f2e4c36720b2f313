#!/usr/bin/env bash
# Installs vmpool, starts a two-host lab and runs the daemon on SQLite. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

export VMPOOL_DATA_DIR=${VMPOOL_DATA_DIR:-/var/lib/vmpool}
# A Linux guest boots only under TCG on nested hosts like this one; see docs/lab.md.
export VMPOOL_DOMAIN_TYPE=${VMPOOL_DOMAIN_TYPE:-qemu}
export VMPOOL_LISTEN_PORT=${VMPOOL_LISTEN_PORT:-8470}
# The lab's libvirt hosts listen on plain qemu+tcp (127.0.0.1 only); real hosts use qemu+tls or
# qemu+ssh and leave this off (docs/security.md).
export VMPOOL_ALLOW_INSECURE_TCP=${VMPOOL_ALLOW_INSECURE_TCP:-true}
vmpool=.venv/bin/vmpool

$vmpool db upgrade
$vmpool lab image   # the tiny guest; its disk image is registered in the catalog as tiny-disk
$vmpool lab up --hosts "${VMPOOL_LAB_HOSTS:-2}"
token=$($vmpool token create --role admin --name run-sh)

cat <<MSG

vmpool is starting on http://127.0.0.1:${VMPOOL_LISTEN_PORT}
  OpenAPI docs:  http://127.0.0.1:${VMPOOL_LISTEN_PORT}/docs
  admin token:   ${token}
  lab hosts:     $($vmpool lab status | awk '{print $2}' | paste -sd' ')
  try:           export TOKEN=${token}   (then see README.md, "A walk-through")

MSG
exec $vmpool serve
