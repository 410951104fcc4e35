#!/bin/sh
# abi_check.sh - our libpmem.so exports exactly PMDK's LIBPMEM_1.0 set.
#
# Usage: abi_check.sh OUR_LIBPMEM_SO [PMDK_LIBPMEM_SO]
# Compares the functions defined under symbol version LIBPMEM_1.0 in our
# library with Debian's PMDK 1.12 libpmem.so.1 (all 23 present, nothing
# extra), checks the soname, and that every other exported symbol sits in
# one of our own version nodes.  Exit 77 (skip) without the reference.
set -eu

ours=$1
ref=${2:-/usr/lib/x86_64-linux-gnu/libpmem.so.1}
if [ ! -e "$ref" ]; then
	echo "abi_check: reference $ref not installed: skipped"
	exit 77
fi

fail=0
# name@@VERSION for every defined dynamic function or object
defined() {
	nm -D --defined-only --with-symbol-versions "$1" | awk '$2 != "A" { print $3 }'
}
in_base() {
	defined "$1" | sed -n 's/@@*LIBPMEM_1\.0$//p' | sort
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
in_base "$ref" >"$tmp/ref"
in_base "$ours" >"$tmp/ours"

count=$(wc -l <"$tmp/ref")
if [ "$count" -ne 23 ]; then
	echo "abi_check: expected 23 LIBPMEM_1.0 functions in $ref, found $count"
	fail=1
fi
if ! diff -u "$tmp/ref" "$tmp/ours" >"$tmp/diff"; then
	echo "abi_check: LIBPMEM_1.0 differs (- PMDK, + ours):"
	cat "$tmp/diff"
	fail=1
fi

soname=$(objdump -p "$ours" | awk '$1 == "SONAME" { print $2 }')
if [ "$soname" != "libpmem.so.1" ]; then
	echo "abi_check: soname expected libpmem.so.1, found '$soname'"
	fail=1
fi

# Everything else must be in our own nodes, never unversioned.
stray=$(defined "$ours" | grep -v -e '@@*LIBPMEM_1\.0$' -e '@@*LIBPMEM_PMEMFS_1\.0$' \
	-e '@@*LIBPMEM_PMEMFS_TEST$' -e '@@*LIBPMEM_PMEMFS_PRIVATE$' || true)
if [ -n "$stray" ]; then
	echo "abi_check: symbols exported outside our version nodes:"
	echo "$stray"
	fail=1
fi
for ext in pmem_persist_iov pmem_map; do
	if ! defined "$ours" | grep -qx "$ext@@LIBPMEM_PMEMFS_1.0"; then
		echo "abi_check: expected $ext under LIBPMEM_PMEMFS_1.0, not found"
		fail=1
	fi
done

# libpmemfs-preload.so links these (libpmem/pmemfs_direct.h)
for priv in pmem_pmemfs_map_range pmem_pmemfs_in_window pmem_pmemfs_overlaps pmem_pmemfs_msync pmem_pmemfs_replaced pmem_unmap_with; do
	if ! defined "$ours" | grep -qx "$priv@@LIBPMEM_PMEMFS_PRIVATE"; then
		echo "abi_check: expected $priv under LIBPMEM_PMEMFS_PRIVATE, not found"
		fail=1
	fi
done

[ "$fail" -eq 0 ] && echo "abi_check: $count LIBPMEM_1.0 functions match PMDK, soname $soname"
exit "$fail"
