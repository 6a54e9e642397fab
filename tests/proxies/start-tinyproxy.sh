#!/usr/bin/env bash
# Start tinyproxy on 127.0.0.1 on a random port, in the foreground, from
# tinyproxy.conf.in; for trying the proxy check by hand (the C tests
# start their own through proxies.h).
#   tests/proxies/start-tinyproxy.sh [PORT]
# Prints "tinyproxy 127.0.0.1:PORT" and runs until interrupted; the
# generated config and log live in a temporary folder removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
command -v tinyproxy >/dev/null ||
	{ echo "tinyproxy is not installed: scripts/deps.sh --test" >&2; exit 1; }
# A random high port unless one is given; tinyproxy says so if it is taken.
port=${1:-$(shuf -i 20000-60999 -n 1)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed -e "s|@PORT@|$port|" -e "s|@DIR@|$dir|" "$here/tinyproxy.conf.in" >"$dir/tinyproxy.conf"
echo "tinyproxy 127.0.0.1:$port"
tinyproxy -d -c "$dir/tinyproxy.conf"
