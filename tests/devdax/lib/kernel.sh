# kernel.sh - sourced by run.sh: the guest kernel.  Debian's
# linux-image-cloud-amd64 metapackage names the current kernel package;
# that package is downloaded with apt-get download and unpacked with
# dpkg-deb -x into the cache (never installed: the host kernel is not ours
# to change).  Sets KVER, KROOT (the unpacked tree) and VMLINUZ.

# The package the metapackage depends on now, or nothing without apt lists.
current_kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

unpack_kernel() {
	local pkg=$1 dir=$2 deb
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	(cd "$CACHE" && apt-get download "$pkg" >/dev/null 2>&1) ||
		fail "apt-get download $pkg failed"
	deb=$(ls -t "$CACHE/${pkg}"_*.deb | head -n 1)
	dpkg-deb -x "$deb" "$dir.tmp/root"
	# The package's postinst would run depmod; modprobe --show-depends
	# on the host needs modules.dep, so make it here.
	depmod -b "$dir.tmp/root" "${pkg#linux-image-}"
	rm -f "$deb"
	mv "$dir.tmp" "$dir"
}

ensure_kernel() {
	local pkg
	mkdir -p "$CACHE"
	exec 8>"$CACHE/kernel.lock"
	flock 8
	pkg=$(current_kernel_package)
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(current_kernel_package)
	fi
	if [ -z "$pkg" ]; then
		# Offline with no apt lists: the newest kernel already cached.
		pkg=$(ls -d "$CACHE"/linux-image-*/ 2>/dev/null | grep -v "\.tmp/$" | sort -V | tail -n 1 || true)
		pkg=$(basename "${pkg:-none}")
		[ -d "$CACHE/$pkg/root/boot" ] ||
			fail "apt-cache depends linux-image-cloud-amd64 names no kernel and none is cached in $CACHE"
	fi
	if [ ! -d "$CACHE/$pkg/root/boot" ]; then
		note "downloading and unpacking $pkg into $CACHE"
		unpack_kernel "$pkg" "$CACHE/$pkg"
	fi
	flock -u 8
	exec 8>&-
	KVER=${pkg#linux-image-}
	KROOT=$CACHE/$pkg/root
	VMLINUZ=$KROOT/boot/vmlinuz-$KVER
	[ -f "$VMLINUZ" ] || fail "no $VMLINUZ in the unpacked $pkg"
}
