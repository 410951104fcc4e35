#!/usr/bin/env bash
# The direct-map ioctl spoken by hand (dmap_proto.c): refusals (magic,
# version, op, flags, access mode, foreign or released grants) and a
# fragmented file whose extent list spans two pages, every extent aligned
# and the list tiling the file; a direct mapping of that file shows the
# right bytes at every offset.
source "$(dirname "$0")/lib.sh"
require_fuse
TOOL=$HELPER_DIR/dmap_tool
setup_fs 1G
mount_fs
# two files written 2 MiB at a time in turn: each gets an extent per chunk
for i in $(seq 0 169); do
	dd if=/dev/zero of="$MNT/a" bs=2M seek=$i count=1 conv=notrunc status=none
	dd if=/dev/zero of="$MNT/b" bs=2M seek=$i count=1 conv=notrunc status=none
done
out=$("$HELPER_DIR/dmap_proto" "$MNT/a" 151) || fail "protocol checks: $out"
case "$out" in
extents=*" pages=2") ;;
*) fail "expected a two-page extent list, got '$out'" ;;
esac
"$TOOL" write "$MNT/a" 31 || fail "pwrite a"
"$TOOL" write "$MNT/b" 32 || fail "pwrite b"
out=$("$TOOL" check "$MNT/a" 31) || fail "mapping of a fragmented file: $out"
assert_eq "mapping of a fragmented file" "mode=direct is_pmem=0 len=356515840" "$out"
"$TOOL" map "$MNT/a" 0 33 >/dev/null || fail "storing through the fragmented mapping"
"$TOOL" verify "$MNT/a" 33 || fail "a: read() after direct stores"
"$TOOL" verify "$MNT/b" 32 || fail "b changed by stores into a's mapping"
# not a pmemfs ioctl target: the daemon says ENOTTY to other commands
python3 - "$MNT/a" <<'PY' || fail "an unknown ioctl was not refused with ENOTTY"
import errno, fcntl, sys
fd = open(sys.argv[1], "rb")
try:
    fcntl.ioctl(fd, 0x80045001)  # _IOR('P', 1, int)
except OSError as e:
    sys.exit(0 if e.errno == errno.ENOTTY else 1)
sys.exit(1)
PY
unmount_fs
fsck_clean
note "ok"
