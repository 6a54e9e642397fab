#!/usr/bin/env bash
# Build libmicrohttpd for this machine from Debian 12's own source package,
# static and without its HTTPS support, into DEPS_DIR/prefix, where
# CMakeLists.txt looks for it.
#
#   scripts/build-linux-deps.sh [DEPS_DIR]     (default: build-deps)
#
# Why not Debian's libmicrohttpd12: it is built with HTTPS, so loading it
# loads GnuTLS and eight more libraries and initialises them (2.3 MiB of
# the daemon's 5.7 MiB idle RSS, bench/RESULTS.md), in a root daemon that
# never uses them: TLS is mbedTLS's, in front of MHD. The Windows build
# (scripts/build-windows-deps.sh) has always built MHD this way, so the
# Linux tests now run the MHD configuration the product ships.
#
# Run as root the first time (dpkg-dev, a deb-src entry); later runs only
# check the stamp and say "up to date". Full logs: DEPS_DIR/logs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-$root/build-deps}
me=build-linux-deps
pkgs=(gcc make pkgconf dpkg-dev xz-utils patch)
libs=(libmicrohttpd)
# shellcheck source=scripts/debsrc.sh
. "$root/scripts/debsrc.sh"

want_version() { echo '0.9.75-*'; }

# Debian's own compiler flags for it (debian/rules: hardening=+all), so
# the library differs from Debian's only in what configure leaves out.
debian_flags() {
	DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"
}

build_libmicrohttpd() {
	local log=$logs/libmicrohttpd.log b=$build/libmicrohttpd

	mhd_configure --with-threads=posix CFLAGS="$(debian_flags CFLAGS)" \
		CPPFLAGS="$(debian_flags CPPFLAGS)" \
		LDFLAGS="$(debian_flags LDFLAGS)"
	# The daemon's event loops rely on these (daemon/httpd.c).
	grep -q '^#define EPOLL_SUPPORT 1' "$b/MHD_config.h" ||
		die "libmicrohttpd: configure left out epoll"
	grep -q '^#define MHD_USE_POSIX_THREADS 1' "$b/MHD_config.h" ||
		die "libmicrohttpd: configure did not choose POSIX threads"
	run "$log" make -C "$b" -j"$jobs"
	run "$log" make -C "$b" install
}

# recipe LIB VERSION: what the stamp of LIB must say.
recipe() {
	printf 'version=%s recipe=%s\n' "$2" "$({
		declare -f fetch mhd_configure debian_flags "build_$1"
		debian_flags CFLAGS
		gcc --version | head -n 1
	} | sha256sum | cut -c1-16)"
}

debsrc_init
debsrc_versions
debsrc_build
if [ "$built" -eq 0 ]; then
	say "up to date: libmicrohttpd ${ver[libmicrohttpd]} in $prefix"
else
	say "done in $((SECONDS - t0)) s: $prefix"
fi
