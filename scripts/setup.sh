#!/usr/bin/env bash
# Installs what driftwatch needs to build and test on a fresh Debian machine:
# libclang (pg_query's bindgen), a PostgreSQL server (initdb/postgres), and
# headless Chromium with a font (tests/report_html.rs renders the HTML report),
# aiosmtpd (the SMTP server tests/alerts sends to) and PgBouncer
# (tests/pgbouncer.rs).
# Runs apt-get as root, through sudo otherwise, and prints the exact command
# when neither is possible. Idempotent: does nothing when all is present.
set -euo pipefail

missing=()

have_libclang() {
  # libclang-cpp is a different library: bindgen needs libclang itself
  ldconfig -p 2>/dev/null | grep -qE 'libclang(-[0-9.]+)?\.so' && return 0
  ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-*.so* 2>/dev/null | grep -qv 'libclang-cpp'
}

have_postgres_server() {
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
  if command -v pg_config >/dev/null 2>&1; then
    local bindir; bindir=$(pg_config --bindir)
    [ -x "$bindir/initdb" ] && [ -x "$bindir/postgres" ] && return 0
  fi
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

have_libclang || missing+=(libclang-dev)
have_postgres_server || missing+=(postgresql postgresql-contrib)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/time ] || missing+=(time) # make bench measures peak RSS with it
command -v chromium >/dev/null 2>&1 || missing+=(chromium) # tests/report_html.rs
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core) # readable screenshots
# tests/alerts: the real SMTP server the alert tests send to (Debian's
# python3, not whatever python3 is first on PATH)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
# tests/pgbouncer.rs: the capture through a real connection pooler
{ command -v pgbouncer || [ -x /usr/sbin/pgbouncer ]; } >/dev/null 2>&1 || missing+=(pgbouncer)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sh -c "DEBIAN_FRONTEND=noninteractive $cmd"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo sh -c "DEBIAN_FRONTEND=noninteractive $cmd"
else
  echo "setup: missing ${missing[*]}; run as root: $cmd" >&2
  exit 2
fi
