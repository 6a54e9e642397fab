#!/usr/bin/env bash
# check.sh WSUSDIAGD_BINARY
# check.sh --install
#
# Lint openapi.yaml with Redocly, compare its routes with the route table
# the daemon was built with (`WSUSDIAGD routes`), and check that the
# integration tests' contract validator (validate.mjs) rejects what the spec
# does not allow. Installs the pinned Node tools on first use, or when
# package-lock.json is newer than the install. All steps always run so one
# run names every problem.
#
# --install only installs them: ctest's openapi_npm fixture, which the
# integration tests (their contract validator, validate.mjs) need too.
set -euo pipefail

usage() {
	echo "usage: $0 WSUSDIAGD_BINARY | $0 --install" >&2
	exit 2
}

[ $# -eq 1 ] || usage
install_only=false
if [ "$1" = --install ]; then
	install_only=true
else
	bin=$1
	case $bin in
	/*) ;;
	*) bin=$PWD/$bin ;; # we cd below
	esac
	if [ ! -x "$bin" ]; then
		echo "check.sh: $bin is not an executable file" >&2
		exit 2
	fi
fi

cd "$(dirname "$0")"

# @redocly/cli 1.34 needs Node 18.17+ (Debian 12 ships 18.20); say so
# instead of failing obscurely.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
	process.exit(a > 18 || (a === 18 && b >= 17) ? 0 : 1)'; then
	echo "check.sh: Node $(node --version) is too old; need 18.17+" >&2
	exit 2
fi

# npm writes node_modules/.package-lock.json on every install, so it dates
# the install; a newer package-lock.json means the pins changed since.
# Under a lock on this directory: two build trees' test runs may get here
# at once, and npm ci starts by deleting node_modules.
exec 9<.
flock 9
if [ ! -f node_modules/.package-lock.json ] ||
	[ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund
	touch node_modules/.package-lock.json
fi
flock -u 9
if $install_only; then
	exit 0
fi

# No phoning home from a test run.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

status=0
if ! npx --no -- redocly lint --config redocly.yaml ../../openapi.yaml; then
	echo "check.sh: redocly lint failed" >&2
	status=1
fi
if ! node compare-routes.mjs "$bin" ../../openapi.yaml; then
	echo "check.sh: openapi.yaml and the daemon's routes differ" >&2
	status=1
fi
if ! node --test validate.test.mjs; then
	echo "check.sh: the contract validator misjudges answers" >&2
	status=1
fi
exit $status
