#!/usr/bin/env bash
# Install what wsusdiag needs from Debian 12's archive (run as root), and
# build libmicrohttpd from Debian's source package into ./build-deps
# (scripts/build-linux-deps.sh says why).
#   scripts/deps.sh          build and run
#   scripts/deps.sh --test   also what the test suite needs
set -euo pipefail

pkgs=(gcc make cmake pkg-config libc6-dev
	libcjson-dev libmbedtls-dev libcurl4-openssl-dev
	openssl curl ca-certificates)
if [ "${1:-}" = "--test" ]; then
	pkgs+=(libcriterion-dev)
	# A real forward proxy for the proxy and server tests.
	pkgs+=(tinyproxy)
	# A well-behaved WSUS-like server for the server check's tests.
	pkgs+=(nginx)
	# The TLS scan of the daemon (tests/integration/test_tls_scan.c).
	pkgs+=(sslscan)
	# One integration run of the daemon under valgrind (tests/CMakeLists.txt).
	pkgs+=(valgrind)
	# The libFuzzer targets of fuzz/ (scripts/fuzz.sh): clang and its
	# fuzzer and sanitizer runtimes, llvm-symbolizer for readable stacks.
	pkgs+=(clang libclang-rt-14-dev llvm)
	# The spec linter comes from npm; Debian's nodejs/npm unless the
	# machine already has a Node.js with npm (e.g. from another source).
	command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$(dirname "$0")/build-linux-deps.sh"
