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
#   vmpool.disk_pattern=vdb[,vdc...]
#                        when the disk appears (at boot or hot-plugged), write the
#                        pattern "VMPOOL-PATTERN-<disk>" over its first MiB once and
#                        print "VMPOOL-DISK-WRITTEN <disk>"
#
# With virtio disks present it also prints, every two seconds,
#   "VMPOOL-DISKS <disk>:<size in 512-byte sectors>:<md5 of its first MiB> ..."
# where <disk> is the disk's serial (vmpool's name for it) or else the guest's.
# read with the page cache dropped, so what is on the disk now (after a migration or
# a resize), not what the guest remembers.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

exec </dev/null >/dev/ttyS0 2>&1

# virtio (PCI) and virtio-blk are modules in Debian's kernel.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    [ -f "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko" 2>/dev/null
done

dirty_mib=0
burn_cpu=0
disk_pattern=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        vmpool.dirty_mib=*) dirty_mib="${arg#vmpool.dirty_mib=}" ;;
        vmpool.burn_cpu=*) burn_cpu="${arg#vmpool.burn_cpu=}" ;;
        vmpool.disk_pattern=*) disk_pattern=$(echo "${arg#vmpool.disk_pattern=}" | tr ',' ' ') ;;
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

# A disk's name is its serial (vmpool sets it to the disk's target, e.g. vdb): the guest
# names virtio disks in the order it finds them, which is not the host's order.
disk_name() {
    s=$(cat "/sys/block/$1/serial" 2>/dev/null)
    echo "${s:-$1}"
}

write_patterns() {
    for b in /sys/block/vd*; do
        [ -e "$b" ] || continue
        dev=${b##*/}
        d=$(disk_name "$dev")
        case " $disk_pattern " in *" $d "*) ;; *) continue ;; esac
        [ -e "/tmp/written-$d" ] && continue
        yes "VMPOOL-PATTERN-$d" | head -c 1048576 > "/tmp/pattern-$d"
        dd if="/tmp/pattern-$d" of="/dev/$dev" bs=1048576 count=1 conv=fsync 2>/dev/null \
            && touch "/tmp/written-$d" && echo "VMPOOL-DISK-WRITTEN $d"
    done
}

report_disks() {
    line=""
    echo 3 > /proc/sys/vm/drop_caches
    for b in /sys/block/vd*; do
        [ -e "$b" ] || continue
        dev=${b##*/}
        sum=$(dd if="/dev/$dev" bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
        line="$line $(disk_name "$dev"):$(cat "$b/size"):$sum"
    done
    [ -n "$line" ] && echo "VMPOOL-DISKS$line"
}

n=0
while :; do
    n=$((n + 1))
    echo "VMPOOL-HEARTBEAT $n"
    write_patterns
    [ $((n % 2)) -eq 0 ] && report_disks
    sleep 1
done
