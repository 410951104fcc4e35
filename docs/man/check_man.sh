#!/usr/bin/env bash
# check_man.sh - fails when groff reports any warning for a man page
# (groff -man -ww -z prints them and still exits 0, so look at stderr).
# Usage: check_man.sh GROFF PAGE
set -u
groff=$1
page=$2
warnings=$("$groff" -man -ww -z "$page" 2>&1) || {
	echo "check_man: $page: expected groff to succeed, found: $warnings" >&2
	exit 1
}
if [ -n "$warnings" ]; then
	echo "check_man: $page: expected no groff warnings, found:" >&2
	echo "$warnings" >&2
	exit 1
fi
echo "check_man: $page: renders without warnings"
