#!/bin/sh
# gemm_compare.sh runs BenchmarkSgemm (package kernels) and
# bench/gemm_compare.py (numpy and torch SGEMM) back to back, at the same
# square sizes and thread counts, and prints GFLOP/s with the ratios
# Go/numpy and Go/torch. Each figure is the median of COUNT runs.
# Needs go, and python3 with numpy and torch (Debian: python3-numpy,
# python3-torch; libopenblas0-pthread for numpy to use OpenBLAS rather
# than the reference BLAS).
#
#   bench/gemm_compare.sh                    # sizes 64…2048, 1 and 2 threads
#   COUNT=5 BENCHTIME=300ms bench/gemm_compare.sh
#   SIZES=64,256,1024,2048 bench/gemm_compare.sh
#
# Keep it short on shared machines: the defaults take about a minute.
set -eu
cd "$(dirname "$0")/.."
count=${COUNT:-3}
benchtime=${BENCHTIME:-200ms}
python=${PYTHON:-/usr/bin/python3}
sizes=${SIZES:-64,128,256,512,1024,2048}
goregex="^BenchmarkSgemm\$/^n=($(echo "$sizes" | tr , '|'))\$/"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Alternate the two sides run by run, so load from other users of the
# machine falls on both alike.
mintime=$(echo "$benchtime" | sed -n 's/ms$//p' | awk '{ if ($1 != "") print $1/1000 }')
i=0
while [ "$i" -lt "$count" ]; do
	go test -run '^$' -bench "$goregex" -benchtime="$benchtime" -count=1 ./kernels/ >>"$tmp/go.txt"
	"$python" bench/gemm_compare.py --count 1 --sizes "$sizes" --min-time "${mintime:-0.2}" >>"$tmp/py.txt" 2>"$tmp/py.err"
	i=$((i + 1))
done
sort -u "$tmp/py.err"

awk '
	# Go: BenchmarkSgemm/n=64/threads=1-2  N  ns/op  X GFLOP/s ...
	FILENAME ~ /go.txt$/ && /^BenchmarkSgemm\// {
		split($1, f, "/"); n = substr(f[2], 3); t = f[3]; sub(/^threads=/, "", t); sub(/-[0-9]+$/, "", t)
		for (i = 2; i < NF; i++) if ($(i+1) == "GFLOP/s") { k = t SUBSEP n; gof[k] = gof[k] " " $i }
		if (!(n in seen)) { seen[n] = 1; sizes[++ns] = n }
		next
	}
	# Python: LIB THREADS N GFLOPS
	FILENAME ~ /py.txt$/ { k = $1 SUBSEP $2 SUBSEP $3; lib[k] = lib[k] " " $4 }
	function median(s,   v, m, i, j, x) {
		m = split(s, v, " ")
		if (m == 0) return 0
		for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > x + 0; j--) v[j+1] = v[j]; v[j+1] = x }
		return m % 2 ? v[(m+1)/2] : (v[m/2] + v[m/2+1]) / 2
	}
	function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
	END {
		printf "%-7s %-5s %9s %9s %9s %8s %8s\n", "threads", "n", "go", "numpy", "torch", "go/np", "go/torch"
		for (t = 1; t <= 2; t++) for (i = 1; i <= ns; i++) {
			n = sizes[i]; k = t SUBSEP n
			if (!(k in gof)) continue
			g = median(gof[k]); np = median(lib["numpy" SUBSEP t SUBSEP n]); th = median(lib["torch" SUBSEP t SUBSEP n])
			printf "%-7s %-5s %9.1f %9.1f %9.1f %8s %8s\n", t, n, g, np, th, ratio(g, np), ratio(g, th)
		}
		print "GFLOP/s, median of '"$count"' alternating runs; numpy and torch use the BLAS named in the # lines."
	}
' "$tmp/go.txt" "$tmp/py.txt"
