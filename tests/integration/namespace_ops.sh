#!/usr/bin/env bash
# mv across directories, ln and ln -s, as seen through the kernel and after
# a remount.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
mount_fs
mkdir -p "$MNT/x/y" "$MNT/z"
echo hello >"$MNT/x/y/file"
mv "$MNT/x/y/file" "$MNT/z/moved" || fail "mv across directories failed"
[ ! -e "$MNT/x/y/file" ] || fail "after mv the old name still exists"
assert_eq "moved contents" hello "$(cat "$MNT/z/moved")"
mv "$MNT/x/y" "$MNT/z/y2" || fail "mv of a directory failed"
assert_eq "nlink of x after moving its subdirectory out" 2 "$(stat -c %h "$MNT/x")"
assert_eq "nlink of z with one subdirectory" 3 "$(stat -c %h "$MNT/z")"
assert_eq ".. of the moved directory" "$(stat -c %i "$MNT/z")" "$(stat -c %i "$MNT/z/y2/..")"
ln "$MNT/z/moved" "$MNT/x/hard" || fail "ln failed"
assert_eq "nlink after ln" 2 "$(stat -c %h "$MNT/z/moved")"
ln -s ../z/moved "$MNT/x/soft" || fail "ln -s failed"
assert_eq "readlink" ../z/moved "$(readlink "$MNT/x/soft")"
assert_eq "read through the symlink" hello "$(cat "$MNT/x/soft")"
echo other >"$MNT/x/victim"
mv -f "$MNT/x/hard" "$MNT/x/victim" || fail "mv over an existing file failed"
assert_eq "contents after mv over a file" hello "$(cat "$MNT/x/victim")"
before=$(stat_tree "$MNT")
unmount_fs
mount_fs
assert_eq "tree after remount" "$before" "$(stat_tree "$MNT")"
unmount_fs
fsck_clean
