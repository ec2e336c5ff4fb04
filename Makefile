# The two commands: `make start` and `make test`. Everything else is a helper.
# npm scripts run on the project's own Node 24 (the node@24 devDependency).

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: start test install typecheck bench-ingest bench-pages bench-orders test-browser screenshots clean-data help

help:
	@echo "make start         install what is missing, start Postgres (embedded unless DATABASE_URL), migrate, seed a demo, serve"
	@echo "make test          run the test suite (embedded Postgres unless DATABASE_URL); ends with N passed, N failed"
	@echo "make help          list these targets"
	@echo "make install       install the npm packages (and the project's Node 24) when package.json or the lock file changed"
	@echo "make typecheck     type-check with tsc"
	@echo "make test-browser  run only the headless Chromium tests (test/browser/)"
	@echo "make screenshots   walk the README's tour in Chromium and write its screenshots to docs/screenshots/"
	@echo "make bench-ingest  run the ingest benchmark (minutes; not part of the tests)"
	@echo "make bench-pages   run the stats pages benchmark (seeds 1M and 10M sales once; long)"
	@echo "make bench-orders  run the order workflow benchmark (checkout to invoice e-mail, web and worker processes)"
	@echo "make clean-data    delete the embedded Postgres data (under .data/, or /var/lib/tanktop as root from a private folder; stop make start first)"

# Installs when package.json or the lock file changed since the last install.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 or newer (it brings npm)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

start: install
	npm run start

test: install
	npm test

typecheck: install
	npm run typecheck

bench-ingest: install
	npm run bench:ingest

bench-pages: install
	npm run bench:pages

bench-orders: install
	npm run bench:orders

test-browser: install
	npm run test:browser

screenshots: install
	npm run screenshots

# As root in a folder the postgres user cannot reach, the embedded cluster is
# kept under /var/lib/tanktop instead, in a folder named by the sha256 of
# .data/postgres's path (src/db/embedded-postgres-data-dir.ts).
clean-data:
	rm -rf .data
	rm -rf "/var/lib/tanktop/$$(printf '%s' '$(CURDIR)/.data/postgres' | sha256sum | cut -c1-16)"
