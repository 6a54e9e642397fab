#!/usr/bin/env bash
# bench/run.sh: wsusdiagd's speed and memory next to nginx and
# prometheus-node-exporter, on this machine, in one run. It reports; it
# does not pass or fail. See bench/README.md for what is measured and how.
#
# Installs what it needs (wrk, nginx, prometheus-node-exporter) when
# missing, builds a release binary into build-bench, starts every server
# on 127.0.0.1 in a temporary directory and stops them all at the end.
# Durations and loads (environment, defaults in brackets):
#   BENCH_KEEPALIVE_ROUNDS [3] keep-alive rounds, each server once a round
#   BENCH_KEEPALIVE_S [10]     each keep-alive run
#   BENCH_NEWCONN_S [10]       each new-connection run
#   BENCH_NEWCONN_CLIENTS [8]  parallel s_time clients
#   BENCH_REPORT_S [10]        the GET /report run
#   BENCH_MEM_REQUESTS [100000] requests between the two RSS samples
#   BENCH_THREADS [2] BENCH_CONNS [64]  wrk's threads and connections
#   BENCH_NGINX_CURVE [auto]   nginx's ECDHE group; "match" = wsusdiagd's
#   BENCH_KEEP=1               keep the temporary directory (raw outputs)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KA_ROUNDS=${BENCH_KEEPALIVE_ROUNDS:-3}
KA_S=${BENCH_KEEPALIVE_S:-10}
NC_S=${BENCH_NEWCONN_S:-10}
NC_CLIENTS=${BENCH_NEWCONN_CLIENTS:-8}
REPORT_S=${BENCH_REPORT_S:-10}
MEM_N=${BENCH_MEM_REQUESTS:-100000}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}

"$BENCH_REPO/scripts/deps.sh"
bench_pkgs wrk nginx prometheus-node-exporter openssl curl
echo "bench: building $BENCH_BUILD (Release)" >&2
bench_build
bench_tmp
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%MZ)

bench_credentials
bench_start_wsus
bench_start_daemon
bench_start_nginx
bench_start_node_exporter
wsd=https://127.0.0.1:$WSD_PORT
ngx=https://127.0.0.1:$NGX_PORT
ne=https://127.0.0.1:$NE_PORT
out=$BENCH_TMP/out
mkdir -p "$out"

# ---- memory: idle, then the same requests to each -------------------------

echo "bench: memory ($MEM_N requests each)" >&2
sleep 1
declare -A rss0 anon0 pss0 rss1 anon1 pss1 rss2
for s in WSD NGX NE; do
	pid=${s}_PID
	rss0[$s]=$(bench_kib VmRSS "${!pid}")
	anon0[$s]=$(bench_kib RssAnon "${!pid}")
	pss0[$s]=$(bench_kib Pss "${!pid}")
done
wrk_count "$out/mem-wsd" "$THREADS" "$CONNS" "$MEM_N" "$wsd/health"
wrk_count "$out/mem-ngx" "$THREADS" "$CONNS" "$MEM_N" "$ngx/health"
# "/" (a 150-byte page): /metrics runs every collector, some ms each.
wrk_count "$out/mem-ne" "$THREADS" "$CONNS" "$MEM_N" "$ne/"
sleep 1
for s in WSD NGX NE; do
	pid=${s}_PID
	rss1[$s]=$(bench_kib VmRSS "${!pid}")
	anon1[$s]=$(bench_kib RssAnon "${!pid}")
	pss1[$s]=$(bench_kib Pss "${!pid}")
done

# ---- throughput -----------------------------------------------------------

# The servers' own CPU time per request: steadier than requests/s on a
# shared machine, and what a figure short of its goal is made of.
declare -A cpu
cpu_per() { # key pid ms-before requests
	cpu[$1]=$(awk -v a="$3" -v b="$(bench_cpu_ms "$2")" -v n="$4" 'BEGIN {
		if (n > 0) printf "%.0f", (b - a) * 1000 / n; else print "-" }')
}

# The middle value of numbers (the mean of the middle two).
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Rounds, each server once a round and first every other round: a VM's
# speed drifts by tens of percent within minutes, and a ratio taken
# within a round, where both servers met the same machine, drifts less.
# Each run opens its 64 connections anew; their handshakes (measured in
# the new-connection row) cost wsusdiagd 7x nginx's CPU and hold up the
# first requests, so a round is long enough for them to weigh little.
echo "bench: keep-alive, $KA_ROUNDS rounds of ${KA_S} s each" >&2
declare -A ka_ms ka_n ka_err
declare -a ka_ratios ka_rps_wsd ka_rps_ngx ka_p99_wsd ka_p99_ngx
for r in $(seq "$KA_ROUNDS"); do
	order="wsd ngx"
	[ $((r % 2)) = 0 ] && order="ngx wsd"
	for s in $order; do
		pid=${s^^}_PID
		f=$out/ka-$s.$r
		t0=$(bench_cpu_ms "${!pid}")
		wrk -t"$THREADS" -c"$CONNS" -d"${KA_S}s" --latency \
			"${!s}/health" >"$f" 2>&1
		ka_ms[$s]=$((${ka_ms[$s]:-0} + $(bench_cpu_ms "${!pid}") - t0))
		ka_n[$s]=$((${ka_n[$s]:-0} + $(wrk_requests "$f")))
		ka_err[$s]=$((${ka_err[$s]:-0} + $(wrk_errors "$f")))
	done
	ka_rps_wsd+=("$(wrk_rps "$out/ka-wsd.$r")")
	ka_rps_ngx+=("$(wrk_rps "$out/ka-ngx.$r")")
	ka_p99_wsd+=("$(wrk_pct "$out/ka-wsd.$r" 99)")
	ka_p99_ngx+=("$(wrk_pct "$out/ka-ngx.$r" 99)")
	ka_ratios+=("$(awk -v a="${ka_rps_wsd[-1]}" -v b="${ka_rps_ngx[-1]}" \
		'BEGIN { printf "%.3f", a / b }')")
done
for s in wsd ngx; do
	cpu[ka-$s]=$(awk -v ms="${ka_ms[$s]}" -v n="${ka_n[$s]}" \
		'BEGIN { if (n > 0) printf "%.0f", ms * 1000 / n; else print "-" }')
done
echo "bench: new connections, ${NC_S} s each" >&2
t0=$(bench_cpu_ms "$WSD_PID")
read -r nc_wsd nc_wsd_n nc_wsd_fail < <(stime_rate "$out/nc-wsd" "$WSD_PORT" \
	/health "$NC_CLIENTS" "$NC_S")
cpu_per nc-wsd "$WSD_PID" "$t0" "$nc_wsd_n"
t0=$(bench_cpu_ms "$NGX_PID")
read -r nc_ngx nc_ngx_n nc_ngx_fail < <(stime_rate "$out/nc-ngx" "$NGX_PORT" \
	/health "$NC_CLIENTS" "$NC_S")
cpu_per nc-ngx "$NGX_PID" "$t0" "$nc_ngx_n"

echo "bench: GET /report, ${REPORT_S} s" >&2
report_status=$(curl -sk -H "Authorization: Bearer $TOKEN" "$wsd/report" |
	sed -n 's/^{"status":"\([a-z]*\)".*/\1/p')
wrk -t1 -c1 -d"${REPORT_S}s" --latency -H "Authorization: Bearer $TOKEN" \
	"$wsd/report" >"$out/report" 2>&1
sleep 1
for s in WSD NGX NE; do
	pid=${s}_PID
	rss2[$s]=$(bench_kib VmRSS "${!pid}")
done

# ---- the table ------------------------------------------------------------

mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
ratio() {
	awk -v a="$1" -v b="$2" \
		'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
}
# "met" or "short": is a OP b?
goal() { awk -v a="$1" -v o="$2" -v b="$3" 'BEGIN {
	ok = o == ">=" ? a >= b : a < b; print ok ? "met" : "short" }'; }
row() { printf '%-34s %11s %11s %11s %8s  %-10s %s\n' "$@"; }
ver() { dpkg-query -W -f='${Version}' "$1"; }
mhd_ver() { sed 's/^version=\([^ ]*\) .*/\1/' "$BENCH_REPO/build-deps/stamps/libmicrohttpd.stamp"; }

ka_ratio=$(median "${ka_ratios[@]}")
nc_ratio=$(awk -v a="$nc_wsd" -v b="$nc_ngx" 'BEGIN { printf "%.3f", a / b }')
grow() { echo $((rss1[$1] - rss0[$1])); }
commit=$(git -C "$BENCH_REPO" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$({ git -C "$BENCH_REPO" --no-optional-locks status --porcelain ||
	true; } 2>/dev/null | wc -l)
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
debian=$(cat /etc/debian_version 2>/dev/null || echo '?')
ne_ver=$(prometheus-node-exporter --version 2>&1 | awk 'NR == 1 {print $3}')

cat <<EOF

wsusdiagd bench, $started
machine:  $cpu_model, $(nproc) cores, $mem, kernel $(uname -r), \
Debian $debian, load average at start $load_at_start
commit:   $commit ($dirty files changed or untracked in the tree)
versions: $("$BENCH_BIN" --version | head -1), mbedTLS $(ver libmbedtls-dev), \
libmicrohttpd $(mhd_ver) (no HTTPS, scripts/build-linux-deps.sh); nginx $(nginx -v 2>&1 | sed 's|.*/||'), \
$(openssl version | cut -d' ' -f1-2); node_exporter $ne_ver; wrk $(ver wrk)
TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, one P-256 certificate; ECDHE group: \
wsusdiagd $(bench_group "$WSD_PORT"), nginx $(bench_group "$NGX_PORT"), \
node_exporter $(bench_group "$NE_PORT")
load:     keep-alive wrk -t$THREADS -c$CONNS, $KA_ROUNDS rounds of ${KA_S} s; new connections \
$NC_CLIENTS x openssl s_time -new ${NC_S} s; /report wrk -t1 -c1 ${REPORT_S} s

EOF
row "" wsusdiagd nginx node_exp "ratio" "goal" ""
row "keep-alive GET /health, req/s" "$(median "${ka_rps_wsd[@]}")" \
	"$(median "${ka_rps_ngx[@]}")" - "$(ratio "$ka_ratio" 1)" ">= 0.8x" \
	"$(goal "$ka_ratio" ">=" 0.8)"
for i in "${!ka_ratios[@]}"; do
	row "  round $((i + 1)), req/s" "${ka_rps_wsd[i]}" "${ka_rps_ngx[i]}" - \
		"$(ratio "${ka_ratios[i]}" 1)" "" ""
done
row "keep-alive GET /health, p99 ms" "$(median "${ka_p99_wsd[@]}")" \
	"$(median "${ka_p99_ngx[@]}")" - "$(ratio "$(median "${ka_p99_wsd[@]}")" \
	"$(median "${ka_p99_ngx[@]}")")" "" ""
row "  server CPU us/request" "${cpu[ka-wsd]}" "${cpu[ka-ngx]}" - \
	"$(ratio "${cpu[ka-wsd]}" "${cpu[ka-ngx]}")" "" ""
row "  errors (socket, non-2xx)" "${ka_err[wsd]}" "${ka_err[ngx]}" - "" "" ""
row "new TLS connections/s" "$nc_wsd" "$nc_ngx" - \
	"$(ratio "$nc_wsd" "$nc_ngx")" ">= 0.5x" "$(goal "$nc_ratio" ">=" 0.5)"
row "  server CPU us/connection" "${cpu[nc-wsd]}" "${cpu[nc-ngx]}" - \
	"$(ratio "${cpu[nc-wsd]}" "${cpu[nc-ngx]}")" "" ""
row "  connections (failed clients)" "$nc_wsd_n ($nc_wsd_fail)" \
	"$nc_ngx_n ($nc_ngx_fail)" - "" "" ""
row "GET /report median ms" "$(wrk_pct "$out/report" 50)" - - "" "< 50 ms" \
	"$(goal "$(wrk_pct "$out/report" 50)" "<" 50)"
row "GET /report p99 ms" "$(wrk_pct "$out/report" 99)" - - "" "" ""
row "  requests (errors), status" "$(wrk_requests "$out/report") ($(wrk_errors \
	"$out/report"))" - - "" "" "report status: ${report_status:-?}"
row "RSS idle, MiB" "$(mib "${rss0[WSD]}")" "$(mib "${rss0[NGX]}")" \
	"$(mib "${rss0[NE]}")" "$(ratio "${rss0[WSD]}" "${rss0[NGX]}")" "< 4 MiB" \
	"$(goal "${rss0[WSD]}" "<" 4096)"
row "RSS after $MEM_N requests, MiB" "$(mib "${rss1[WSD]}")" \
	"$(mib "${rss1[NGX]}")" "$(mib "${rss1[NE]}")" \
	"$(ratio "${rss1[WSD]}" "${rss1[NGX]}")" "" ""
row "RSS growth, MiB" "$(mib "$(grow WSD)")" "$(mib "$(grow NGX)")" \
	"$(mib "$(grow NE)")" "" "< 1 MiB" "$(goal "$(grow WSD)" "<" 1024)"
row "  anonymous RSS idle/after, MiB" \
	"$(mib "${anon0[WSD]}")/$(mib "${anon1[WSD]}")" \
	"$(mib "${anon0[NGX]}")/$(mib "${anon1[NGX]}")" \
	"$(mib "${anon0[NE]}")/$(mib "${anon1[NE]}")" "" "" ""
row "  PSS idle/after, MiB" \
	"$(mib "${pss0[WSD]}")/$(mib "${pss1[WSD]}")" \
	"$(mib "${pss0[NGX]}")/$(mib "${pss1[NGX]}")" \
	"$(mib "${pss0[NE]}")/$(mib "${pss1[NE]}")" "" "" ""
row "RSS at the end of the run, MiB" "$(mib "${rss2[WSD]}")" \
	"$(mib "${rss2[NGX]}")" "$(mib "${rss2[NE]}")" "" "" ""
cat <<EOF

RSS: VmRSS from /proc (nginx: master + workers); shared library pages
count in full in each process, PSS shares them out. The $MEM_N requests are
keep-alive GETs over $CONNS connections, /health on wsusdiagd and nginx,
/ on node_exporter. Ratios are wsusdiagd / nginx; for p99 and CPU lower
is better. Keep-alive: req/s and p99 are each server's median over the
rounds, the ratio is the median of the rounds' ratios (listed), CPU is
over all rounds. Server CPU: user + system time of the server's processes
during the run, per request (wrk's count) or per connection (s_time's).
EOF
