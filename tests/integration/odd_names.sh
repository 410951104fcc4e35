#!/usr/bin/env bash
# Names of 255 bytes work and 256 bytes fail with ENAMETOOLONG; names with
# a newline, UTF-8 and a 0xff byte round-trip through readdir, also after
# a remount.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
mount_fs
n255=$(printf 'a%.0s' $(seq 255))
n256=$(printf 'b%.0s' $(seq 256))
echo long >"$MNT/$n255" || fail "creating a 255-byte name failed"
assert_eq "255-byte name reads back" long "$(cat "$MNT/$n255")"
mkdir "$MNT/$n255.d" 2>/dev/null && fail "mkdir of a 257-byte name succeeded"
err=$(touch "$MNT/$n256" 2>&1) && fail "creating a 256-byte name succeeded"
case "$err" in *"File name too long"*) ;; *) fail "256-byte name: expected 'File name too long', got: $err" ;; esac
mv "$MNT/$n255" "$MNT/$n256" 2>/dev/null && fail "rename to a 256-byte name succeeded"
nl_name=$'line\nbreak'
utf8_name='日本語-ñandú-ü'
ff_name=$(printf 'x\377y')
for name in "$nl_name" "$utf8_name" "$ff_name" ' lead space' '-dash' 'tab	here' '\backslash'; do
	printf '%s' "$name" >"$MNT/$name" || fail "creating '$name' failed"
done
listing() { (cd "$MNT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | od -An -c); }
expected=$(cd "$MNT" && for name in "$n255" "$nl_name" "$utf8_name" "$ff_name" ' lead space' '-dash' 'tab	here' '\backslash'; do printf './%s\0' "$name"; done | LC_ALL=C sort -z | od -An -c)
assert_eq "readdir of odd names" "$expected" "$(listing)"
assert_eq "contents of the 0xff name" "$ff_name" "$(cat "$MNT/$ff_name")"
unmount_fs
mount_fs
assert_eq "readdir of odd names after remount" "$expected" "$(listing)"
assert_eq "contents of the newline name after remount" "$nl_name" "$(cat "$MNT/$nl_name")"
unmount_fs
fsck_clean
