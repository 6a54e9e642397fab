#!/usr/bin/env bash
# A private Wine prefix for the end-to-end tests of wsusdiagd.exe.
#
#   scripts/wine-prefix.sh PREFIX         create it (or check it), ready to use
#   scripts/wine-prefix.sh --stop PREFIX  stop that prefix's wineserver
#   scripts/wine-prefix.sh --need FILE PREFIX
#                                         the same, but only if FILE exists
#                                         (the .exe under test): else exit 77
#
# Creating: wineboot --init, reported as Windows 10 (winecfg -v win10),
# BITS's pristine service key exported to PREFIX/drive_c/wsusdiag-baseline
# (the tests restore it from there), then the wineserver is left to exit
# so the registry is on disk. A stamp records the Wine version, so a second
# run only checks (well under a second) and a Wine upgrade makes a new one.
# Exit 77 (ctest's "skipped") when Wine is not installed:
# scripts/build-windows-deps.sh installs it.
#
# Only PREFIX's own wineserver is ever stopped (WINEPREFIX=PREFIX
# wineserver -k), never other Wine sessions. tests/wine/README.md says
# why the prefix is ready when `wineserver -w` returns.
set -euo pipefail

say() { printf 'wine-prefix: %s\n' "$*"; }
die() {
	say "error: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 [--stop | --need FILE] PREFIX" >&2
	exit 2
}

stop=0 need=
case ${1:-} in
--stop)
	stop=1
	shift
	;;
--need)
	[ $# -ge 2 ] || usage
	need=$2
	shift 2
	;;
-*) usage ;;
esac
[ $# -eq 1 ] || usage
case $1 in
/*) prefix=$1 ;;
*) prefix=$PWD/$1 ;;
esac

export WINEPREFIX=$prefix WINEARCH=win64 WINEDEBUG=-all
# No .NET or Gecko installer prompts: nothing here needs them.
export WINEDLLOVERRIDES="mscoree,mshtml="

stamp=$prefix/.wsusdiag-prefix
baseline=$prefix/drive_c/wsusdiag-baseline
bits_key='HKLM\SYSTEM\CurrentControlSet\Services\BITS'

have_wine() {
	command -v wine >/dev/null && command -v wineserver >/dev/null &&
		command -v wineboot >/dev/null
}

# A server that is not running is already stopped: -k then fails, quietly.
stop_server() {
	[ -d "$prefix" ] || return 0
	wineserver -k >/dev/null 2>&1 || true
	timeout 60 wineserver -w >/dev/null 2>&1 || true
}

if [ $stop -eq 1 ]; then
	have_wine || exit 0
	stop_server
	say "stopped the wineserver of $prefix"
	exit 0
fi

# 700 MB and ten seconds are not spent for tests that will skip.
if [ -n "$need" ] && [ ! -e "$need" ]; then
	say "$need is absent: no prefix made, the Wine tests are skipped" >&2
	exit 77
fi

if ! have_wine; then
	say "Wine is not installed (scripts/build-windows-deps.sh installs" \
		"it): the Wine tests are skipped" >&2
	exit 77
fi

t0=$(date +%s%N)
elapsed() { echo $((($(date +%s%N) - t0) / 1000000)); }

want="$(wine --version 2>/dev/null) win64 win10 baseline=1"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	[ -f "$prefix/system.reg" ] && [ -f "$baseline/BITS.reg" ]; then
	say "$prefix is ready (existing; checked in $(elapsed) ms)"
	exit 0
fi

# Never delete a directory that is not a Wine prefix made here.
if [ -e "$prefix" ]; then
	if [ -n "$(ls -A "$prefix")" ] && [ ! -f "$stamp" ] &&
		[ ! -f "$prefix/system.reg" ]; then
		die "$prefix exists and is not a Wine prefix; not touching it"
	fi
	stop_server
	rm -rf "$prefix"
fi
mkdir -p "$(dirname "$prefix")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
	if ! "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		stop_server
		die "failed: $*"
	fi
}

# On a loaded machine Wine can leave a half-made prefix ("could not load
# kernel32.dll, status c0000135"), which only a new one cures: one more
# try, said.
if ! wineboot --init >>"$log" 2>&1; then
	say "wineboot --init failed; making $prefix again" >&2
	stop_server
	rm -rf "$prefix"
	run wineboot --init
fi
run wine winecfg -v win10
mkdir -p "$baseline"
run wine reg export "$bits_key" 'C:\wsusdiag-baseline\BITS.reg' /y
# Services are "system" processes: they do not keep the wineserver alive,
# so it exits (taking them along and writing the registry) about three
# seconds after winecfg. Something else still running would hang here.
if ! timeout 120 wineserver -w; then
	stop_server
	die "the wineserver of $prefix did not exit within 120 s"
fi
# Windows 10 is Wine 8's default, so winecfg stores no "Version" value;
# what Windows programs see is in the CurrentVersion key.
grep -q '^"ProductName"="Microsoft Windows 10"' "$prefix/system.reg" ||
	die "winecfg -v win10 did not take: system.reg has no Windows 10"
grep -qi '^\[System\\\\CurrentControlSet\\\\Services\\\\BITS\]' \
	"$prefix/system.reg" || die "this Wine has no BITS service"
echo "$want" >"$stamp"
say "$prefix is ready (new: $(elapsed) ms, $(du -sm "$prefix" | cut -f1) MB)"
