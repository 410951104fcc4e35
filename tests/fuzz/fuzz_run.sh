#!/usr/bin/env bash
# fuzz_run.sh FUZZER SECONDS REGRESSIONS_DIR SEED... - a short libFuzzer run
# for CI: starts from the seeds and the regression inputs in a scratch
# corpus, runs for SECONDS, and on a crash, leak or timeout copies the
# input into REGRESSIONS_DIR/new-<harness>-<sha1> (commit it once the bug is
# understood) and fails.  FUZZ_SECONDS overrides SECONDS (nightly).
set -euo pipefail
fuzzer=$1 secs=${FUZZ_SECONDS:-$2} regressions=$3
shift 3
name=$(basename "$fuzzer")
work=$(mktemp -d "/tmp/pmemfs-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp "$@" "$work/corpus/"
cp "$regressions"/* "$work/corpus/" 2>/dev/null || true
st=0
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=262144 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" \
	>"$work/log" 2>&1 || st=$?
grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$work/log" || true
if [ $st -ne 0 ]; then
	tail -n 60 "$work/log"
	for a in "$work"/artifacts/*; do
		[ -f "$a" ] || continue
		dest=$regressions/new-${name#fuzz_}-$(sha1sum "$a" | cut -c1-12)
		cp "$a" "$dest"
		echo "fuzz_run: $name: reproducer saved as $dest"
	done
	exit 1
fi
echo "fuzz_run: $name: no crash in ${secs}s"
