# initramfs.sh - sourced by run.sh: builds the guest's initramfs.
#
# Base part (built once for a set of inputs, cached in the build directory): static busybox, the
# kernel modules for the emulated NVDIMM and FUSE with their dependencies,
# ndctl and daxctl, the project's binaries, a small source tree for the tar
# test, and the guest scripts.  Boot part (per boot, boot_initrd): a
# /pm/boot.env telling the guest what to run.  Each part is a separately
# gzipped newc cpio; the kernel takes the concatenation (a plain cpio after
# a gzipped one would fail with "invalid magic").
#
# Project files keep their path relative to the build directory under /pm,
# so the binaries' $ORIGIN-relative RUNPATH finds our libpmem.so.1; system
# libraries keep their host path.

GUEST_MODULES=(nfit nd_pmem dax_pmem device_dax fuse)

# guest_path HOSTPATH: where a host file lives in the guest.
guest_path() {
	local p
	p=$(realpath -m --no-symlinks "$1")
	case "$p" in
	"$BUILD_ROOT"/*) echo "/pm/${p#"$BUILD_ROOT"/}" ;;
	*) echo "$p" ;;
	esac
}

# install_file ROOT HOSTPATH [MODE]: copies one file (symlinks followed).
install_file() {
	local dest
	dest=$1$(guest_path "$2")
	mkdir -p "$(dirname "$dest")"
	cp -L "$2" "$dest"
	[ -z "${3:-}" ] || chmod "$3" "$dest"
}

# shared_libs BINARY: the host paths of its shared libraries and loader.
# Fields are split on blanks by awk itself ([ \t] under mawk, which has no
# \s): "libx.so => /path (0x..)" and "/lib64/ld-linux-x86-64.so.2 (0x..)".
shared_libs() {
	ldd "$1" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }'
	# "not found" would leave the guest program unable to start.
	if ldd "$1" 2>/dev/null | grep -q 'not found'; then
		fail "ldd $1: $(ldd "$1" | grep 'not found' | tr '\n' ' ')"
	fi
}

# install_program ROOT HOSTPATH: the program and its shared libraries.
install_program() {
	local root=$1 prog=$2 lib
	[ -x "$prog" ] || fail "program $prog is missing (build it first)"
	install_file "$root" "$prog" 755
	for lib in $(shared_libs "$prog"); do
		[ -e "$root$(guest_path "$lib")" ] || install_file "$root" "$lib"
	done
}

# dlopen_lib SONAME: the host's 64-bit library of that soname.
dlopen_lib() {
	local path
	path=$(ldconfig -p | awk -v n="$1" '$1 == n && /x86-64/ { print $NF; exit }')
	[ -n "$path" ] || fail "no $1 on the host (ldconfig -p)"
	echo "$path"
}

install_modules() {
	local root=$1 mod path
	mkdir -p "$root/lib/modules/$KVER"
	for mod in "${GUEST_MODULES[@]}"; do
		# -C /dev/null: ndctl's modprobe.d has an "install libnvdimm"
		# rule that would hide the insmod line.
		modprobe -d "$KROOT" -S "$KVER" -C /dev/null --show-depends "$mod" |
			awk '$1 == "insmod" { print $2 }' >"$WORK/mod.list" ||
			fail "modprobe --show-depends $mod in $KROOT failed"
		[ -s "$WORK/mod.list" ] || fail "kernel $KVER has no module $mod"
		while read -r path; do
			mkdir -p "$root/$(dirname "${path#"$KROOT"}")"
			cp "$path" "$root/${path#"$KROOT"}"
		done <"$WORK/mod.list"
	done
	cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
	depmod -b "$root" "$KVER"
}

# The project's programs (and the LD_PRELOAD library, which ldd of a
# program cannot name): meson passes their paths in the environment.
PROJECT_PROGRAMS=(PMEMFS_FUSE MKFS_PMEMFS FSCK_PMEMFS FSRAND DEVDAX_MAP PLWORK DMAP_TOOL
	DMAP_PRELOAD PMEMFS_PRELOAD)

# Built only when their dependencies were found: installed when meson set
# them (the guest scripts say when one is missing).
OPTIONAL_PROGRAMS=(DMAP_PMEMOBJ)

install_project() {
	local root=$1 var
	: >"$root/pm/paths.env"
	for var in "${PROJECT_PROGRAMS[@]}"; do
		[ -n "${!var:-}" ] || fail "environment variable $var is not set (run through meson test)"
		install_program "$root" "${!var}"
		echo "$var=$(guest_path "${!var}")" >>"$root/pm/paths.env"
	done
	for var in "${OPTIONAL_PROGRAMS[@]}"; do
		[ -n "${!var:-}" ] || continue
		install_program "$root" "${!var}"
		echo "$var=$(guest_path "${!var}")" >>"$root/pm/paths.env"
	done
	[ -e "$root/pm/libpmem/libpmem.so.1" ] ||
		fail "the project binaries do not load the project's libpmem.so.1"
}

# The tar round trip's tree, about 3 MiB: nested directories of small
# headers (the ~220 files in the subdirectories of /usr/include/linux) and
# one 2 MiB binary.  Small enough for TCG, where each file is a few FUSE
# round trips of a slow guest.
install_tree() {
	local root=$1 src=/usr/include/linux
	[ -d $src ] || fail "$src is missing (package linux-libc-dev)"
	mkdir -p "$root/pm/tree/linux" "$root/pm/tree/bin"
	(cd $src && cp -a ./*/ "$root/pm/tree/linux/")
	cp /bin/busybox "$root/pm/tree/bin/"
}

make_base() {
	local root=$1/base
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,run,pm/t,usr/bin,usr/sbin}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	ln -s /proc/mounts "$root/etc/mtab"
	echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
	install_modules "$root"
	# glibc dlopens libgcc_s for pthread_cancel (libfuse's worker threads
	# at unmount); ldd cannot see that.
	install_file "$root" "$(dlopen_lib libgcc_s.so.1)"
	install_program "$root" "$(command -v ndctl)"
	install_program "$root" "$(command -v daxctl)"
	install_project "$root"
	install_tree "$root"
	echo "KVER=$KVER" >>"$root/pm/paths.env"
	cp "$HERE/guest/init" "$root/init"
	chmod 755 "$root/init"
	cp "$HERE"/guest/*.sh "$root/pm/t/"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$1/base.cpio.gz"
	[ "$KEEP" = 1 ] || rm -rf "$root"
}

# What the base part is made of: a change to any of these rebuilds it.
base_key() {
	local var
	{
		echo "$KVER"
		for var in "${PROJECT_PROGRAMS[@]}"; do
			stat -L -c '%n %s %Y' "${!var}"
		done
		for var in "${OPTIONAL_PROGRAMS[@]}"; do
			[ -z "${!var:-}" ] || stat -L -c '%n %s %Y' "${!var}"
		done
		ldd "$PMEMFS_FUSE" | awk '$1 == "libpmem.so.1" { print $3 }' | xargs stat -L -c '%n %s %Y'
		stat -L -c '%n %s %Y' /bin/busybox "$(command -v ndctl)" "$(command -v daxctl)" \
			"$HERE"/guest/* "$HERE"/lib/initramfs.sh
	} | md5sum | cut -c1-16
}

# build_initramfs WORK: $WORK/base.cpio.gz, made once per set of inputs and
# kept in the build directory: the tests of a run share it (and a lock).
# PMEMFS_DEVDAX_KEEP=1 always builds afresh, to keep the unpacked tree.
build_initramfs() {
	local cache=$BUILD_ROOT/tests/devdax/initramfs-cache key var
	for var in "${PROJECT_PROGRAMS[@]}"; do
		[ -n "${!var:-}" ] || fail "environment variable $var is not set (run through meson test)"
		[ -x "${!var}" ] || fail "program ${!var} is missing (build it first)"
	done
	if [ "$KEEP" = 1 ]; then
		make_base "$1"
		return
	fi
	mkdir -p "$cache"
	exec 7>"$cache/lock"
	flock 7
	key=$(base_key)
	if [ ! -s "$cache/base-$key.cpio.gz" ]; then
		make_base "$1"
		rm -f "$cache"/base-*.cpio.gz
		mv "$1/base.cpio.gz" "$cache/base-$key.cpio.gz"
	fi
	flock -u 7
	exec 7>&-
	ln -s "$cache/base-$key.cpio.gz" "$1/base.cpio.gz"
}

# boot_initrd OUT VAR=VALUE...: base part plus a /pm/boot.env of the values.
boot_initrd() {
	local out=$1 dir
	shift
	dir=$(mktemp -d "$WORK/boot.XXXXXX")
	mkdir -p "$dir/pm"
	printf '%s\n' "$@" >"$dir/pm/boot.env"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir.cpio.gz"
	cat "$WORK/base.cpio.gz" "$dir.cpio.gz" >"$out"
	rm -rf "$dir" "$dir.cpio.gz"
}
