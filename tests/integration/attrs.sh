#!/usr/bin/env bash
# chmod, chown, touch -d, truncate, fallocate (plain, --punch-hole,
# --zero-range), SEEK_DATA/SEEK_HOLE and extended attributes.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
mount_fs
f=$MNT/f
head -c 65536 /dev/urandom >"$f"
chmod 4751 "$f"; assert_eq "mode after chmod 4751" 4751 "$(stat -c %a "$f")"
chown 4321:8765 "$f"; assert_eq "owner after chown" 4321:8765 "$(stat -c %u:%g "$f")"
assert_eq "set-uid bit cleared by chown" 751 "$(stat -c %a "$f")"
touch -d '2010-06-07 08:09:10.111222333' "$f"
assert_eq "mtime after touch -d" "2010-06-07 08:09:10.111222333" "$(stat -c %y "$f" | cut -d' ' -f1,2)"
assert_eq "atime after touch -d" "2010-06-07 08:09:10.111222333" "$(stat -c %x "$f" | cut -d' ' -f1,2)"
cp "$f" "$WORK/ref"
truncate -s 100000 "$f"; truncate -s 100000 "$WORK/ref"
cmp "$f" "$WORK/ref" || fail "contents after growing truncate differ from the reference"
truncate -s 1000 "$f"; truncate -s 1000 "$WORK/ref"
assert_eq "size after truncate -s 1000" 1000 "$(stat -c %s "$f")"
truncate -s 8192 "$f"; truncate -s 8192 "$WORK/ref"
cmp "$f" "$WORK/ref" || fail "bytes past a shrink must read back as zero"

g=$MNT/g
head -c $((256 << 10)) /dev/urandom >"$g"; cp "$g" "$WORK/g"
fallocate -l $((1 << 20)) "$g"
assert_eq "size after fallocate -l 1M" $((1 << 20)) "$(stat -c %s "$g")"
truncate -s $((1 << 20)) "$WORK/g"
cmp "$g" "$WORK/g" || fail "fallocate changed existing data or left non-zero bytes"
fallocate --punch-hole -o 4096 -l 65536 "$g"
dd if=/dev/zero of="$WORK/g" bs=4096 seek=1 count=16 conv=notrunc status=none
cmp "$g" "$WORK/g" || fail "punched range does not read back as zeros"
assert_eq "size after punch-hole (keeps size)" $((1 << 20)) "$(stat -c %s "$g")"
fallocate --zero-range -o 100000 -l 5000 "$g"
dd if=/dev/zero of="$WORK/g" bs=1 seek=100000 count=5000 conv=notrunc status=none
cmp "$g" "$WORK/g" || fail "zero-range does not read back as zeros"
fallocate --zero-range -o $((1 << 20)) -l 4096 "$g"
assert_eq "size after zero-range past EOF" $(((1 << 20) + 4096)) "$(stat -c %s "$g")"
h=$MNT/h
truncate -s $((1 << 20)) "$h"
echo data | dd of="$h" bs=4096 seek=100 conv=notrunc status=none
assert_eq "SEEK_DATA from 0 in a sparse file" $((100 * 4096)) "$("$HELPER_DIR/seek_probe" "$h" 0 data)"
assert_eq "SEEK_HOLE after the data" $((101 * 4096)) "$("$HELPER_DIR/seek_probe" "$h" $((100 * 4096)) hole)"
assert_eq "SEEK_DATA past the last data" ENXIO "$("$HELPER_DIR/seek_probe" "$h" $((102 * 4096)) data)"

setfattr -n user.colour -v blue "$f" || fail "setfattr user.colour failed"
setfattr -n user.empty "$f" || fail "setfattr of an empty value failed"
setfattr -n trusted.secret -v 0x00ff00 "$f" || fail "setfattr trusted.secret failed"
assert_eq "getfattr user.colour" 'user.colour="blue"' "$(getfattr -n user.colour "$f" 2>/dev/null | grep '^user')"
assert_eq "getfattr trusted.secret (hex)" 'trusted.secret=0x00ff00' "$(getfattr -e hex -n trusted.secret "$f" 2>/dev/null | grep '^trusted')"
assert_eq "listed xattrs" "trusted.secret user.colour user.empty" \
	"$(getfattr -m - -d "$f" 2>/dev/null | grep = | cut -d= -f1 | LC_ALL=C sort | xargs)"
setfattr -x user.colour "$f" || fail "setfattr -x failed"
getfattr -n user.colour "$f" >/dev/null 2>&1 && fail "user.colour still readable after removal"
before=$(stat_tree "$MNT"); xattrs=$(getfattr -m - -d -e hex "$f" 2>/dev/null)
unmount_fs
mount_fs
assert_eq "metadata after remount" "$before" "$(stat_tree "$MNT")"
assert_eq "xattrs after remount" "$xattrs" "$(getfattr -m - -d -e hex "$f" 2>/dev/null)"
unmount_fs
fsck_clean
