#!/bin/sh
# mlp_compare.sh runs BenchmarkMLPTrainStep, BenchmarkMLPInference (batch
# 1000) and BenchmarkMLPLatency (batch 1) (package train) and
# bench/mlp_compare.py (the same workloads in PyTorch), alternating the
# two sides COUNT times so that load from other users of the machine falls
# on both alike, and prints the median samples/s of each with the ratio
# nabla/PyTorch (at batch 1, the ratio of PyTorch's latency to nabla's)
# and, with COUNT above 1, the range of the per-run ratios.
# Needs go and /usr/bin/python3 with Debian's python3-torch.
#
#   bench/mlp_compare.sh                      # about a minute
#   COUNT=3 BENCHTIME=2s bench/mlp_compare.sh # about three
set -eu
cd "$(dirname "$0")/.."
benchtime=${BENCHTIME:-2s}
count=${COUNT:-1}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/train.test" ./train/
i=0
while [ "$i" -lt "$count" ]; do
	echo "run $i" >>"$tmp/go.txt"
	"$tmp/train.test" -test.run '^$' -test.bench '^BenchmarkMLP(TrainStep|Inference|Latency)$' -test.benchtime="$benchtime" >>"$tmp/go.txt"
	echo "run $i" >>"$tmp/py.txt"
	"$python" bench/mlp_compare.py --min-time "$(echo "$benchtime" | sed 's/s$//')" >>"$tmp/py.txt"
	i=$((i + 1))
done
awk '
	function median(s,   v, m, i, j, x) {
		m = split(s, v, " ")
		if (m == 0) return 0
		for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > x + 0; j--) v[j+1] = v[j]; v[j+1] = x }
		return m % 2 ? v[(m+1)/2] : (v[m/2] + v[m/2+1]) / 2
	}
	/^run / { run = $2; next }
	# torch KIND ARCH BATCH THREADS SAMPLES/S
	FILENAME ~ /py.txt$/ { k = $2 " " $3 " " $4 " " $5; torch[k] = torch[k] " " $6; trun[k, run] = $6; next }
	/^BenchmarkMLP/ {
		split($1, f, "/"); kind = (f[1] ~ /TrainStep/) ? "train" : "infer"
		b = f[3]; sub(/^batch=/, "", b); t = f[4]; sub(/^threads=/, "", t); sub(/-[0-9]+$/, "", t)
		for (i = 2; i < NF; i++) if ($(i+1) == "samples/s") v = $i
		k = kind " " f[2] " " b " " t
		if (!(k in go)) order[++n] = k
		go[k] = go[k] " " v; grun[k, run] = v
	}
	END {
		printf "%-6s %-16s %6s %7s %12s %12s %7s %13s\n", "kind", "network", "batch", "threads", "nabla/s", "torch/s", "ratio", "range"
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, p, " "); g = median(go[k]); h = median(torch[k])
			lo = ""; hi = ""
			for (r = 0; r < '"$count"'; r++) if (trun[k, r] > 0 && grun[k, r] > 0) {
				x = grun[k, r] / trun[k, r]
				if (lo == "" || x < lo) lo = x
				if (hi == "" || x > hi) hi = x
			}
			printf "%-6s %-16s %6s %7s %12.0f %12.0f %7s %13s\n", p[1], p[2], p[3], p[4], g, h, (h > 0 ? sprintf("%.2f", g / h) : "-"), ('"$count"' > 1 && lo != "" ? sprintf("%.2f-%.2f", lo, hi) : "-")
		}
		print "samples/s: medians of '"$count"' alternating runs; range: the ratio of each run."
	}' "$tmp/py.txt" "$tmp/go.txt"
