#!/usr/bin/env bash
# Build wsusdiagd.exe for 64-bit Windows with MinGW-w64, statically linked
# against libmicrohttpd, mbedTLS and cJSON built from Debian's source
# packages (scripts/build-windows-deps.sh, cached in build-win/deps).
#   scripts/build-windows.sh     ->  build-win/wsusdiagd.exe
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-windows-deps.sh
cmake -S . -B build-win/cmake \
	-DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
	-DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build-win/cmake -j"$(nproc)"
cp build-win/cmake/wsusdiagd.exe build-win/wsusdiagd.exe
echo "build-windows: build-win/wsusdiagd.exe"
