#!/usr/bin/env bash
# Install, build and run the whole test suite (ctest: Criterion unit and
# integration tests, the Windows build's end-to-end tests under Wine, the
# OpenAPI lint and route comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
BUILD_TYPE=${BUILD_TYPE:-Debug} scripts/build.sh
# The Windows build, for the end-to-end tests under Wine (installs
# MinGW-w64 and Wine, builds the libraries from Debian's sources once).
scripts/build-windows.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 600
