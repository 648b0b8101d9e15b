# Entraide — thin entry points. The build is CMake's; the tests are ctest's.
#   make demo   install what is missing, build, create var/demo.sqlite, serve :8080
#               (the web map as built by web/build.mjs, from build/web)
#   make test   install what is missing, build (Release and ASan+UBSan), run ctest:
#               every test on Release, again under the sanitizers but the outside
#               clients, the browser and the API tests' PostgreSQL repeats;
#               then the concurrency test on a ThreadSanitizer build of mapd (build-tsan)
#   make bench  run the benchmarks of tests/bench against their peers
#   make bench-tiles  only the vector tile benchmarks (PostGIS, nginx, ogr2ogr, Node)
#   make bench-web    the web map on a slow phone (50 KB/s, 2 s latency) and a
#                     desktop, unbundled sources against the built site (tests/bench/phone.mjs)
#   make scale-data [PRESET=france|2m|small]  the synthetic France of tests/scale/make_france.py
#               (26 million addresses, 50,176 neighbourhoods by default) into var/scale/PRESET
#   make bench-scale [PRESET=...]  the service at that size (tests/bench/scale.sh)
#   make install [PREFIX=/usr/local] [DESTDIR=]  build, then install bin/mapd, the web
#               map (share/entraide/web, served by default) and the docs (share/doc/entraide)
#   make screenshots [ONLY=SCENARIO]  run the browser tests on the built site and copy
#               their screenshots into docs/screenshots (tests write them to build/ only)

SHELL := /bin/bash
# `mapd serve` refuses to run as root unless told to (docs/security.md); the
# demo, the tests and the benchmarks started from here are told to, since
# build and CI machines often run everything as root.
export MAPD_ALLOW_ROOT := 1
JOBS  := $(shell nproc)
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages: build, run, test and benchmark dependencies.
APT_PACKAGES := cmake make gcc pkg-config python3 curl ca-certificates time \
  libgeos-dev libproj-dev proj-data libgdal-dev gdal-bin \
  libsqlite3-dev sqlite3 libsqlite3-mod-spatialite \
  libmicrohttpd-dev libjansson-dev libsodium-dev zlib1g-dev libxxhash-dev libcmocka-dev \
  libcurl4-gnutls-dev nginx \
  postgresql-15 postgresql-15-postgis-3 postgresql-client-15 libpq-dev haproxy python3-psycopg2 \
  chromium fonts-dejavu-core \
  python3-gdal python3-numpy python3-owslib python3-qgis qgis-providers

# npm packages: the web map's, and the JavaScript test tools' (installed from
# each directory's package-lock.json).
NPM_DIRS := web tests/tiles/js tests/e2e tests/api

SAMPLE := geodata/samples/paris
DEMO_CREDITS := Quartiers: Ville de Paris (ODbL); addresses: Base Adresse Nationale (Licence Ouverte 2.0); shops: © OpenStreetMap contributors (ODbL)
DEMO_DB := var/demo.sqlite
MAPD := build/bin/mapd
PREFIX ?= /usr/local
SHOTS := build/e2e-screenshots

.PHONY: demo test deps build build-asan build-tsan bench bench-tiles bench-web bench-scale scale-data \
        install screenshots clean

deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@command -v npm >/dev/null || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends nodejs npm; }
	@for d in $(NPM_DIRS); do \
	  if [ -f $$d/package-lock.json ]; then \
	    (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; fi; done

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DENTRAIDE_WERROR=ON
	cmake --build build -j$(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DENTRAIDE_WERROR=ON -DENTRAIDE_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)

# ThreadSanitizer: only mapd, for the concurrency test (tests/api/test_concurrency.py).
build-tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DENTRAIDE_WERROR=ON -DENTRAIDE_TSAN=ON
	cmake --build build-tsan --target mapd -j$(JOBS)

# Built under another name and renamed last, so an interrupted build is redone.
$(DEMO_DB):
	mkdir -p var
	rm -f $@.tmp $@.tmp-wal $@.tmp-shm
	$(MAPD) import neighbourhoods $(SAMPLE)/neighbourhoods.geojson --db $@.tmp
	$(MAPD) import addresses $(SAMPLE)/addresses.csv.gz --db $@.tmp
	$(MAPD) import shops $(SAMPLE)/shops.geojson --db $@.tmp
	$(MAPD) seed --db $@.tmp --posts 300
	mv $@.tmp $@

demo: build
	@$(MAKE) --no-print-directory $(DEMO_DB)
	$(MAPD) serve --db $(DEMO_DB) --listen 127.0.0.1:8080 --web build/web --attribution "$(DEMO_CREDITS)"

test: build build-asan build-tsan
	ctest --test-dir build --output-on-failure -j2
	ctest --test-dir build-asan --output-on-failure -j2 -LE 'clients|e2e|pgapi'
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ENTRAIDE_CONCURRENCY_SETUP_MAPD=$(CURDIR)/$(MAPD) \
	  ctest --test-dir build-tsan -L concurrency --output-on-failure

bench: build
	tests/bench/import_addresses.sh
	tests/bench/export.sh build/bin/mapd
	tests/bench/geocode.sh build
	tests/bench/api.sh build
	tests/bench/web.sh build
	$(MAKE) --no-print-directory bench-tiles

bench-web: build
	node tests/bench/phone.mjs $(MAPD) . --web build/web

bench-tiles: build
	tests/bench/tiles.sh build
	tests/bench/tiles_http.sh build
	tests/bench/tiles_pyramid.sh build

PRESET ?= france
scale-data: deps
	/usr/bin/python3 tests/scale/make_france.py $(PRESET) var/scale/$(PRESET)

bench-scale: build
	tests/bench/scale.sh $(PRESET) build

# DESTDIR (staged installs, packaging) is honoured by cmake --install.
install: build
	DESTDIR="$(DESTDIR)" cmake --install build --prefix "$(PREFIX)"

# The browser suite's screenshots, for the docs: copied only when it passes.
screenshots: build
	rm -rf $(SHOTS)
	node tests/e2e/run.mjs $(MAPD) . --web build/web --budget-ms 20000 --shots $(SHOTS) $(if $(ONLY),--only $(ONLY))
	cp $(SHOTS)/*.png docs/screenshots/

clean:
	rm -rf build build-asan build-tsan
