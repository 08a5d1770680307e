#!/bin/sh
# cnn_compare.sh runs BenchmarkCNNTrainStep and BenchmarkCNNInference
# (package nn: issue 10's MNIST CNN, training at batch 64, inference at
# batch 1000) and bench/cnn_compare.py (the same workloads in PyTorch),
# alternating the two sides COUNT times so that load from other users of
# the machine falls on both alike, and prints the median samples/s with
# the ratio nabla/PyTorch, the same per CPU-second (the process's CPU time,
# all threads: on a machine shared with other processes, the work a step
# takes, whatever share of the cores the benchmark got), and each side's
# peak RSS (the Go side measured
# by /usr/bin/time on one benchmark process per workload and thread count).
# Needs go, /usr/bin/time and /usr/bin/python3 with Debian's python3-torch.
#
#   bench/cnn_compare.sh                      # a few minutes
#   COUNT=3 BENCHTIME=3s bench/cnn_compare.sh
set -eu
cd "$(dirname "$0")/.."
benchtime=${BENCHTIME:-2s}
count=${COUNT:-1}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/nn.test" ./nn/
i=0
while [ "$i" -lt "$count" ]; do
	for t in 1 2; do
		for w in TrainStep/batch=64 Inference/batch=1000; do
			/usr/bin/time -f "go rss $w $t %M" -a -o "$tmp/rss.txt" \
				"$tmp/nn.test" -test.run '^$' -test.bench "^BenchmarkCNN$w/threads=$t\$" -test.benchtime="$benchtime" >>"$tmp/go.txt"
		done
	done
	"$python" bench/cnn_compare.py --min-time "$(echo "$benchtime" | sed 's/s$//')" >>"$tmp/py.txt"
	i=$((i + 1))
done
awk '
	function median(s,   v, m, i, j, x) {
		m = split(s, v, " ")
		if (m == 0) return 0
		for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > x + 0; j--) v[j+1] = v[j]; v[j+1] = x }
		return m % 2 ? v[(m+1)/2] : (v[m/2] + v[m/2+1]) / 2
	}
	# torch KIND BATCH THREADS SAMPLES/S, or torch rss THREADS KIB
	FILENAME ~ /py.txt$/ && $2 == "rss" { if ($4 > trss[$3]) trss[$3] = $4; next }
	FILENAME ~ /py.txt$/ { torch[$2 " " $4] = torch[$2 " " $4] " " $5; tcpu[$2 " " $4] = tcpu[$2 " " $4] " " $6; next }
	# go rss TrainStep/batch=64 THREADS KIB
	FILENAME ~ /rss.txt$/ { k = ($3 ~ /^Train/ ? "train" : "infer") " " $4; if ($5 > grss[k]) grss[k] = $5; if ($5 > grssT[$4]) grssT[$4] = $5; next }
	/^BenchmarkCNN/ {
		split($1, f, "/"); kind = (f[1] ~ /TrainStep/) ? "train" : "infer"
		b = f[2]; sub(/^batch=/, "", b); t = f[3]; sub(/^threads=/, "", t); sub(/-[0-9]+$/, "", t)
		for (i = 2; i < NF; i++) { if ($(i+1) == "samples/s") v = $i; if ($(i+1) == "samples/CPU-s") c = $i }
		k = kind " " t
		if (!(k in batch)) order[++n] = k
		batch[k] = b; go[k] = go[k] " " v; gcpu[k] = gcpu[k] " " c
	}
	END {
		printf "%-6s %6s %7s %10s %10s %7s %12s %12s %7s %11s %11s\n", "kind", "batch", "threads", "nabla/s", "torch/s", "ratio", "nabla/CPU-s", "torch/CPU-s", "ratio", "nabla RSS", "torch RSS"
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, p, " "); g = median(go[k]); h = median(torch[k]); gc = median(gcpu[k]); hc = median(tcpu[k])
			printf "%-6s %6s %7s %10.0f %10.0f %7s %12.0f %12.0f %7s %9.0fMB %9.0fMB\n", p[1], batch[k], p[2], g, h, (h > 0 ? sprintf("%.2f", g / h) : "-"), gc, hc, (hc > 0 ? sprintf("%.2f", gc / hc) : "-"), grss[k] / 1024, trss[p[2]] / 1024
		}
		print "samples/s and samples per CPU-second, medians of '"$count"' alternating runs; RSS: peak of the Go benchmark process for that workload, of the torch child for both workloads."
	}' "$tmp/py.txt" "$tmp/rss.txt" "$tmp/go.txt"
