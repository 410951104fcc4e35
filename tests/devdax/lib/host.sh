# host.sh - sourced by run.sh: messages, and the Debian packages the runner
# needs on the host.  The same packages are in scripts/deps.sh; installing
# them here too lets the suite run on its own from a bare build.

fail() {
	echo "FAIL: devdax/$TEST: $*"
	exit 1
}

note() {
	echo "devdax/$TEST: $*"
}

skip() {
	echo "SKIP: devdax/$TEST: $*"
	exit 77
}

DEVDAX_PKGS=(qemu-system-x86 busybox-static cpio kmod ndctl daxctl)

# Installs the missing packages with apt-get, under a lock because meson
# runs the tests of the suite in parallel.
ensure_packages() {
	local missing=() p
	for p in "${DEVDAX_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		note "installing ${missing[*]}"
		mkdir -p "$CACHE"
		(
			flock 9
			export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq &&
				apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		) 9>"$CACHE/apt.lock" || note "apt-get install ${missing[*]} failed"
	fi
	command -v qemu-system-x86_64 >/dev/null ||
		skip "qemu-system-x86_64 is not installed and apt-get could not install qemu-system-x86"
	for p in busybox cpio depmod modprobe ndctl daxctl; do
		command -v "$p" >/dev/null || fail "$p is missing (packages: ${DEVDAX_PKGS[*]})"
	done
	if [ ! -x /bin/busybox ] || ! file_is_static /bin/busybox; then
		fail "/bin/busybox is not the static busybox (package busybox-static)"
	fi
}

# A static executable has no interpreter: ldd says so.
file_is_static() {
	! ldd "$1" >/dev/null 2>&1
}
