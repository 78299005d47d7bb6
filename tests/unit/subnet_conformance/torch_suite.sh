#!/usr/bin/env bash
# The conformance suite on a libtorch subnet plugin, with a model merit-train makes first (as
# tests/functional/fashion_mnist_subnet_test.sh and charlm_subnet_test.sh do).
# Usage: torch_suite.sh fashion_mnist|charlm MERIT_SUBNET_CHECK MERIT_TRAIN SUBNET_DIR
set -uo pipefail
which=$1 tool=$2 train=$3 subnets=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/merit_conformance_${which}_XXXXXX")
trap 'rm -rf "$work"' EXIT
case $which in
fashion_mnist)
  [[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]] \
    || { echo "FAIL - Fashion-MNIST data missing: apt-get install dataset-fashion-mnist"; exit 1; }
  "$train" fashion-mnist --epochs 0.1 --seed 1 --threads 2 --out "$work/model.pt" > "$work/train.out" 2>&1 \
    || { tail -5 "$work/train.out"; exit 1; }
  min_honest=0.5   # a tenth of an epoch of training: about 0.68 here, far above chance, not perfect
  ;;
charlm)
  "$train" charlm --steps 150 --hidden 64 --batch-size 32 --lr 0.01 --seed 1 --threads 2 --out "$work/model.pt" \
    > "$work/train.out" 2>&1 || { tail -5 "$work/train.out"; exit 1; }
  min_honest=0.4   # log-likelihood against the uniform baseline: about 0.59 after 150 steps here
  ;;
*) echo "unknown plugin $which"; exit 2 ;;
esac
printf 'model: %s\ndevice: cpu\nintra_op_threads: 1\n' "$work/model.pt" > "$work/miner.yaml"
# Both roles accept every key of these plugins, so one file serves the miner and the validator.
"$tool" --suite "$which" --subnet-path "$subnets" --config "$work/miner.yaml" --min-honest "$min_honest" \
  --fuzz-cases 100 --check-timeout 120
