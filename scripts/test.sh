#!/usr/bin/env bash
# Install, build and run the whole test suite:
#  1. ctest in ./build: Criterion unit and integration tests (every
#     response checked against openapi.yaml), the attack and limit tests,
#     the TLS scan, one run of the daemon under valgrind, the Windows
#     build's end-to-end tests under Wine, the OpenAPI lint;
#  2. the same suite under ASan + UBSan + LeakSanitizer in ./build-asan
#     (without Wine, which runs the unsanitized .exe, and the lint);
#  3. every libFuzzer target for a short time (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
BUILD_TYPE=${BUILD_TYPE:-Debug} scripts/build.sh
# The Windows build, for the end-to-end tests under Wine (installs
# MinGW-w64 and Wine, builds the libraries from Debian's sources once).
scripts/build-windows.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 --timeout 600

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWSUSDIAG_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j2 --timeout 600 -LE 'wine|lint'

scripts/fuzz.sh --all "${FUZZ_SECONDS:-20}"
