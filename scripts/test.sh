#!/usr/bin/env bash
# Install, build and run the whole test suite (ctest: Criterion unit and
# integration tests, the OpenAPI lint and route comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
BUILD_TYPE=${BUILD_TYPE:-Debug} scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 600
