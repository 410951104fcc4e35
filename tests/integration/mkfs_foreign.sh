#!/usr/bin/env bash
# mkfs.pmemfs and another file system (mkfs/foreign_fs.c): an image that
# holds ext4 or a swap signature is refused without --force and left as it
# was; with --force the old signatures are erased (blkid finds nothing, as
# after wipefs, also where pmemfs writes nothing), and the result mounts,
# keeps data and checks clean.  A forced mkfs refused for another reason
# (a bad label, the image in use) erases nothing.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
blkid_type() { blkid -p -o value -s TYPE "$1" 2>/dev/null; }

refused() { # $1: what was made, $2: what the message must name
	local status=0 out
	out=$("$MKFS_PMEMFS" "$IMG" 2>&1) || status=$?
	assert_eq "mkfs.pmemfs exit status over $1" 1 "$status"
	case "$out" in
	*"mkfs.pmemfs: formatting $IMG failed: it holds $2; use --force to overwrite it"*) ;;
	*) fail "mkfs.pmemfs over $1: got: $out" ;;
	esac
}

mkfs.ext4 -qF "$IMG" || fail "mkfs.ext4 $IMG"
refused ext4 "a file system (ext4)"
assert_eq "type of the image after the refusal" ext4 "$(blkid_type "$IMG")"

mkswap "$IMG" >/dev/null 2>&1 || fail "mkswap $IMG"
refused swap "a swap signature"
assert_eq "type of the image after the refusal" swap "$(blkid_type "$IMG")"

# a forced mkfs refused for another reason leaves the old file system
mkfs.ext4 -qF "$IMG" || fail "mkfs.ext4 $IMG"
"$MKFS_PMEMFS" --force --label "$(printf 'x%.0s' $(seq 300))" "$IMG" >/dev/null 2>&1 &&
	fail "mkfs.pmemfs --force with a 300-byte label succeeded"
assert_eq "type of the image after a forced mkfs with a bad label" ext4 "$(blkid_type "$IMG")"
flock -x "$IMG" sleep 5 &
locker=$!
sleep 0.2
status=0; out=$("$MKFS_PMEMFS" --force "$IMG" 2>&1) || status=$?
wait "$locker" # mkfs gave up after 3 s; the lock goes at 5 s
assert_eq "exit status of a forced mkfs of a locked image" 1 "$status"
case "$out" in *"in use"*) ;; *) fail "forced mkfs of a locked image: got: $out" ;; esac
assert_eq "type of the image after a forced mkfs of a locked image" ext4 "$(blkid_type "$IMG")"

"$MKFS_PMEMFS" --force "$IMG" >"$WORK/mkfs.log" 2>&1 || fail "mkfs.pmemfs --force over ext4: $(cat "$WORK/mkfs.log")"
assert_eq "signatures blkid finds after mkfs --force over ext4" "" "$(blkid_type "$IMG")"

# an ISO 9660 volume descriptor at 32 KiB: a block pmemfs's mkfs does not
# write (inside the journal), so only the wipe removes it
truncate -s 0 "$IMG"
truncate -s 64M "$IMG"
printf '\001CD001\001' | dd of="$IMG" bs=1 seek=32768 conv=notrunc status=none
assert_eq "type of the made-up image" iso9660 "$(blkid_type "$IMG")"
refused iso9660 "a file system (iso9660)"
"$MKFS_PMEMFS" --force "$IMG" >"$WORK/mkfs.log" 2>&1 || fail "mkfs.pmemfs --force over iso9660: $(cat "$WORK/mkfs.log")"
assert_eq "signatures blkid finds after mkfs --force over iso9660" "" "$(blkid_type "$IMG")"
status=0; out=$("$MKFS_PMEMFS" "$IMG" 2>&1) || status=$?
case "$out" in *"already holds a pmemfs"*) ;; *) fail "mkfs.pmemfs over the new pmemfs: got: $out" ;; esac
mount_fs
echo kept >"$MNT/kept"
unmount_fs
mount_fs
assert_eq "a file after remount" kept "$(cat "$MNT/kept")"
unmount_fs
fsck_clean
