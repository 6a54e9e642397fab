#!/usr/bin/env bash
# Install, build, and start wsusdiagd on the simulated host
# examples/hosts/broken-bits.json, listening on https://127.0.0.1:8550.
# The first run writes a scratch configuration, certificate and two tokens
# into ./run (wsusdiagd init); the tokens are shown once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
host=${WSUSDIAG_HOST:-examples/hosts/broken-bits.json}

if [ ! -f run/wsusdiagd.json ]; then
	out=$(build/wsusdiagd init --dir run)
	echo "$out"
	read_token=$(echo "$out" | sed -n 's/^read token: *//p')
	admin_token=$(echo "$out" | sed -n 's/^admin token: *//p')
else
	echo "Using the existing ./run (its tokens were shown when it was made;"
	echo "rm -rf run and run this again for new ones)."
	read_token='<read token>'
	admin_token='<admin token>'
fi

cat <<MSG

Try, from another terminal in $(pwd):
  curl --cacert run/server.crt https://127.0.0.1:8550/health
  curl --cacert run/server.crt -H 'Authorization: Bearer $read_token' https://127.0.0.1:8550/checks/bits
  curl --cacert run/server.crt -H 'Authorization: Bearer $read_token' https://127.0.0.1:8550/report
  curl --cacert run/server.crt -H 'Authorization: Bearer $read_token' https://127.0.0.1:8550/errors/0x80200013
  curl --cacert run/server.crt -H 'Authorization: Bearer $admin_token' -H 'Content-Type: application/json' \\
       -d '{"dry_run":true}' https://127.0.0.1:8550/actions/restart-bits

Starting wsusdiagd on the simulated host $host (Ctrl-C stops it).
MSG
exec build/wsusdiagd --config run/wsusdiagd.json --listen 127.0.0.1:8550 \
	--host "sim:$host"
