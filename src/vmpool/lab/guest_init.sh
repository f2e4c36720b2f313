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
#   vmpool.disk_token=vdb[,vdc...]
#                        each boot draws a random token; when the disk appears, print
#                        "VMPOOL-DISK-FOUND <disk> <token>" for the token the disk holds
#                        (none: "-"), then write this boot's token over its first sector
#                        and print "VMPOOL-DISK-TOKEN-WRITTEN <disk> <token>"; every two
#                        seconds print "VMPOOL-DISK-TOKEN <disk> <token>" read from the disk
#                        (snapshot tests: what a revert put back)
#   ip=<client-ip>::<gw-ip>:<netmask>::<device>:off
#                        the kernel's standard static form (other fields ignored;
#                        <gw-ip> may be empty, <device> empty means eth0): init brings
#                        the device up with that address (and a default route via
#                        <gw-ip>), so the guest answers pings
#   vmpool.ping=ADDR[,ADDR...]
#                        every two seconds, ping each ADDR once and print
#                        "VMPOOL-PING <ADDR> ok" or "VMPOOL-PING <ADDR> fail"
#
# With network interfaces (virtio-net NICs), it prints at start and then every two
# seconds when something changed:
#   "VMPOOL-NICS <ifname>=<mac>[@<ipv4>/<prefix>] ..."   (all but lo; none: "VMPOOL-NICS")
# and brings every new interface up (a hot-plugged NIC shows up there).
#
# At start and every two seconds when it changed, it prints the CPUs and memory it sees:
#   "VMPOOL-SIZE cpus=<count> online=<list> mem_kib=<MemTotal>"
# after bringing online any CPU that was hot-plugged (the kernel leaves them offline).
#
# At start, and every four seconds while it has one, it prints its TPM:
#   "VMPOOL-TPM present=<0|1> dev=<tpm0,tpmrm0 or -> pcr16=<sha256 PCR 16 in hex, or ->"
# At boot, once, it extends PCR 16 (the debug PCR) with a fixed digest (TPM2_PCR_Extend
# written to /dev/tpm0): its value then tells a TPM that kept its state (a live migration
# carries it) from a fresh one (all zeros). The PCR is read from sysfs (pcr-sha256/16).
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

# virtio (PCI), virtio-blk and virtio-net (with its failover helpers) are modules in
# Debian's kernel.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk \
    failover net_failover virtio_net virtio_balloon; do
    [ -f "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko" 2>/dev/null
done

dirty_mib=0
burn_cpu=0
disk_pattern=""
disk_token=""
net_ip=""
ping_addrs=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ip=*) net_ip="${arg#ip=}" ;;
        vmpool.ping=*) ping_addrs=$(echo "${arg#vmpool.ping=}" | tr ',' ' ') ;;
        vmpool.dirty_mib=*) dirty_mib="${arg#vmpool.dirty_mib=}" ;;
        vmpool.burn_cpu=*) burn_cpu="${arg#vmpool.burn_cpu=}" ;;
        vmpool.disk_pattern=*) disk_pattern=$(echo "${arg#vmpool.disk_pattern=}" | tr ',' ' ') ;;
        vmpool.disk_token=*) disk_token=$(echo "${arg#vmpool.disk_token=}" | tr ',' ' ') ;;
    esac
done
case "$dirty_mib" in
    ''|*[!0-9]*) dirty_mib=0 ;;
esac

ip link set lo up 2>/dev/null

# ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>
setup_ip() {
    old_ifs=$IFS
    IFS=:
    # shellcheck disable=SC2086
    set -- $1
    IFS=$old_ifs
    client=$1
    gw=$3
    mask=${4:-255.255.255.0}
    dev=${6:-eth0}
    [ -n "$client" ] || return 0
    i=0
    while [ ! -e "/sys/class/net/$dev" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    ifconfig "$dev" "$client" netmask "$mask" up && touch "/tmp/nic-up-$dev"
    [ -n "$gw" ] && route add default gw "$gw" 2>/dev/null
    return 0
}
[ -n "$net_ip" ] && setup_ip "$net_ip"

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

boot_token=$(head -c 16 /dev/urandom | md5sum | cut -c1-12)

# The token on a disk's first sector ("-": none), read past the page cache.
read_token() {
    echo 3 > /proc/sys/vm/drop_caches
    t=$(dd if="/dev/$1" bs=512 count=1 2>/dev/null | head -n 1)
    case "$t" in
        VMPOOL-TOKEN-*) echo "${t#VMPOOL-TOKEN-}" ;;
        *) echo "-" ;;
    esac
}

write_tokens() {
    for b in /sys/block/vd*; do
        [ -e "$b" ] || continue
        dev=${b##*/}
        d=$(disk_name "$dev")
        case " $disk_token " in *" $d "*) ;; *) continue ;; esac
        [ -e "/tmp/token-$d" ] && continue
        echo "VMPOOL-DISK-FOUND $d $(read_token "$dev")"
        { echo "VMPOOL-TOKEN-$boot_token"; head -c 512 /dev/zero; } | head -c 512 > "/tmp/token-$d"
        dd if="/tmp/token-$d" of="/dev/$dev" bs=512 count=1 conv=fsync 2>/dev/null \
            && echo "VMPOOL-DISK-TOKEN-WRITTEN $d $boot_token"
    done
}

report_tokens() {
    for b in /sys/block/vd*; do
        [ -e "$b" ] || continue
        dev=${b##*/}
        d=$(disk_name "$dev")
        case " $disk_token " in *" $d "*) ;; *) continue ;; esac
        [ -e "/tmp/token-$d" ] && echo "VMPOOL-DISK-TOKEN $d $(read_token "$dev")"
    done
}

last_size=""
report_size() {
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        [ -f "$c/online" ] && [ "$(cat "$c/online")" = 0 ] && echo 1 > "$c/online" 2>/dev/null
    done
    online=$(cat /sys/devices/system/cpu/online)
    count=0
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        if [ -f "$c/online" ]; then
            [ "$(cat "$c/online")" = 1 ] && count=$((count + 1))
        elif [ -d "$c" ]; then
            count=$((count + 1))  # cpu0: no online switch, always on
        fi
    done
    mem=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
    line="cpus=$count online=$online mem_kib=$mem"
    if [ "$line" != "$last_size" ]; then
        echo "VMPOOL-SIZE $line"
        last_size=$line
    fi
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

last_nics="none yet"
report_nics() {
    line=""
    for d in /sys/class/net/*; do
        [ -e "$d" ] || continue
        nic=${d##*/}
        [ "$nic" = lo ] && continue
        if [ ! -e "/tmp/nic-up-$nic" ]; then
            ip link set "$nic" up 2>/dev/null && touch "/tmp/nic-up-$nic"
        fi
        addr=$(ip -4 addr show dev "$nic" 2>/dev/null | sed -n 's/.*inet \([0-9.]*\/[0-9]*\).*/\1/p' | head -n 1)
        line="$line $nic=$(cat "$d/address")${addr:+@$addr}"
    done
    if [ "$line" != "$last_nics" ]; then
        echo "VMPOOL-NICS$line"
        last_nics=$line
    fi
}

ping_peers() {
    for a in $ping_addrs; do
        if ping -c 1 -W 1 "$a" >/dev/null 2>&1; then
            echo "VMPOOL-PING $a ok"
        else
            echo "VMPOOL-PING $a fail"
        fi
    done
}

# TPM2_PCR_Extend of PCR 16, password session, one SHA-256 digest (the bytes 0x01..0x20).
tpm_extend() {
    printf '\x80\x02\x00\x00\x00\x41\x00\x00\x01\x82\x00\x00\x00\x10\x00\x00\x00\x09' > /tmp/tpm-extend
    printf '\x40\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x0b' >> /tmp/tpm-extend
    printf '\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10' >> /tmp/tpm-extend
    printf '\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20' >> /tmp/tpm-extend
    # one write() of the whole command; the response is left unread (the PCR is extended)
    dd if=/tmp/tpm-extend of=/dev/tpm0 bs=65 count=1 2>/dev/null
}

report_tpm() {
    devs=""
    for d in tpm0 tpmrm0; do
        [ -e "/dev/$d" ] && devs="${devs:+$devs,}$d"
    done
    pcr=$(cat /sys/class/tpm/tpm0/pcr-sha256/16 2>/dev/null)
    echo "VMPOOL-TPM present=$([ -n "$devs" ] && echo 1 || echo 0) dev=${devs:--} pcr16=${pcr:--}"
}

[ -e /dev/tpm0 ] && tpm_extend
report_tpm
report_nics
report_size
n=0
while :; do
    n=$((n + 1))
    echo "VMPOOL-HEARTBEAT $n"
    write_patterns
    [ -n "$disk_token" ] && write_tokens
    [ $((n % 2)) -eq 0 ] && report_disks
    [ $((n % 2)) -eq 0 ] && [ -n "$disk_token" ] && report_tokens
    [ $((n % 2)) -eq 0 ] && report_size
    [ $((n % 2)) -eq 0 ] && report_nics
    [ $((n % 2)) -eq 0 ] && [ -n "$ping_addrs" ] && ping_peers
    [ $((n % 4)) -eq 0 ] && [ -e /dev/tpm0 ] && report_tpm
    sleep 1
done
