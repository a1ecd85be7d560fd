#!/bin/sh
# parity.sh: one SimCLR step in vkclr and in PyTorch from the same weights and
# views (tools/torchref/dump, then parity.py); see TESTING.md.
#
# The gate: the cifar stem at 8 px and the imagenet stem at 32 px, points where
# float32 can meet the 1e-4 tolerance (parity.py prints the floor that says so).
# Then, for information, the cifar stem at 32 px: there 32x32 maps put some
# ReLU pre-activations within float32 rounding of zero, and one flipped ReLU
# decision moves a gradient by 1e-2 of its tensor (tools/torchref/relu_flip.py
# shows which); parity.py prints its floor and verdict without failing on it.
#   PARITY_DIR (default /tmp/vkclr-parity) holds the dumps (~250 MB per run).
set -u
dir=${PARITY_DIR:-/tmp/vkclr-parity}
rc=0
for run in cifar:8 imagenet:32 cifar:32:informational; do
	stem=${run%%:*}
	rest=${run#*:}
	size=${rest%%:*}
	flag=
	[ "$rest" != "$size" ] && flag=--informational
	out="$dir/$stem$size"
	go run ./tools/torchref/dump -out "$out" -stem "$stem" -size "$size" || exit 1
	/usr/bin/python3 tools/torchref/parity.py "$out" $flag || rc=1
done
[ $rc = 0 ] && echo "parity: ok (gate: cifar stem 8 px, imagenet stem 32 px)" || echo "parity: FAIL"
exit $rc
