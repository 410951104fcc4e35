# list.sh (guest) - mkfs.pmemfs --list on a real devdax namespace: it must
# show /dev/dax0.0 with the size, alignment, namespace, region and
# persistence domain that sysfs gives.
. /pm/t/lib.sh
ensure_devdax 2097152
size=$(dev_size)
domain=$(cat /sys/bus/nd/devices/region0/persistence_domain 2>/dev/null || true)
note "sysfs: dax0.0 size $size, region0 persistence_domain '${domain}'"
out=$("$MKFS_PMEMFS" --list 2>&1) || fail "mkfs.pmemfs --list exit status $?: $out"
echo "$out" | sed 's/^/  mkfs.pmemfs --list: /'
line=$(echo "$out" | awk '$1 == "/dev/dax0.0"')
[ -n "$line" ] || die "mkfs.pmemfs --list: expected a line for /dev/dax0.0, got: $out"
pass "mkfs.pmemfs --list shows /dev/dax0.0"
set -- $line
check "--list namespace of dax0.0" namespace0.0 "$2"
check "--list region of dax0.0" region0 "$3"
check "--list size of dax0.0 (sysfs size)" "$size" "$4"
check "--list alignment of dax0.0" "align 2097152" "$5 $6"
check "--list persistence domain of dax0.0" "persistence ${domain:-unknown}" "$7 $8"
n=$(echo "$out" | grep -c '^/dev/dax')
check "--list devdax entries on a one-namespace NVDIMM" 1 "$n"
# daxctl (libdaxctl) must agree on the device's size.
dsize=$(daxctl list -d dax0.0 | tr -d ' \n' | sed -n 's/.*"size":\([0-9]*\).*/\1/p')
check "daxctl list size of dax0.0" "$size" "$dsize"
finish
