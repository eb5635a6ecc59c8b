#!/usr/bin/env bash
# Installs real migration tools outside the repo and applies the fixture
# migration sets under fixtures/tools/<TOOL>/ with them, so tests can read the
# history tables the tools themselves write.
#
#   scripts/tools.sh install [TOOL...]      install (all when no TOOL); fast when done
#   scripts/tools.sh apply TOOL DATABASE_URL apply fixtures/tools/TOOL to that database
#   scripts/tools.sh path TOOL              print the command that runs TOOL
#   scripts/tools.sh check TOOL             exit 0 when TOOL is installed, 1 otherwise
#
# TOOL: sqlx dbmate node-pg-migrate knex alembic django
# Cache: ${DRIFTWATCH_TOOLS_DIR:-$HOME/.cache/driftwatch-tools}
# DATABASE_URL: postgres://user[:pass]@[host[:port]]/db[?host=/socket/dir&...]
# `apply` installs the tool first when it is missing (sqlx-cli builds for
# minutes: run `install sqlx` ahead of time).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES="$REPO/fixtures/tools"
DIR=${DRIFTWATCH_TOOLS_DIR:-$HOME/.cache/driftwatch-tools}

# Pinned versions. Changing one re-installs its group (the marker holds them).
SQLX_CLI_VERSION=0.9.0 # needs rustc >= 1.94
DBMATE_VERSION=2.36.0
NODE_PG_MIGRATE_VERSION=9.0.0 # needs node >= 20.11
KNEX_VERSION=3.3.0
PG_VERSION=8.23.1 # node-postgres, for knex and node-pg-migrate
ALEMBIC_VERSION=1.20.1
SQLALCHEMY_VERSION=2.0.58
PSYCOPG2_VERSION=2.9.13
DJANGO_VERSION=5.2.19

TOOLS=(sqlx dbmate node-pg-migrate knex alembic django)

die() {
  echo "tools.sh: $*" >&2
  exit 2
}

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

group_of() {
  case "$1" in
    sqlx) echo cargo ;;
    dbmate | node-pg-migrate | knex) echo npm ;;
    alembic | django) echo venv ;;
    *) die "unknown tool '$1' (one of: ${TOOLS[*]})" ;;
  esac
}

marker_text() {
  case "$1" in
    cargo) echo "sqlx-cli $SQLX_CLI_VERSION" ;;
    npm) echo "dbmate $DBMATE_VERSION node-pg-migrate $NODE_PG_MIGRATE_VERSION knex $KNEX_VERSION pg $PG_VERSION" ;;
    venv) echo "alembic $ALEMBIC_VERSION sqlalchemy $SQLALCHEMY_VERSION psycopg2-binary $PSYCOPG2_VERSION django $DJANGO_VERSION" ;;
  esac
}

marker_file() { echo "$DIR/.installed-$1"; }

# The file whose absence means the group must be reinstalled, marker or not.
probe_file() {
  case "$1" in
    cargo) echo "$DIR/cargo/bin/sqlx" ;;
    npm) echo "$DIR/npm/node_modules/.bin/node-pg-migrate" ;;
    venv) echo "$DIR/venv/bin/alembic" ;;
  esac
}

installed() {
  local g=$1 m
  m=$(marker_file "$g")
  [ -f "$m" ] && [ "$(cat "$m")" = "$(marker_text "$g")" ] && [ -x "$(probe_file "$g")" ]
}

# Runs a command quietly; prints its output and fails when it fails.
quiet() {
  local log rc=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    return "$rc"
  fi
  rm -f "$log"
}

install_cargo() {
  command -v cargo >/dev/null || die "cargo not found"
  echo "tools.sh: building sqlx-cli $SQLX_CLI_VERSION (several minutes)" >&2
  CARGO_TARGET_DIR="$DIR/cargo-target" quiet cargo install --locked --force \
    sqlx-cli --version "=$SQLX_CLI_VERSION" --no-default-features --features postgres \
    --root "$DIR/cargo"
  rm -rf "$DIR/cargo-target"
}

install_npm() {
  command -v npm >/dev/null || die "npm not found"
  mkdir -p "$DIR/npm"
  [ -f "$DIR/npm/package.json" ] || echo '{"private": true}' >"$DIR/npm/package.json"
  quiet npm install --prefix "$DIR/npm" --no-audit --no-fund --loglevel=error --save-exact \
    "dbmate@$DBMATE_VERSION" "node-pg-migrate@$NODE_PG_MIGRATE_VERSION" \
    "knex@$KNEX_VERSION" "pg@$PG_VERSION"
  [ -x "$DIR/npm/node_modules/.bin/dbmate" ] || die "npm install left no dbmate binary"
}

install_venv() {
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || die "$py not found"
  rm -rf "$DIR/venv"
  quiet "$py" -m venv "$DIR/venv"
  quiet "$DIR/venv/bin/pip" install --disable-pip-version-check --no-input \
    "alembic==$ALEMBIC_VERSION" "sqlalchemy==$SQLALCHEMY_VERSION" \
    "psycopg2-binary==$PSYCOPG2_VERSION" "django==$DJANGO_VERSION"
}

ensure_group() {
  local g=$1
  installed "$g" && return 0
  mkdir -p "$DIR"
  # One installer per group at a time (parallel tests may all ask at once).
  exec {lockfd}>"$DIR/.lock-$g"
  flock "$lockfd"
  if ! installed "$g"; then
    rm -f "$(marker_file "$g")"
    "install_$g"
    marker_text "$g" >"$(marker_file "$g")"
  fi
  exec {lockfd}>&-
}

tool_path() {
  case "$1" in
    sqlx) echo "$DIR/cargo/bin/sqlx" ;;
    dbmate) echo "$DIR/npm/node_modules/.bin/dbmate" ;;
    node-pg-migrate) echo "$DIR/npm/node_modules/.bin/node-pg-migrate" ;;
    knex) echo "$DIR/npm/node_modules/.bin/knex" ;;
    alembic) echo "$DIR/venv/bin/alembic" ;;
    django) echo "$DIR/venv/bin/python $FIXTURES/django/manage.py" ;;
    *) die "unknown tool '$1'" ;;
  esac
}

# Adds or replaces a query parameter of a URL.
url_with_param() {
  local url=$1 key=$2 value=$3 base query="" out="" kv
  base=${url%%\?*}
  [[ "$url" == *\?* ]] && query=${url#*\?}
  local IFS='&'
  for kv in $query; do
    [ -z "$kv" ] && continue
    [ "${kv%%=*}" = "$key" ] && continue
    out+="${out:+&}$kv"
  done
  echo "$base?${out:+$out&}$key=$value"
}

# postgres://user@/db?host=/sock -> postgres://user@localhost/db?host=/sock, for
# parsers that reject an empty host (sqlx); the host= parameter still wins.
url_fill_host() {
  local url=$1 re='^(postgres(ql)?://)([^@/?]*@)?(/.*)$'
  if [[ "$url" =~ $re ]] && url_has_param "$url" host; then
    url="${BASH_REMATCH[1]}${BASH_REMATCH[3]}localhost${BASH_REMATCH[4]}"
  fi
  echo "$url"
}

url_has_param() {
  [[ "$1" == *\?* ]] && [[ "&${1#*\?}" == *"&$2="* ]]
}

# A temp copy of the fixture set, so tool output (caches, __pycache__) stays
# out of the repo. Sets WORK.
work_copy() {
  local tool=$1
  [ -d "$FIXTURES/$tool" ] || die "no fixture set $FIXTURES/$tool"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/driftwatch-$tool.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  cp -R "$FIXTURES/$tool/." "$WORK/"
}

apply() {
  local tool=$1 url=$2
  [[ "$url" =~ ^postgres(ql)?:// ]] || die "DATABASE_URL must start with postgres:// or postgresql://"
  ensure_group "$(group_of "$tool")"
  work_copy "$tool"
  cd "$WORK"
  case "$tool" in
    sqlx)
      quiet "$DIR/cargo/bin/sqlx" migrate run --source migrations --database-url "$(url_fill_host "$url")"
      ;;
    dbmate)
      # lib/pq asks for TLS unless told not to; the fixture clusters have none
      local u=$url
      url_has_param "$u" sslmode || u=$(url_with_param "$u" sslmode disable)
      quiet "$DIR/npm/node_modules/.bin/dbmate" --url "$u" --migrations-dir db/migrations \
        --no-dump-schema migrate
      ;;
    node-pg-migrate)
      # JITI_FS_CACHE=false: its loader would leave a transpiled copy of each
      # migration in $TMPDIR/jiti on every run
      DATABASE_URL=$url JITI_FS_CACHE=false quiet "$DIR/npm/node_modules/.bin/node-pg-migrate" up \
        --migrations-dir migrations
      ;;
    knex)
      # the knex CLI insists on a knex it can resolve from the knexfile's folder
      ln -s "$DIR/npm/node_modules" node_modules
      DATABASE_URL=$url quiet "$DIR/npm/node_modules/.bin/knex" --knexfile knexfile.js migrate:latest
      ;;
    alembic)
      DATABASE_URL=$url PYTHONDONTWRITEBYTECODE=1 quiet "$DIR/venv/bin/alembic" -c alembic.ini upgrade head
      ;;
    django)
      DATABASE_URL=$url PYTHONDONTWRITEBYTECODE=1 quiet "$DIR/venv/bin/python" manage.py migrate accounts --no-input
      ;;
    *) die "unknown tool '$tool'" ;;
  esac
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case "$cmd" in
  install)
    if [ $# -eq 0 ]; then set -- "${TOOLS[@]}"; fi
    groups=()
    for t in "$@"; do
      g=$(group_of "$t")
      [[ " ${groups[*]-} " == *" $g "* ]] || groups+=("$g")
    done
    for g in "${groups[@]}"; do ensure_group "$g"; done
    ;;
  apply)
    [ $# -eq 2 ] || usage
    apply "$1" "$2"
    ;;
  path)
    [ $# -eq 1 ] || usage
    group_of "$1" >/dev/null
    tool_path "$1"
    ;;
  check)
    [ $# -eq 1 ] || usage
    installed "$(group_of "$1")"
    ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
