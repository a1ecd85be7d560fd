# vkclr: `make demo` (the main job) and `make test` work on a fresh Debian 12 machine with Go.
GO ?= go
BIN := bin/vkclr

.PHONY: all deps deps-mpi build build-mpi shaders lint test demo bench gpu-bundle clean fuzz viewer mutate parity lavapipe

all: build

deps:
	@tools/deps.sh

# Building installs nothing: `make deps` (or demo, test) installs the system packages.
build:
	@$(GO) build -o $(BIN) ./cmd/vkclr || { echo "build failed: missing Vulkan headers? run 'make deps' (installs libvulkan-dev and the rest)" >&2; exit 1; }

# The MPI build (data-parallel training under mpirun, see README "Several GPUs
# and machines"): links Open MPI's libmpi; the default build does not.
# `make deps-mpi` installs Open MPI for it.
deps-mpi:
	@tools/deps.sh mpi

build-mpi:
	@$(GO) build -tags mpi -o bin/vkclr-mpi ./cmd/vkclr || { echo "build failed: missing Open MPI? run 'make deps-mpi' (installs openmpi-bin, libopenmpi-dev)" >&2; exit 1; }

# Recompile shaders/*.comp to shaders/spv/*.spv and the manifest.
shaders: deps
	cd shaders && $(GO) run ../tools/shadergen -dir .

lint: deps
	@for f in shaders/spv/*.spv; do spirv-val --target-env vulkan1.2 $$f || exit 1; done
	@echo "spirv-val: $$(ls shaders/spv/*.spv | wc -l) modules valid"

# gofmt, go vet, SPIR-V validation, then every test with the validation layer on
# (synchronization validation included: vk turns it on with the layer) and cgo's
# full pointer checks (cgocheck2: no Go pointer may be stored in C memory, which
# the binding's struct helpers do; vk makes those calls from C, vk/ccall.h).
test: deps
	@tools/deps.sh viewer mpi
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags viewer ./cmd/vkclr
	$(GO) vet -tags mpi ./train/mpi ./cmd/vkclr
	@$(MAKE) --no-print-directory lint
	GOEXPERIMENT=cgocheck2 VKCLR_VALIDATE=1 $(GO) test -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory fuzz

# bin/vkclr-view: vkclr with `vkclr view` (glfw, X11), apart from the headless bin/vkclr.
viewer:
	@tools/deps.sh viewer
	$(GO) build -tags viewer -o bin/vkclr-view ./cmd/vkclr

# A short run of every parser's fuzz target (go test -fuzz takes one target per run).
# Counted in executions, not seconds: a time limit can expire inside a slow input, which
# go test reports as a failure ("context deadline exceeded").
FUZZRUNS ?= 2000
fuzz:
	@for t in FuzzParseCIFAR FuzzParseIDX FuzzDecodeImage FuzzLoadFolder; do \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZRUNS)x ./train/data || exit 1; \
	done
	@$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZRUNS)x ./model/safetensors

# Mutation check: plants each bug listed in tools/mutate/mutants.go, one at a time in a
# copy of the tree, runs the tests that must catch it; fails if one survives (TESTING.md).
mutate: deps
	$(GO) run ./tools/mutate

# One SimCLR step in vkclr and in PyTorch from the same weights and views, both stems:
# loss, gradients, weights after SGD, LARS and AdamW (TESTING.md). Not in `make test`: torch is large.
parity: deps
	@tools/deps.sh python3-torch python3-torchvision python3-numpy
	tools/torchref/parity.sh

# The Vulkan driver demo and bench run vkclr on. On a machine without a GPU whose CPU has AVX-512,
# Mesa 25.0.7's lavapipe built here on Debian 12's LLVM 19, with GLSL's fma() kept fused (once: 5-11
# minutes on 2 cores with its proof by vkclr selftest before use) runs the steps 1.46-1.58x faster
# than Debian 12's Mesa 22.3.6 (BENCHMARKS.md).
# tools/lavapipe/choose.sh has the rule and writes the loader variables to build/lavapipe/env
# (empty: the system's drivers). LAVAPIPE=system keeps the system's; LAVAPIPE=build builds it on any CPU.
LAVAPIPE ?= auto
export LAVAPIPE
LAVAPIPE_DIR := build/lavapipe
VKENV = env $$(cat $(LAVAPIPE_DIR)/env)

lavapipe: build
	@tools/lavapipe/choose.sh $(BIN) $(LAVAPIPE_DIR)

# The main job: pre-train the demo preset on Fashion-MNIST on the best Vulkan
# device, then linear evaluation and kNN beside a random-init encoder and the raw pixels.
DEMO_RUN ?= runs/demo
demo: deps build lavapipe
	@tools/deps.sh dataset-fashion-mnist
	$(VKENV) $(BIN) devices
	rm -rf $(DEMO_RUN)
	$(VKENV) $(BIN) train --preset demo --out $(DEMO_RUN)
	$(VKENV) $(BIN) eval linear --checkpoint $(DEMO_RUN)/last.safetensors --data fashion-mnist --subset 10000 --epochs 30 --baseline random,pixels
	$(VKENV) $(BIN) eval knn --checkpoint $(DEMO_RUN)/last.safetensors --data fashion-mnist --subset 10000 --baseline pixels

# vkclr's training step beside PyTorch's (CPU, all cores) on this machine, in one run.
# make bench ROUNDS=3: both sides three times, alternated, with the medians (tools/bench/compare.sh).
bench: deps build lavapipe
	@tools/bench/deps.sh
	@$(VKENV) tools/bench/compare.sh $(BIN)

# The binaries and loader a GPU machine without Go or network needs (see tools/gpu/README.md).
gpu-bundle: deps
	tools/gpu/bundle.sh

clean:
	rm -rf bin gpu-bundle build
