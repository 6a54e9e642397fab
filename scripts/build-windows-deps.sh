#!/usr/bin/env bash
# Build wsusdiag's three libraries for 64-bit Windows (x86_64-w64-mingw32)
# from Debian 12's own source packages, static, into DEPS_DIR/prefix
# (include/, lib/, lib/pkgconfig/), then prove them under Wine.
#
#   scripts/build-windows-deps.sh [DEPS_DIR]     (default: build-win/deps)
#
# Run as root the first time (it installs MinGW-w64, Wine and dpkg-dev and
# adds a deb-src entry); later runs need root only if one of those went
# missing. Each library has
# a stamp recording the Debian source version and a hash of its recipe, so
# a second run only checks and says "up to date". Full logs: DEPS_DIR/logs.
#
# Layout of DEPS_DIR: src/ (apt-get source), build/, prefix/, stamps/,
# logs/, smoke/ (the Wine test; smoke/prefix is its WINEPREFIX).
#
# A program linking the prefix (cmake/mingw-w64-x86_64.cmake finds it):
#  - links with -static and -fstack-protector-strong (or -lssp), and
#    ws2_32 after the libraries (libmicrohttpd.pc carries it);
#  - calls WSAStartup() before any socket, and
#    mbedtls_threading_set_alt() with SRWLOCK functions before any
#    mbedTLS call (see build_mbedtls and the smoke test's mx_* functions).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-$root/build-win/deps}
host=x86_64-w64-mingw32
toolchain=$root/cmake/mingw-w64-x86_64.cmake
me=build-windows-deps
pkgs=(gcc-mingw-w64-x86-64 make cmake pkgconf dpkg-dev xz-utils patch
	python3 wine wine64)
libs=(libmicrohttpd mbedtls cjson)
dependent_stamps=smoke.stamp
# shellcheck source=scripts/debsrc.sh
. "$root/scripts/debsrc.sh"

# --- 1. the builds -----------------------------------------------------------

# Debian builds all three with hardening=+all; the part that carries over
# to MinGW is the stack protector (cJSON's own flags add it anyway). So
# programs linking these libraries must link with -fstack-protector-strong
# too (GCC then adds MinGW's libssp), or add -lssp.
harden=-fstack-protector-strong

cmake_build() { # cmake_build LOG SRCDIR BUILDDIR -D...
	local log=$1 s=$2 b=$3
	shift 3
	rm -rf "$b"
	run "$log" cmake -S "$s" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
		-DWSD_WIN_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX="$prefix" "$@"
	run "$log" cmake --build "$b" -j"$jobs"
	run "$log" cmake --install "$b"
}

# libmicrohttpd as mhd_configure (debsrc.sh) has it. Threads must be
# native Win32 ones (not winpthreads): 0.9.75's configure only detects those in "auto" mode
# (--with-threads=w32 fails: "W32 threads are not available"), so auto it
# is, and the choice is checked after.
build_libmicrohttpd() {
	local log=$logs/libmicrohttpd.log b=$build/libmicrohttpd

	mhd_configure --host=$host --with-threads=auto CFLAGS="-O2 $harden"
	grep -q '^#define MHD_USE_W32_THREADS 1' "$b/MHD_config.h" ||
		die "libmicrohttpd: configure did not choose W32 threads"
	# On MinGW configure marks the API __declspec(dllexport) even for a
	# static library, and every .exe linking it would then export MHD_*
	# (--exclude-all-symbols does not stop that). Plain extern instead.
	sed -i 's/^#define _MHD_EXTERN .*dllexport.*/#define _MHD_EXTERN extern/' \
		"$b/MHD_config.h"
	grep -q '^#define _MHD_EXTERN extern$' "$b/MHD_config.h" ||
		die "libmicrohttpd: could not drop dllexport from MHD_config.h"
	run "$log" make -C "$b" -j"$jobs"
	run "$log" make -C "$b" install
	# The .pc leaves out Winsock (libtool's .la has it). This prefix is
	# static only, so it belongs in Libs, where CMake's
	# pkg_check_modules() looks.
	sed -i 's/^Libs: .*-lmicrohttpd$/& -lws2_32/' \
		"$prefix/lib/pkgconfig/libmicrohttpd.pc"
	grep -q '^Libs: .*-lws2_32$' "$prefix/lib/pkgconfig/libmicrohttpd.pc" ||
		die "libmicrohttpd: could not add -lws2_32 to libmicrohttpd.pc"
}

# mbedTLS: Debian changes no source, but its debian/rules edits config.h
# with config.py before building. The same edits are replayed here, with
# one exception: MBEDTLS_THREADING_PTHREAD does not exist on Windows.
# The daemon shares one ssl_config, ctr_drbg, session cache and private
# key between its per-connection threads, and mbedTLS only locks those
# with MBEDTLS_THREADING_C, so threading stays on, as MBEDTLS_THREADING_ALT
# with the mutex type below (an SRWLOCK). The program must call
# mbedtls_threading_set_alt() with Win32 lock functions before using
# mbedTLS: until it does, every lock fails with
# MBEDTLS_ERR_THREADING_BAD_INPUT_DATA (and mbedtls_ctr_drbg_random with
# it), so forgetting it fails loudly instead of racing.
build_mbedtls() {
	local log=$logs/mbedtls.log o

	for o in MBEDTLS_DEPRECATED_WARNING MBEDTLS_HAVEGE_C MBEDTLS_MD2_C \
		MBEDTLS_MD4_C MBEDTLS_THREADING_C MBEDTLS_THREADING_ALT \
		MBEDTLS_CMAC_C MBEDTLS_SSL_DTLS_SRTP; do
		run "$log" python3 "$dir/scripts/config.py" \
			-f "$dir/include/mbedtls/config.h" set $o
	done
	run "$log" python3 "$dir/scripts/config.py" \
		-f "$dir/include/mbedtls/config.h" unset MBEDTLS_THREADING_PTHREAD
	cat >"$dir/include/mbedtls/threading_alt.h" <<'EOF'
/*
 * MBEDTLS_THREADING_ALT for Windows (written by wsusdiag's
 * scripts/build-windows-deps.sh). The lock is an SRWLOCK kept as the one
 * pointer it is, so this header needs no <windows.h>; SRWLOCK_INIT is
 * all zero. The program supplies the functions with
 * mbedtls_threading_set_alt() (AcquireSRWLockExclusive and friends).
 */
#ifndef MBEDTLS_THREADING_ALT_H
#define MBEDTLS_THREADING_ALT_H

typedef struct mbedtls_threading_mutex_t {
	void *lock;	/* SRWLOCK */
	char is_valid;
} mbedtls_threading_mutex_t;

#endif
EOF
	cmake_build "$log" "$dir" "$build/mbedtls" \
		-DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF \
		-DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
		-DMBEDTLS_FATAL_WARNINGS=OFF -DCMAKE_C_FLAGS="$harden"
	grep -q '^#define MBEDTLS_THREADING_ALT' \
		"$prefix/include/mbedtls/config.h" ||
		die "mbedtls: installed config.h lacks MBEDTLS_THREADING_ALT"
}

# cJSON: only the library, as Debian ships it (no cJSON_Utils). Symbols
# are built hidden rather than __declspec(dllexport), so an .exe linking
# it statically does not export cJSON's API.
build_cjson() {
	cmake_build "$logs/cjson.log" "$dir" "$build/cjson" \
		-DBUILD_SHARED_LIBS=OFF -DBUILD_SHARED_AND_STATIC_LIBS=OFF \
		-DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF \
		-DENABLE_PUBLIC_SYMBOLS=OFF -DENABLE_HIDDEN_SYMBOLS=ON
}

# Expected upstream versions: the ones the Linux build uses (Debian 12).
want_version() {
	case $1 in
	libmicrohttpd) echo '0.9.75-*' ;;
	mbedtls) echo '2.28.*' ;;
	cjson) echo '1.7.15-*' ;;
	esac
}

toolchain_id() {
	"$host-gcc" --version | head -n 1
	cat "$toolchain"
}

# recipe LIB VERSION: what the stamp of LIB must say.
recipe() {
	printf 'version=%s recipe=%s\n' "$2" "$({
		declare -f fetch mhd_configure cmake_build "build_$1"
		echo "$harden"
		toolchain_id
	} | sha256sum | cut -c1-16)"
}

# --- 2. the smoke test under Wine -----------------------------------------

write_smoke_c() {
	cat <<'EOF'
/*
 * Smoke test of the Windows builds of libmicrohttpd, cJSON and mbedTLS,
 * statically linked, run under Wine. Prints "smoke: ok ..." on success.
 */
#include <winsock2.h>
#include <windows.h>
#include <ws2tcpip.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/sha256.h>
#include <mbedtls/threading.h>
#include <mbedtls/version.h>
#include <microhttpd.h>

#define FAIL(...) do { fprintf(stderr, "smoke: FAIL " __VA_ARGS__); \
	fputc('\n', stderr); return 1; } while (0)

/* The Win32 lock functions the daemon must hand mbedTLS. */
static void mx_init(mbedtls_threading_mutex_t *m)
{
	InitializeSRWLock((SRWLOCK *)&m->lock);
	m->is_valid = 1;
}
static void mx_free(mbedtls_threading_mutex_t *m) { m->is_valid = 0; }
static int mx_lock(mbedtls_threading_mutex_t *m)
{
	if (!m->is_valid)
		return MBEDTLS_ERR_THREADING_BAD_INPUT_DATA;
	AcquireSRWLockExclusive((SRWLOCK *)&m->lock);
	return 0;
}
static int mx_unlock(mbedtls_threading_mutex_t *m)
{
	if (!m->is_valid)
		return MBEDTLS_ERR_THREADING_BAD_INPUT_DATA;
	ReleaseSRWLockExclusive((SRWLOCK *)&m->lock);
	return 0;
}

static int test_mbedtls(void)
{
	static const char want[] = "ba7816bf8f01cfea414140de5dae2223"
				   "b00361a396177a9cb410ff61f20015ad";
	mbedtls_threading_mutex_t m = {0};
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	unsigned char d[32], rnd[16];
	char hex[65];
	int i, rc;

	if (sizeof(SRWLOCK) != sizeof(m.lock))
		FAIL("SRWLOCK is not one pointer");
	/* Before set_alt every lock must fail: THREADING_ALT is in. */
	if (mbedtls_mutex_lock(&m) != MBEDTLS_ERR_THREADING_BAD_INPUT_DATA)
		FAIL("mbedtls_mutex_lock worked without mbedtls_threading_set_alt");
	mbedtls_threading_set_alt(mx_init, mx_free, mx_lock, mx_unlock);
	if (mbedtls_sha256_ret((const unsigned char *)"abc", 3, d, 0) != 0)
		FAIL("mbedtls_sha256_ret");
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (strcmp(hex, want) != 0)
		FAIL("sha256(abc) = %s", hex);
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
				   (const unsigned char *)"smoke", 5);
	if (rc == 0)
		rc = mbedtls_ctr_drbg_random(&drbg, rnd, sizeof(rnd));
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	if (rc != 0)
		FAIL("ctr_drbg (Windows entropy + locks): -0x%04x", -rc);
	mbedtls_threading_free_alt();
	return 0;
}

static int test_cjson(void)
{
	cJSON *j = cJSON_Parse("{\"ok\":true,\"n\":42,\"s\":\"caf\\u00e9\"}");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "n");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "s");
	int bad = !cJSON_IsNumber(n) || n->valueint != 42 ||
		  !cJSON_IsString(s) || strcmp(s->valuestring, "caf\xc3\xa9");

	cJSON_Delete(j);
	if (bad)
		FAIL("cJSON_Parse");
	return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static const char body[] = "smoke-ok";
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls; (void)method; (void)version; (void)upload;
	(void)upload_size; (void)state;
	if (strcmp(url, "/smoke") != 0)
		return MHD_NO;
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * There is no socketpair() on Windows: a loopback TCP pair stands in,
 * one end handed to MHD with MHD_add_connection(), as the daemon's TLS
 * bridge will do.
 */
static int tcp_pair(SOCKET sv[2])
{
	struct sockaddr_in a;
	int alen = sizeof(a);
	SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

	sv[0] = sv[1] = INVALID_SOCKET;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l == INVALID_SOCKET ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) != 0)
		goto fail;
	sv[0] = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (sv[0] == INVALID_SOCKET ||
	    connect(sv[0], (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	sv[1] = accept(l, NULL, NULL);
	if (sv[1] == INVALID_SOCKET)
		goto fail;
	closesocket(l);
	return 0;
fail:
	fprintf(stderr, "smoke: loopback pair: WSA error %d\n", WSAGetLastError());
	if (l != INVALID_SOCKET)
		closesocket(l);
	if (sv[0] != INVALID_SOCKET)
		closesocket(sv[0]);
	return -1;
}

static int test_mhd(void)
{
	/* The flags of the daemon's httpd.c. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | MHD_USE_POLL;
	static const char req[] = "GET /smoke HTTP/1.1\r\nHost: smoke\r\n"
				  "Connection: close\r\n\r\n";
	struct sockaddr_in peer;
	struct MHD_Daemon *d;
	DWORD tmo = 10000;
	char buf[4096];
	int n, got = 0;
	SOCKET sv[2];

	if (MHD_is_feature_supported(MHD_FEATURE_POLL) != MHD_YES)
		FAIL("MHD has no poll() on this build");
	d = MHD_start_daemon(flags, 0, NULL, NULL, answer, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (d == NULL)
		FAIL("MHD_start_daemon");
	if (tcp_pair(sv) != 0) {
		MHD_stop_daemon(d);
		return 1;
	}
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(d, sv[1], (struct sockaddr *)&peer,
			       sizeof(peer)) != MHD_YES) {
		MHD_stop_daemon(d);
		FAIL("MHD_add_connection");
	}
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, (const char *)&tmo,
		   sizeof(tmo));
	send(sv[0], req, (int)sizeof(req) - 1, 0);
	while (got < (int)sizeof(buf) - 1 &&
	       (n = recv(sv[0], buf + got, (int)sizeof(buf) - 1 - got, 0)) > 0)
		got += n;
	buf[got] = '\0';
	closesocket(sv[0]);
	MHD_stop_daemon(d);
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 ||
	    strstr(buf, "\r\n\r\nsmoke-ok") == NULL)
		FAIL("HTTP over MHD_add_connection: got %d bytes: %.60s", got,
		     buf);
	return 0;
}

int main(void)
{
	WSADATA wsa;

	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		FAIL("WSAStartup");
	if (test_mbedtls() || test_cjson() || test_mhd())
		return 1;
	WSACleanup();
	printf("smoke: ok libmicrohttpd %s, cJSON %s, %s\n", MHD_get_version(),
	       cJSON_Version(), MBEDTLS_VERSION_STRING_FULL);
	return 0;
}
EOF
}

# smoke_id: what the smoke stamp must say.
smoke_id() {
	{
		declare -f write_smoke_c smoke
		cat "$stamps"/{libmicrohttpd,mbedtls,cjson}.stamp
		dpkg-query -W -f='${Version}\n' wine64
	} | sha256sum | cut -c1-16
}

smoke() {
	local log=$logs/smoke.log dir=$deps/smoke t cflags ldlibs rc=0
	local env=(env WINEPREFIX="$deps/smoke/prefix" WINEARCH=win64
		WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=")

	mkdir -p "$dir"
	: >"$log"
	write_smoke_c >"$dir/smoke.c"
	cflags=$(PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH='' \
		pkg-config --static --cflags libmicrohttpd libcjson)
	ldlibs=$(PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH='' \
		pkg-config --static --libs libmicrohttpd libcjson)
	# shellcheck disable=SC2086 # word splitting of pkg-config's flags
	run "$log" "$host-gcc" -std=gnu11 -Wall -Wextra -Werror -O2 $harden \
		-static -o "$dir/smoke.exe" "$dir/smoke.c" $cflags \
		-I"$prefix/include" -L"$prefix/lib" $ldlibs \
		-lmbedtls -lmbedx509 -lmbedcrypto -lws2_32

	# A fresh prefix boots Windows once (wineboot); later runs reuse it.
	# On a loaded machine Wine can leave a half-made prefix ("could not
	# load kernel32.dll, status c0000135"), which only a new one cures:
	# one more try, said.
	if [ ! -f "$dir/prefix/.ready" ]; then
		t=$SECONDS
		rm -rf "$dir/prefix"
		printf '\n$ wine wineboot --init\n' >>"$log"
		if ! "${env[@]}" wine wineboot --init >>"$log" 2>&1; then
			say "smoke: wineboot --init failed; making the prefix" \
				"again (log: $log)" >&2
			"${env[@]}" wineserver -k >>"$log" 2>&1 || true
			"${env[@]}" timeout 60 wineserver -w >>"$log" 2>&1 || true
			rm -rf "$dir/prefix"
			run "$log" "${env[@]}" wine wineboot --init
		fi
		run "$log" "${env[@]}" wineserver -w
		touch "$dir/prefix/.ready"
		say "smoke: new Wine prefix ready ($((SECONDS - t)) s," \
			"$(du -sm "$dir/prefix" | cut -f1) MB)"
	fi
	t=$SECONDS
	printf '\n$ wine smoke.exe\n' >>"$log"
	"${env[@]}" timeout 120 wine "$dir/smoke.exe" >>"$log" 2>&1 || rc=$?
	# Only this prefix's wineserver, and also after a failure.
	"${env[@]}" wineserver -k >>"$log" 2>&1 || true
	if [ "$rc" -ne 0 ] || ! grep -q '^smoke: ok ' "$log"; then
		tail -n 15 "$log" >&2
		die "smoke.exe failed under Wine (exit $rc; full log: $log)"
	fi
	say "smoke: $(grep -m1 -o 'libmicrohttpd.*' "$log") under Wine" \
		"($((SECONDS - t)) s)"
}

# --- main ------------------------------------------------------------------

debsrc_init
debsrc_versions
debsrc_build

want=$(smoke_id)
if [ "$(cat "$stamps/smoke.stamp" 2>/dev/null)" != "$want" ]; then
	smoke
	echo "$want" >"$stamps/smoke.stamp"
	built=1
fi

if [ $built -eq 0 ]; then
	say "up to date: libmicrohttpd ${ver[libmicrohttpd]}, mbedtls" \
		"${ver[mbedtls]}, cjson ${ver[cjson]} in $prefix"
else
	say "done in $((SECONDS - t0)) s: $prefix"
fi
