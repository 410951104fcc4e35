#!/usr/bin/env bash
# sqlite3 transactions (journal and WAL modes) with integrity_check, also
# after a remount.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
mount_fs
for mode in delete wal; do
	db=$MNT/test-$mode.db
	{
		echo "PRAGMA journal_mode=$mode;"
		echo "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
		for i in $(seq 1 200); do
			echo "BEGIN; INSERT INTO t (v) VALUES (hex(randomblob(300))); INSERT INTO t (v) VALUES ('$i'); COMMIT;"
		done
		echo "BEGIN; DELETE FROM t WHERE id % 3 = 0; ROLLBACK;"
		echo "BEGIN; UPDATE t SET v = v || 'x' WHERE id % 7 = 0; COMMIT;"
	} | sqlite3 "$db" >/dev/null || fail "sqlite3 ($mode) transactions failed"
	assert_eq "integrity_check ($mode)" ok "$(sqlite3 "$db" 'PRAGMA integrity_check;')"
	assert_eq "rows ($mode)" 400 "$(sqlite3 "$db" 'SELECT count(*) FROM t;')"
done
sqlite3 "$MNT/test-wal.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
unmount_fs
mount_fs
for mode in delete wal; do
	assert_eq "integrity_check after remount ($mode)" ok "$(sqlite3 "$MNT/test-$mode.db" 'PRAGMA integrity_check;')"
	assert_eq "updated rows after remount ($mode)" 57 "$(sqlite3 "$MNT/test-$mode.db" "SELECT count(*) FROM t WHERE v LIKE '%x';")"
done
unmount_fs
fsck_clean
