#!/usr/bin/env bash
# Installs everything vmpool needs on Debian 12, as root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (the lab starts libvirt daemons and QEMU)" >&2
  exit 1
fi

packages=(
  libvirt-daemon-system qemu-system-x86 qemu-utils libvirt-dev pkg-config libvirt-clients
  postgresql python3 python3-venv python3-dev gcc curl procps util-linux iproute2
  syslinux syslinux-common mtools dosfstools socat systemd
  # vTPM (docs/hardware.md)
  swtpm swtpm-tools
  # the dashboard's browser test (tests/e2e/test_dashboard_browser.py)
  chromium chromium-driver
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -q
  # force-confold: keep a libvirt config an earlier run or an operator edited.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confold "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.vmpool-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] \
  || [ clients/python/pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  # the generated API client (clients/python) is the CLI's; both editable
  .venv/bin/pip install -q -e clients/python -e '.[dev]'
  touch "$stamp"
fi
echo "vmpool installed: $(.venv/bin/vmpool --help >/dev/null && echo .venv/bin/vmpool)"
