#!/bin/busybox sh
# /init of the vmpool lab's tiny guest (an initramfs with a static busybox).
#
# Prints "VMPOOL-GUEST-READY" once to /dev/ttyS0, then "VMPOOL-HEARTBEAT <n>"
# every second with n counting up from 1, so a reader of the serial log sees
# that the guest kept running (and did not reboot: READY appears once).
#
# Kernel command line switches:
#   vmpool.dirty_mib=N   keep rewriting N MiB of (random, non-zero) memory in a
#                        loop, for migration tests (uses about 2*N MiB of RAM);
#                        prints "VMPOOL-DIRTYING N" when the loop starts
#   vmpool.burn_cpu=1    run a busy loop (one vCPU at 100 %)

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

exec </dev/null >/dev/ttyS0 2>&1

dirty_mib=0
burn_cpu=0
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        vmpool.dirty_mib=*) dirty_mib="${arg#vmpool.dirty_mib=}" ;;
        vmpool.burn_cpu=*) burn_cpu="${arg#vmpool.burn_cpu=}" ;;
    esac
done
case "$dirty_mib" in
    ''|*[!0-9]*) dirty_mib=0 ;;
esac

echo "VMPOOL-GUEST-READY"

if [ "$dirty_mib" -gt 0 ]; then
    (
        dd if=/dev/urandom of=/tmp/vmpool-seed bs=1M count="$dirty_mib" 2>/dev/null
        echo "VMPOOL-DIRTYING $dirty_mib"
        while :; do
            dd if=/tmp/vmpool-seed of=/tmp/vmpool-dirty bs=1M conv=notrunc 2>/dev/null
        done
    ) &
fi

if [ "$burn_cpu" = "1" ]; then
    ( while :; do :; done ) &
fi

n=0
while :; do
    n=$((n + 1))
    echo "VMPOOL-HEARTBEAT $n"
    sleep 1
done
