#!/usr/bin/env bash
# Build and run the libFuzzer targets of fuzz/ (clang, ASan + UBSan).
#   scripts/fuzz.sh TARGET SECONDS   one target (http, json_body, config,
#                                    simhost, wulog, errcode, tls)
#   scripts/fuzz.sh --all SECONDS    every target, two at a time; exits
#                                    non-zero naming those that failed
# Each run starts from fuzz/corpus/TARGET copied into BUILD/fuzz-corpus
# (the repository is never written); crashes, leaks and timeouts are
# written to BUILD/crashes/TARGET/, the log to BUILD/crashes/TARGET.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=(http json_body config simhost wulog errcode tls reqhead)

usage() {
	echo "usage: scripts/fuzz.sh TARGET|--all SECONDS (targets: ${targets[*]})" >&2
	exit 2
}

build_targets() {
	local log=$build/fuzz-build.log

	mkdir -p "$build"
	if ! { [ -f "$build/CMakeCache.txt" ] ||
		cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSUSDIAG_FUZZ=ON \
			-DWSUSDIAG_TESTS=OFF; } >"$log" 2>&1 ||
		! cmake --build "$build" -j2 >>"$log" 2>&1; then
		cat "$log" >&2
		echo "fuzz.sh: the fuzz build failed" >&2
		exit 1
	fi
}

# run TARGET SECONDS: 0 when the target found nothing.
run() {
	local t=$1 secs=$2 corpus=$build/fuzz-corpus/$1 out=$build/crashes/$1
	local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
		-max_len=16384 -print_final_stats=1 -artifact_prefix="$out/")
	local rc f

	mkdir -p "$corpus" "$out"
	cp -n "$root/fuzz/corpus/$t/"* "$corpus/"
	[ -f "$root/fuzz/$t.dict" ] && args+=(-dict="$root/fuzz/$t.dict")
	touch "$out.start"
	# The API targets' actions write audit lines to stderr: left out.
	{
		rc=0
		"$build/fuzz/fuzz_$t" "${args[@]}" "$corpus" 2>&1 || rc=$?
		echo "$rc" >"$out.rc"
	} | grep -av '^[0-9TZ:.-]* AUDIT {' >"$out.log" || true
	rc=$(cat "$out.rc")
	f=$(grep -a ' cov: ' "$out.log" | tail -1 || true)
	echo "fuzz_$t: ${f:-stopped before fuzzing}"
	[ "$rc" -eq 0 ] && return 0
	echo "fuzz_$t: FAILED (exit $rc); log: $out.log" >&2
	grep -aE '^(==[0-9]+==ERROR|SUMMARY|fuzz: )' "$out.log" | head -5 >&2 || true
	find "$out" -type f -newer "$out.start" | while read -r f; do
		echo "  reproduce: $build/fuzz/fuzz_$t $f" >&2
	done
	return "$rc"
}

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then usage; fi
build_targets
if [ "$1" != "--all" ]; then
	t=${1#fuzz_}
	[[ " ${targets[*]} " == *" $t "* ]] || usage
	run "$t" "$2"
	exit
fi

# Two at a time (the machine has two cores); a clean run leaves t.ok.
verdicts=$build/crashes/verdicts
rm -rf "$verdicts"
mkdir -p "$verdicts"
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
	(if run "$t" "$2"; then touch "$verdicts/$t.ok"; fi) &
done
wait
failed=()
for t in "${targets[@]}"; do
	[ -f "$verdicts/$t.ok" ] || failed+=("$t")
done
if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz.sh: failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${2} s each without a finding"
