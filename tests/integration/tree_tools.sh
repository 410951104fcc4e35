#!/usr/bin/env bash
# ls -lR, find, du and df agree with what was written; statfs figures are
# real and move with writes and deletes.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 256M
mount_fs
df_used() { df -B1 --output=used "$MNT" | tail -1 | tr -d ' '; }
df_avail() { df -B1 --output=avail "$MNT" | tail -1 | tr -d ' '; }
df_size() { df -B1 --output=size "$MNT" | tail -1 | tr -d ' '; }
size=$(df_size)
[ "$size" -gt $((200 << 20)) ] && [ "$size" -le $((256 << 20)) ] ||
	fail "df size: expected between 200 MiB and 256 MiB for a 256 MiB device, got $size"
used0=$(df_used); avail0=$(df_avail)
for d in 1 2 3; do
	mkdir -p "$MNT/d$d/sub"
	for f in 1 2 3 4; do head -c $((d * f * 10000)) /dev/zero | tr '\0' x >"$MNT/d$d/sub/f$f"; done
done
head -c $((32 << 20)) /dev/urandom >"$MNT/big"
sync
used1=$(df_used); avail1=$(df_avail)
[ $((used1 - used0)) -ge $((32 << 20)) ] || fail "df used: expected to grow by >= 32 MiB, grew by $((used1 - used0))"
[ $((avail0 - avail1)) -ge $((32 << 20)) ] || fail "df avail: expected to shrink by >= 32 MiB, shrank by $((avail0 - avail1))"
assert_eq "find -type f count" 13 "$(find "$MNT" -type f | wc -l)"
assert_eq "find -type d count" 7 "$(find "$MNT" -type d | wc -l)"
du_kib=$(du -s -k "$MNT/big" | cut -f1)
[ "$du_kib" -ge 32768 ] && [ "$du_kib" -le 33000 ] || fail "du of a 32 MiB file: expected ~32768 KiB, got $du_kib"
assert_eq "du --apparent-size of d2" "$(( (2*1+2*2+2*3+2*4) * 10000 ))" \
	"$(find "$MNT/d2" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')"
ls -lR "$MNT" >"$WORK/ls" || fail "ls -lR failed"
assert_eq "ls -lR lists every file" 13 "$(grep -c '^-' "$WORK/ls")"
grep -q "^-.* 120000 .* f4$" "$WORK/ls" || fail "ls -lR: expected a 120000-byte f4 (d3), got: $(grep ' f4$' "$WORK/ls")"
rm "$MNT/big"
used2=$(df_used)
[ $((used1 - used2)) -ge $((32 << 20)) ] || fail "df used after rm: expected to drop by >= 32 MiB, dropped by $((used1 - used2))"
files0=$(df --output=iused "$MNT" | tail -1 | tr -d ' ')
touch "$MNT/one-more"
assert_eq "df inodes used after touch" $((files0 + 1)) "$(df --output=iused "$MNT" | tail -1 | tr -d ' ')"
unmount_fs
fsck_clean
