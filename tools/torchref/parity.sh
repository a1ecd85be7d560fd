#!/bin/sh
# parity.sh: one SimCLR step in vkclr and in PyTorch from the same weights and
# views, for both stems (tools/torchref/dump, then parity.py); see TESTING.md.
#   PARITY_DIR (default /tmp/vkclr-parity) holds the dumps (~250 MB per stem).
set -u
dir=${PARITY_DIR:-/tmp/vkclr-parity}
rc=0
for stem in cifar imagenet; do
	go run ./tools/torchref/dump -out "$dir/$stem" -stem "$stem" || exit 1
	/usr/bin/python3 tools/torchref/parity.py "$dir/$stem" || rc=1
done
exit $rc
