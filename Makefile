# make test   runs every test on SQLite and on a throwaway PostgreSQL cluster
#             (SQLite only, with a loud warning, when PostgreSQL is not
#             installed; TOUCHBASE_REQUIRE_PG=1 makes that a failure).
# make build  builds bin/touchbase without cgo.
# make vet    checks formatting and runs go vet and staticcheck.

GO ?= go
TESTFLAGS ?= -timeout 15m
# Pinned (the module proxy here serves stale @latest); runs with our Go.
STATICCHECK ?= v0.6.1

.PHONY: test build vet

test:
	scripts/with-postgres $(GO) test $(TESTFLAGS) ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/touchbase ./cmd/touchbase

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK) ./...
