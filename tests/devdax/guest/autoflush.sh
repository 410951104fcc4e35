# autoflush.sh (guest) - pmem_has_auto_flush() follows the NVDIMM region's
# persistence domain, which qemu sets with -machine nvdimm-persistence:
# cpu gives cpu_cache (expected 1), mem-ctrl memory_controller (expected 0).
. /pm/t/lib.sh
ensure_devdax 2097152
check "region0 persistence_domain" "${DEVDAX_DOMAIN:?}" \
	"$(cat /sys/bus/nd/devices/region0/persistence_domain)"
"$DEVDAX_MAP" autoflush "${DEVDAX_AUTO_FLUSH:?}" || FAILS=$((FAILS + $?))
finish
