# shellcheck shell=bash
# lib.sh: what bench/run.sh and bench/profile.sh share, sourced by both:
# packages, the release build, the servers under test (each started in
# $BENCH_TMP on 127.0.0.1 and stopped by the EXIT trap) and the parsing
# of wrk's and openssl s_time's output. Not meant to be run by itself.

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_BUILD=${BENCH_BUILD_DIR:-$BENCH_REPO/build-bench}
BENCH_BIN=$BENCH_BUILD/wsusdiagd
BENCH_PIDS=()
BENCH_PORTS=()

# ---- setup ---------------------------------------------------------------

bench_pkgs() { # package...
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "bench: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

bench_build() {
	cmake -S "$BENCH_REPO" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release \
		-DWSUSDIAG_TESTS=OFF >/dev/null
	cmake --build "$BENCH_BUILD" -j"$(nproc)" >/dev/null
}

bench_cleanup() {
	local p i
	for p in "${BENCH_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || continue
		for i in $(seq 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $BENCH_TMP" >&2
	else
		rm -rf "$BENCH_TMP"
	fi
}

bench_tmp() {
	BENCH_TMP=$(mktemp -d /tmp/wsusdiag-bench-XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# A 127.0.0.1 port nothing listens on, into the variable named $1; below
# the ephemeral range (32768-60999), where clients bind without listening.
bench_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		[[ " ${BENCH_PORTS[*]} " == *" $p "* ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
	done
	BENCH_PORTS+=("$p")
	printf -v "$1" '%s' "$p"
}

# Until URL answers 200 over HTTP(S), at most 30 s (valgrind is slow).
bench_wait() { # url
	local i
	for i in $(seq 300); do
		[ "$(curl -sk -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
		sleep 0.1
	done
	echo "bench: $1 did not answer" >&2
	return 1
}

# ---- the servers ---------------------------------------------------------

# Key, certificate (ECDSA P-256, made by wsusdiagd init) and a read token
# for both servers: CERT, KEY, TOKEN.
bench_credentials() {
	"$BENCH_BIN" init --dir "$BENCH_TMP/init" >/dev/null
	CERT=$BENCH_TMP/init/server.crt
	KEY=$BENCH_TMP/init/server.key
	TOKEN=bench_$(openssl rand -hex 16)
}

# The WSUS stand-in: the tests' nginx.conf.in (one process, HTTP and
# HTTPS) serving the two files the server check fetches. WSUS_PORT.
bench_start_wsus() {
	local d=$BENCH_TMP/wsus https
	bench_port WSUS_PORT
	bench_port https
	mkdir -p "$d/tmp" "$d/www/selfupdate"
	# The sizes of tests/servers/servers.h; the check reads no content.
	head -c 4096 /dev/zero | tr '\0' W >"$d/www/iuident.cab"
	head -c 3000 /dev/zero | tr '\0' W >"$d/www/selfupdate/wuident.cab"
	sed -e "s|@DIR@|$d|g" -e "s|@HTTP_PORT@|$WSUS_PORT|" \
		-e "s|@HTTPS_PORT@|$https|" -e "s|@CERT@|$CERT|" -e "s|@KEY@|$KEY|" \
		"$BENCH_REPO/tests/servers/nginx.conf.in" >"$d/nginx.conf"
	nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" \
		-g "daemon off; pid $d/nginx.pid; error_log $d/error.log;" &
	BENCH_PIDS+=($!)
	bench_wait "http://127.0.0.1:$WSUS_PORT/iuident.cab"
}

# wsusdiagd on a copy of examples/hosts/healthy.json whose WSUS is the
# stand-in. Limits above the load (64 connections, all from 127.0.0.1);
# the log at its default level, one line per request, into a file.
# WSD_PID, WSD_PORT.
bench_start_daemon() {
	local d=$BENCH_TMP/wsusdiagd hash
	bench_port WSD_PORT
	mkdir -p "$d"
	sed "s|wsus.corp.example:8530|127.0.0.1:$WSUS_PORT|g" \
		"$BENCH_REPO/examples/hosts/healthy.json" >"$d/host.json"
	hash=$(printf %s "$TOKEN" | "$BENCH_BIN" hash-token)
	cat >"$d/wsusdiagd.json" <<-JSON
		{"listen": "127.0.0.1:$WSD_PORT",
		 "tls": {"cert": "$CERT", "key": "$KEY", "client_ca": null},
		 "auth": {"tokens": [{"name": "bench", "sha256": "$hash", "role": "read"}],
		          "clients": [], "allow": ["127.0.0.0/8"]},
		 "host": {"kind": "sim", "path": "host.json"},
		 "limits": {"connections": 256, "per_ip": 256, "idle_timeout_s": 15,
		            "handshake_timeout_s": 5, "body_bytes": 65536},
		 "audit_log": null}
	JSON
	${BENCH_WRAP:-} "$BENCH_BIN" --config "$d/wsusdiagd.json" 2>"$d/log" &
	WSD_PID=$!
	BENCH_PIDS+=("$WSD_PID")
	bench_wait "https://127.0.0.1:$WSD_PORT/health"
}

# The group (curve) a server's ECDHE uses with an OpenSSL 3 client, as
# an OpenSSL name (X25519, prime256v1, secp521r1, ...).
bench_group() { # port
	openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
		sed -n 's/^Server Temp Key: \(ECDH, \)\{0,1\}\([^,]*\),.*/\2/p'
}

# The reference nginx (bench/nginx.conf.in) with /health's exact body.
# Its ECDHE group is nginx's default unless BENCH_NGINX_CURVE names one
# or is "match" (the group wsusdiagd uses). NGX_PID, NGX_PORT.
bench_start_nginx() {
	local d=$BENCH_TMP/nginx curve=${BENCH_NGINX_CURVE:-auto} body
	bench_port NGX_PORT
	mkdir -p "$d/tmp"
	[ "$curve" = match ] && curve=$(bench_group "$WSD_PORT")
	body=$(curl -sk "https://127.0.0.1:$WSD_PORT/health")
	sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$NGX_PORT|" -e "s|@CERT@|$CERT|" \
		-e "s|@KEY@|$KEY|" -e "s|@CURVE@|$curve|" -e "s|@BODY@|$body|" \
		"$BENCH_REPO/bench/nginx.conf.in" >"$d/nginx.conf"
	nginx -p "$d" -e "$d/nginx-error.log" -c "$d/nginx.conf" \
		-g "daemon off;" &
	NGX_PID=$!
	BENCH_PIDS+=("$NGX_PID")
	bench_wait "https://127.0.0.1:$NGX_PORT/health"
}

# prometheus-node-exporter by hand (not the Debian service), with its
# default collectors, over TLS 1.2 with the same certificate.
# NE_PID, NE_PORT.
bench_start_node_exporter() {
	local d=$BENCH_TMP/node-exporter
	bench_port NE_PORT
	mkdir -p "$d"
	cat >"$d/web.yml" <<-YAML
		tls_server_config:
		  cert_file: $CERT
		  key_file: $KEY
		  min_version: TLS12
		  max_version: TLS12
	YAML
	prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" \
		--web.config.file="$d/web.yml" 2>"$d/log" &
	NE_PID=$!
	BENCH_PIDS+=("$NE_PID")
	bench_wait "https://127.0.0.1:$NE_PORT/"
}

# ---- measuring -----------------------------------------------------------

# A field of /proc/PID/status (VmRSS, RssAnon) or, for Pss, of
# smaps_rollup, in KiB, summed over the process and its children (nginx's
# workers). Pss divides each shared page among the processes that map it.
bench_kib() { # field pid
	local sum=0 p v f=status
	[ "$1" = Pss ] && f=smaps_rollup
	for p in "$2" $(cat /proc/"$2"/task/*/children 2>/dev/null); do
		v=$(awk -v f="$1:" '$1 == f {print $2}' "/proc/$p/$f" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# CPU time (user + system) in ms that a process and its children have
# used so far; threads that have ended are counted in their process.
bench_cpu_ms() { # pid
	local sum=0 p t
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f12-13)
		[ -n "$t" ] && sum=$((sum + ${t% *} + ${t#* }))
	done
	echo $((sum * 1000 / $(getconf CLK_TCK)))
}

# wrk's figures from its output file: requests/s, p50 and p99 in ms,
# requests, errors (socket errors and non-2xx answers).
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_requests() { awk '/ requests in / {print $1}' "$1"; }
wrk_pct() { # file percent
	awk -v p="$2%" '$1 == p {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		f = u == "us" ? 0.001 : u == "ms" ? 1 : u == "s" ? 1000 : 60000
		printf "%.2f\n", v * f }' "$1"
}
wrk_errors() {
	awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
	     /Non-2xx/ { n += $NF } END { print n + 0 }' "$1"
}

# Run wrk until BENCH_PER_THREAD responses per thread (stop-after.lua).
wrk_count() { # out threads conns total url [wrk options...]
	local out=$1 t=$2 c=$3 total=$4 url=$5 done=$BENCH_TMP/done.$RANDOM pid i
	shift 5
	mkdir -p "$done"
	BENCH_DONE_DIR=$done BENCH_PER_THREAD=$((total / t)) \
		wrk -t"$t" -c"$c" -d600s -s "$BENCH_REPO/bench/stop-after.lua" \
		"$@" "$url" >"$out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(find "$done" -type f | wc -l)" -ge "$t" ] && break
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || true
	rm -rf "$done"
}

# New connections: CLIENTS parallel `openssl s_time -new`, each a full
# handshake (no resumption), one HTTP/1.0 GET, then close, for SECONDS.
# Prints connections/s over the wall time and the failed clients.
stime_rate() { # out port path clients seconds
	local out=$1 i t0 t1 fails=0 pids=()
	t0=$(date +%s.%N)
	for i in $(seq "$4"); do
		openssl s_time -connect "127.0.0.1:$2" -new -www "$3" \
			-time "$5" >"$out.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fails=$((fails + 1)); done
	t1=$(date +%s.%N)
	cat "$out".* >"$out"
	awk -v t0="$t0" -v t1="$t1" -v f="$fails" \
		'/connections in .* real seconds/ { n += $1 }
		 END { printf "%.1f %d %d\n", n / (t1 - t0), n, f }' "$out"
}
