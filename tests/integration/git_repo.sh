#!/usr/bin/env bash
# git init, add, commit and fsck on pmemfs (renames, fsync, lock files).
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
mount_fs
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
export HOME=$WORK GIT_CONFIG_NOSYSTEM=1
repo=$MNT/repo
git init -q "$repo" || fail "git init failed"
cp -r /usr/include/linux "$repo/"
git -C "$repo" add -A || fail "git add failed"
git -C "$repo" commit -q -m one || fail "git commit failed"
echo change >>"$repo/linux/fs.h"
git -C "$repo" mv linux/stat.h linux/stat-moved.h || fail "git mv failed"
git -C "$repo" commit -q -am two || fail "second commit failed"
git -C "$repo" gc -q || fail "git gc failed"
git -C "$repo" fsck --full --strict 2>"$WORK/fsck.err" || fail "git fsck: $(cat "$WORK/fsck.err")"
assert_eq "commits" 2 "$(git -C "$repo" rev-list --count HEAD)"
head=$(git -C "$repo" rev-parse HEAD)
unmount_fs
mount_fs
git -C "$repo" fsck --full --strict 2>"$WORK/fsck.err" || fail "git fsck after remount: $(cat "$WORK/fsck.err")"
assert_eq "HEAD after remount" "$head" "$(git -C "$repo" rev-parse HEAD)"
git -C "$repo" diff --quiet HEAD || fail "work tree differs from HEAD after remount"
unmount_fs
fsck_clean
