# vippsmgmt: `make test` is the whole suite CI runs; the rest are for longer or manual runs.
GO ?= go

.PHONY: test check unit fuzz-short newman run fuzz soak hostile bench import-bench generate screenshots dist image

test: check unit fuzz-short newman

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff
	bash -n .ci/run scripts/*.sh postman/*.sh

unit:
	$(GO) test -race -count=1 -timeout 40m ./...

fuzz-short:
	FUZZTIME=10s FUZZMINIMIZETIME=0s ./scripts/fuzz-short.sh

newman:
	./postman/run-newman.sh

run:
	$(GO) run ./cmd/vippsmgmt serve

fuzz:
	FUZZTIME=$${FUZZTIME:-5m} ./scripts/fuzz-short.sh

generate:
	cd api && $(GO) generate
	cd internal/openapi && $(GO) generate
	cd client/internal/openapi && $(GO) generate

# Scale figures at full size (100,000 sales units) against a built server process; see docs/performance.md.
bench:
	$(GO) run ./cmd/vippsmgmt-load scale

# `vippsmgmt import` of a 10,000-unit account from a local "production" server: time, the source's
# request count, and a twin started from the file.
import-bench:
	$(GO) test -run '^TestImportLarge$$' -count=1 -v -timeout 60m ./cmd/vippsmgmt -import-units=10000

# 60 s at 200 req/s over a realistic mix; fails on any error or 64 MiB of RSS growth.
soak:
	$(GO) run ./cmd/vippsmgmt-load soak --duration 60s

# 60 s of hostile traffic (huge headers, long methods, big bodies and fields, token floods with wrong
# secrets, slow and idle connections); fails on any failed legitimate request or RSS over 256 MiB.
hostile:
	$(GO) run ./cmd/vippsmgmt-load hostile --duration 60s

# The README's pictures of the merchant form and the console queue, from a running server (needs Chromium).
screenshots:
	$(GO) test -run '^TestScreenshots$$' -count=1 ./internal/portal -screenshots

# Release archives for every platform and dist/SHA256SUMS: make dist VERSION=1.2.3 (reproducible:
# the same commit and Go version give byte-identical files).
dist:
	@test -n "$(VERSION)" || { echo "usage: make dist VERSION=x.y.z"; exit 2; }
	rm -rf dist
	$(GO) run ./cmd/vippsmgmt-release dist --version $(VERSION) --out dist

# The container image with buildah (or podman): localhost/vippsmgmt:dev, or :$(VERSION) when given.
# IMAGE_SAVE=path.tar also writes it as a docker-archive (for docker load / podman load);
# IMAGE_TOOL_FLAGS="--storage-driver vfs" where overlayfs is not available (inside a container).
image:
	$(GO) run ./cmd/vippsmgmt-release image --version "$(VERSION)" --tool-flags "$(IMAGE_TOOL_FLAGS)" $(if $(IMAGE_SAVE),--save $(IMAGE_SAVE))
