#!/usr/bin/env bash
# bench/profile.sh: where wsusdiagd spends its time in the two throughput
# cases of bench/run.sh, keep-alive GET /health and one new TLS
# connection per request. Not part of run.sh; run it when a figure
# falls short. bench/RESULTS.md has what it found.
#
#   bench/profile.sh [perf]    perf sampling the daemon (cpu-clock, so it
#                              works in VMs without hardware counters):
#                              shares per library, top functions, and the
#                              inclusive share of the main code paths
#   bench/profile.sh callgrind valgrind's instruction counts per request
#                              (repeatable on a noisy machine)
#   bench/profile.sh syscalls  strace's system calls per keep-alive
#                              request, wsusdiagd next to nginx
#
# Environment: BENCH_PROFILE_S [10] (perf: seconds per case),
# BENCH_PROFILE_KA [20000] and BENCH_PROFILE_NC [300] (callgrind and
# syscalls: keep-alive requests, new connections), BENCH_PROFILE_CURVE
# (callgrind: the groups curl offers, e.g. P-256; default curl's list),
# BENCH_PROFILE_TOP [25] (rows per table), BENCH_KEEP=1 (keep the raw
# perf.data / callgrind.out / strace files).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-perf}
secs=${BENCH_PROFILE_S:-10}
ka_n=${BENCH_PROFILE_KA:-20000}
nc_n=${BENCH_PROFILE_NC:-300}
top=${BENCH_PROFILE_TOP:-25}

"$BENCH_REPO/scripts/deps.sh"
case $mode in
perf) bench_pkgs wrk nginx openssl curl linux-perf ;;
callgrind) bench_pkgs wrk nginx openssl curl valgrind ;;
syscalls) bench_pkgs wrk nginx openssl curl strace ;;
*)
	echo "usage: bench/profile.sh [perf|callgrind|syscalls]" >&2
	exit 2
	;;
esac
bench_build
bench_tmp
bench_credentials
bench_start_wsus
out=$BENCH_TMP/out
mkdir -p "$out"

# ---- perf ----------------------------------------------------------------

# Entry points whose inclusive share splits the time into its paths: the
# system calls, the socket pair (unix_*) and TCP, the pump, MHD, TLS.
PATHS='__x64_sys_[a-z0-9_]+|unix_stream_(send|recv)msg|tcp_(send|recv)msg'
PATHS+='|schedule|pump_(in|out)|tls_conn_handshake|mbedtls_ssl_(read|write)'
PATHS+='|mbedtls_(ecdh_make_params|ecdh_calc_secret|pk_sign)|api_handle'
PATHS+='|MHD_[a-z_]+|log_info|httpd_add|__poll|pthread_create[@A-Z_.0-9]*'

# awk, not head, ends each pipe: reading it all spares perf a SIGPIPE.
perf_tables() { # perf.data
	perf report -i "$1" --no-children --stdio --sort dso -g none 2>/dev/null |
		awk '!/^#/ && NF && n++ < 12'
	echo
	perf report -i "$1" --no-children --stdio --sort dso,sym -g none \
		2>/dev/null |
		awk -v top="$top" '!/^#/ && NF && n++ < top'
	echo
	# Libraries without frame pointers unwind badly: trust the kernel
	# paths here and callgrind for the user-space ones.
	echo "inclusive (children) share of the main paths:"
	perf report -i "$1" --children --stdio --sort sym -g none 2>/dev/null |
		awk -v re="\\\\] ($PATHS)[[:space:]]*\$" \
			'$0 ~ re && $1 + 0 >= 0.3 && n++ < 30'
}

# Sample the running daemon while a load runs.
perf_case() { # name command...
	local name=$1 rec
	shift
	perf record -g -e cpu-clock -F 1999 -p "$WSD_PID" \
		-o "$out/$name.data" 2>"$out/$name.perf-log" &
	rec=$!
	sleep 0.5
	"$@" >"$out/$name.load" 2>&1 || true
	kill -INT "$rec"
	wait "$rec" || true
	echo "== $name: perf, cpu-clock samples of wsusdiagd"
	perf_tables "$out/$name.data"
	echo
}

# ---- callgrind -----------------------------------------------------------

# A fresh daemon under callgrind per case; the counts are zeroed after
# its start and dumped after the load, so they hold the load alone.
# Prints the total; leaves it in $cg_total.
callgrind_case() { # name requests load-function
	local name=$1 n=$2 f
	BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=$out/$name.%p" \
		bench_start_daemon
	callgrind_control -z "$WSD_PID" >/dev/null
	"$3" "$n" >"$out/$name.load" 2>&1 || true
	callgrind_control -d "$WSD_PID" >/dev/null
	kill -TERM "$WSD_PID"
	wait "$WSD_PID" || true
	f=$out/$name.$WSD_PID.1 # the dump; $name.$WSD_PID has the shutdown
	callgrind_annotate --threshold=100 --inclusive=no "$f" \
		>"$out/$name.self" 2>/dev/null
	callgrind_annotate --threshold=100 --inclusive=yes "$f" \
		>"$out/$name.incl" 2>/dev/null
	cg_total=$(awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1 }' \
		"$out/$name.self")
	echo "== $name: callgrind, $n requests, $cg_total instructions," \
		"$((cg_total / n)) per request"
}

callgrind_top() { # name
	# Zeroing the counts mid-run leaves the threads' entry (clone) with
	# the whole as its "self" cost: an artifact, left out.
	echo "self:"
	awk -v top="$top" '/^-+$/ { dash++ }
		dash >= 3 && /[0-9] / && !/:clone / && rows++ < top' "$out/$1.self"
	echo "inclusive, main paths:"
	awk -v re=":($PATHS|mbedtls_ssl_handshake|conn_main) " \
		'$0 ~ re && rows++ < 30' "$out/$1.incl"
	echo
}

# Keep-alive over 4 connections; each curl is a new process, so a full
# handshake, as from a script. Under valgrind all is ~50x slower.
ka_load() { wrk_count "$out/ka" 1 4 "$1" "https://127.0.0.1:$WSD_PORT/health"; }
nc_load() {
	local i
	for i in $(seq "$1"); do
		curl -sk -o /dev/null ${BENCH_PROFILE_CURVE:+--curves \
			"$BENCH_PROFILE_CURVE"} "https://127.0.0.1:$WSD_PORT/health"
	done
}

# ---- strace --------------------------------------------------------------

syscalls_case() { # name pid port
	local pids p args=() st
	pids="$2 $(cat /proc/"$2"/task/*/children 2>/dev/null)"
	for p in $pids; do args+=(-p "$p"); done
	strace -f -c -o "$out/$1.strace" "${args[@]}" 2>/dev/null &
	st=$!
	sleep 1
	wrk_count "$out/$1.wrk" 1 4 "$ka_n" "https://127.0.0.1:$3/health"
	sleep 0.5
	kill -INT "$st"
	wait "$st" || true
	echo "== $1: system calls per keep-alive request ($ka_n requests," \
		"4 connections)"
	awk -v n="$ka_n" '$NF != "total" && $4 ~ /^[0-9]+$/ && $4 >= n / 10 {
			printf "  %-12s %6.2f", $NF, $4 / n
			if ($5 ~ /^[0-9]+$/) printf "  (%.2f failed)", $5 / n
			print "" }
		$NF == "total" { printf "  %-12s %6.2f\n", "all", $4 / n }' \
		"$out/$1.strace"
	echo
}

case $mode in
perf)
	bench_start_daemon
	wsd=https://127.0.0.1:$WSD_PORT
	perf_case keep-alive wrk -t2 -c64 -d"${secs}s" "$wsd/health"
	perf_case new-connections stime_rate "$out/nc" "$WSD_PORT" /health 8 \
		"$secs"
	;;
callgrind)
	callgrind_case new-connections "$nc_n" nc_load
	per_conn=$((cg_total / nc_n))
	callgrind_top new-connections
	callgrind_case keep-alive "$ka_n" ka_load
	echo "less its 4 handshakes (at the new-connection cost):" \
		"$(((cg_total - 4 * per_conn) / ka_n)) per request"
	callgrind_top keep-alive
	;;
syscalls)
	bench_start_daemon
	bench_start_nginx
	syscalls_case wsusdiagd "$WSD_PID" "$WSD_PORT"
	syscalls_case nginx "$NGX_PID" "$NGX_PORT"
	;;
esac
