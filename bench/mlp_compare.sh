#!/bin/sh
# mlp_compare.sh runs BenchmarkMLPTrainStep, BenchmarkMLPInference (batch
# 1000) and BenchmarkMLPLatency (batch 1) (package train) and
# bench/mlp_compare.py (the same workloads in PyTorch) back to back and
# prints samples/s with the ratio nabla/PyTorch (at batch 1, the ratio of
# PyTorch's latency to nabla's).
# Needs go and /usr/bin/python3 with Debian's python3-torch.
#
#   bench/mlp_compare.sh              # about a minute
#   BENCHTIME=3s bench/mlp_compare.sh
set -eu
cd "$(dirname "$0")/.."
benchtime=${BENCHTIME:-2s}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -run '^$' -bench '^BenchmarkMLP(TrainStep|Inference|Latency)$' -benchtime="$benchtime" ./train/ >"$tmp/go.txt"
"$python" bench/mlp_compare.py --min-time "$(echo "$benchtime" | sed 's/s$//')" >"$tmp/py.txt"
awk '
	FILENAME ~ /py.txt$/ { torch[$2 " " $3 " " $4 " " $5] = $6; next }
	/^BenchmarkMLP/ {
		split($1, f, "/"); kind = (f[1] ~ /TrainStep/) ? "train" : "infer"
		b = f[3]; sub(/^batch=/, "", b); t = f[4]; sub(/^threads=/, "", t); sub(/-[0-9]+$/, "", t)
		for (i = 2; i < NF; i++) if ($(i+1) == "samples/s") v = $i
		key = kind " " f[2] " " b " " t
		order[++n] = key; go[key] = v
	}
	END {
		printf "%-6s %-16s %6s %7s %12s %12s %7s\n", "kind", "network", "batch", "threads", "nabla/s", "torch/s", "ratio"
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, p, " ")
			r = (torch[k] > 0) ? sprintf("%.2f", go[k] / torch[k]) : "-"
			printf "%-6s %-16s %6s %7s %12.0f %12.0f %7s\n", p[1], p[2], p[3], p[4], go[k], torch[k], r
		}
	}' "$tmp/py.txt" "$tmp/go.txt"
