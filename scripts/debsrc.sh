# shellcheck shell=bash
# debsrc.sh: building libraries from Debian 12's own source packages,
# shared by scripts/build-windows-deps.sh (MinGW-w64) and
# scripts/build-linux-deps.sh (this machine). Sourced, not run.
#
# The caller sets: me (the name in messages), pkgs (Debian packages it
# needs), libs (source packages), deps (its directory), and defines
# want_version LIB (a glob), recipe LIB VERSION (what LIB's stamp must
# say) and build_LIB (run in the fetched tree $dir). Then:
#   debsrc_init; debsrc_versions; debsrc_build
# leaves every library in $prefix, rebuilding only those whose stamp
# differs, and sets built=1 if it built anything.

src_list=/etc/apt/sources.list.d/wsusdiag-src.sources
jobs=${JOBS:-2}
t0=$SECONDS
declare -A ver

# --- 1. messages, commands, packages --------------------------------------

say() { printf '%s: %s\n' "$me" "$*"; }
die() {
	say "error: $*" >&2
	exit 1
}

# run LOG CMD...: output only to LOG; on failure its tail goes to stderr.
run() {
	local log=$1
	shift
	printf '\n$ %s\n' "$*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 25 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

as_root() {
	[ "$(id -u)" -eq 0 ] || die "$1; run this once as root"
}

install_packages() {
	local p missing=()

	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	as_root "missing packages: ${missing[*]}"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	run "$logs/apt.log" apt-get update -qq
	run "$logs/apt.log" apt-get install -y -qq --no-install-recommends \
		"${missing[@]}"
}

# --- 2. a deb-src entry --------------------------------------------------

have_deb_src() {
	[ -f "$src_list" ] && return 0
	grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list && return 0
	grep -qsiE '^types:.*[[:space:]]deb-src([[:space:]]|$)' \
		/etc/apt/sources.list.d/*.sources
}

# The deb stanzas of debian.sources (deb822) again as deb-src: same URIs,
# Suites, Components and Signed-By, so sources come from the same mirror
# and snapshot as the installed binaries. Comments are dropped.
derive_src_stanzas() {
	awk '
	function flush() {
		if (n > 0 && isdeb && !off) {
			printf "%sTypes: deb-src\n", (out++ ? "\n" : "")
			for (i = 1; i <= n; i++)
				print body[i]
		}
		n = 0; isdeb = 0; off = 0; skip = 0
	}
	/^[ \t]*$/ { flush(); next }
	/^#/ { next }
	/^[ \t]/ { if (!skip) body[++n] = $0; next }
	{
		f = tolower($0); sub(/:.*/, "", f)
		v = $0; sub(/^[^:]*:[ \t]*/, "", v)
		skip = 0
		if (f == "types") {
			skip = 1
			if ((" " v " ") ~ /[ \t]deb[ \t]/)
				isdeb = 1
			next
		}
		if (f == "enabled" && tolower(v) == "no")
			off = 1
		body[++n] = $0
	}
	END { flush() }' "$1"
}

fallback_src_stanzas() {
	cat <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

ensure_deb_src() {
	local debian=/etc/apt/sources.list.d/debian.sources stanzas=

	have_deb_src && return 0
	as_root "no deb-src entry in APT's sources"
	[ -f "$debian" ] && stanzas=$(derive_src_stanzas "$debian")
	[ -n "$stanzas" ] || stanzas=$(fallback_src_stanzas)
	{
		echo "# Added by wsusdiag's scripts/$me.sh for"
		echo "# apt-get source; derived from debian.sources."
		printf '%s\n' "$stanzas"
	} >"$src_list"
	say "added deb-src entries: $src_list"
	run "$logs/apt.log" apt-get update -qq
}

# src_versions PKG...: "PKG VERSION" for what `apt-get source` would fetch
# (one apt-get call: loading APT's cache is most of a cached run's time).
src_versions() {
	apt-get source --print-uris -qq "$@" 2>/dev/null |
		awk '$2 ~ /\.dsc$/ {
			v = $2; sub(/\.dsc$/, "", v)
			p = v; sub(/_.*/, "", p); sub(/^[^_]*_/, "", v)
			print p, v }'
}

# --- 3. fetch, patch, build -----------------------------------------------

# fetch PKG VERSION: a fresh extraction in src/, Debian's patches applied
# by dpkg-source and checked here. Sets $dir.
fetch() {
	local pkg=$1 ver=$2 log=$logs/$1.log series n=0 p
	local up=${ver%-*}

	dir=$src/$pkg-$up
	rm -rf "$dir" "$dir.check" "$src/${pkg}_"*
	(cd "$src" && run "$log" apt-get source -q --only-source "$pkg=$ver")
	[ -d "$dir" ] || die "apt-get source $pkg=$ver did not give $dir"

	# Prove the patches are in: reverting them all, newest first and
	# without fuzz, must succeed on a copy of the tree.
	series=$dir/debian/patches/series
	if [ -s "$series" ]; then
		cp -a "$dir" "$dir.check"
		while read -r p; do
			run "$log" patch -d "$dir.check" -p1 -R -F0 -s -f \
				--no-backup-if-mismatch -i "$dir/debian/patches/$p"
			n=$((n + 1))
		done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' \
			-e 's/[[:space:]].*//' "$series" | tac)
		rm -rf "$dir.check"
	fi
	if [ $n -gt 0 ]; then
		say "$pkg $ver: fetched; $n Debian patch(es) applied, verified"
	else
		say "$pkg $ver: fetched; Debian has no patches for it"
	fi
}

# mhd_configure ARG...: configure libmicrohttpd from the fetched tree
# $dir into a fresh $build/libmicrohttpd, static and without its HTTPS
# (GnuTLS): the daemon terminates TLS with mbedTLS and hands MHD plain
# sockets. Both builds configure it here, so they ship the same MHD;
# ARG... adds what differs (host, threads, flags).
mhd_configure() {
	local b=$build/libmicrohttpd

	# Debian regenerates the autotools files (dh_autoreconf); a patch
	# touching them would need that here too.
	if [ "$dir/configure.ac" -nt "$dir/configure" ]; then
		die "libmicrohttpd: configure.ac is newer than configure (patched?)"
	fi
	rm -rf "$b"
	mkdir -p "$b"
	(cd "$b" && run "$logs/libmicrohttpd.log" "$dir/configure" \
		--prefix="$prefix" --disable-https \
		--disable-doc --disable-examples --disable-curl \
		--enable-static --disable-shared --disable-nls \
		--disable-dependency-tracking "$@")
	if grep -q '^#define HTTPS_SUPPORT 1' "$b/MHD_config.h"; then
		die "libmicrohttpd: configure kept HTTPS"
	fi
}

# --- 4. versions, stamps, builds --------------------------------------------

# debsrc_init: the directories and the lock, the packages, deb-src.
debsrc_init() {
	mkdir -p "$deps"
	deps=$(cd "$deps" && pwd)
	src=$deps/src build=$deps/build prefix=$deps/prefix
	logs=$deps/logs stamps=$deps/stamps
	mkdir -p "$src" "$build" "$prefix" "$logs" "$stamps"
	exec 9>"$deps/.lock"
	flock 9
	install_packages
	ensure_deb_src
}

find_versions() {
	local p v

	while read -r p v; do
		ver[$p]=$v
	done < <(src_versions "${libs[@]}")
}

# debsrc_versions: ver[LIB], the version apt-get source would fetch,
# which must match want_version LIB.
debsrc_versions() {
	local lib

	find_versions
	if [ ${#ver[@]} -ne ${#libs[@]} ] && [ "$(id -u)" -eq 0 ]; then
		# deb-src was there but its index was never downloaded.
		run "$logs/apt.log" apt-get update -qq
		find_versions
	fi
	for lib in "${libs[@]}"; do
		[ -n "${ver[$lib]:-}" ] || die "apt-get source cannot find $lib"
		# shellcheck disable=SC2053 # a glob on purpose
		[[ ${ver[$lib]} == $(want_version "$lib") ]] ||
			die "Debian offers $lib ${ver[$lib]}, expected $(want_version "$lib")"
	done
}

# debsrc_build: fetch and build each library whose stamp is not its
# recipe; a failed build leaves no stamp. Extra stamps to drop when any
# library is rebuilt (a test of them all): $dependent_stamps.
debsrc_build() {
	local lib want t

	built=0
	for lib in "${libs[@]}"; do
		want=$(recipe "$lib" "${ver[$lib]}")
		[ "$(cat "$stamps/$lib.stamp" 2>/dev/null)" = "$want" ] && continue
		rm -f "$stamps/$lib.stamp" ${dependent_stamps:+"$stamps/$dependent_stamps"}
		: >"$logs/$lib.log"
		t=$SECONDS
		fetch "$lib" "${ver[$lib]}"
		"build_$lib"
		echo "$want" >"$stamps/$lib.stamp"
		say "$lib ${ver[$lib]}: built and installed ($((SECONDS - t)) s)"
		built=1
	done
}
