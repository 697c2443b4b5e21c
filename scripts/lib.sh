# shellcheck shell=bash
# Helpers for scripts/demo and scripts/test. Source this file; do not execute it.
#
# Target: a fresh Debian 12 machine with Python 3.11, run as root, no Docker
# engine. Every helper is idempotent (a second run reuses what is there) and
# prints one short line saying what it did. Errors go to stderr and end the
# calling script. Safe under `set -euo pipefail`.

CC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CC_PG_VERSION=15
CC_PG_CLUSTER=main
CC_PG_HOST=127.0.0.1
CC_PG_PORT=5432
CC_DB_ROLE=command_center
CC_DB_PASSWORD=command_center
CC_REDIS_HOST=127.0.0.1
CC_REDIS_PORT=6379
CC_VENV="$CC_ROOT/.venv"
CC_PYTHON="${PYTHON:-python3}"   # interpreter used to create .venv
_CC_APT_UPDATED=${_CC_APT_UPDATED:-0}
# What WeasyPrint needs to render reports and documents, with a CJK font to embed.
CC_REPORT_PACKAGES=(
  "libpango-1.0-0:/usr/lib/*/libpango-1.0.so.0"
  "libpangoft2-1.0-0:/usr/lib/*/libpangoft2-1.0.so.0"
  "fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
)

cc_say() { printf '==> %s\n' "$*"; }
cc_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run as root (directly, or through sudo when the script is not run as root).
_cc_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -- "$@"; fi
}

# Run as the postgres OS user (peer authentication on the local socket), from /
# so that psql does not complain about an unreadable working directory.
_cc_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && sudo -u postgres -- "$@")
  fi
}

# psql as the superuser: quiet, no ~/.psqlrc, stop on the first error,
# unaligned tuples only. Usage: _cc_psql DBNAME SQL
_cc_psql() {
  _cc_as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$CC_PG_PORT" -d "$1" -tAc "$2"
}

_cc_apt_install() {
  if [ "$_CC_APT_UPDATED" != 1 ]; then
    _cc_as_root apt-get update -qq
    _CC_APT_UPDATED=1
  fi
  # C.UTF-8: the cluster that postgresql-common creates on install inherits the
  # locale; an unset LANG would give SQL_ASCII, an ungenerated one an error.
  _cc_as_root env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8 \
    apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "$@"
}

# ensure_packages [PACKAGE[:BINARY] ...]
# Installs from Debian packages only what is missing: PostgreSQL 15, PostGIS 3,
# Redis, python3-venv. Extra arguments are packages installed only when their
# binary (default: the package name) is not on PATH, e.g. `chromium`, or when
# the absolute path after the colon (a glob) matches no file.
ensure_packages() {
  local -a missing=()
  local spec pkg bin
  if [ ! -x "/usr/lib/postgresql/$CC_PG_VERSION/bin/postgres" ] \
    || ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    missing+=("postgresql-$CC_PG_VERSION")
  fi
  if [ ! -f "/usr/share/postgresql/$CC_PG_VERSION/extension/postgis.control" ]; then
    missing+=("postgresql-$CC_PG_VERSION-postgis-3")
  fi
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    missing+=(redis-server)
  fi
  if ! command -v "$CC_PYTHON" >/dev/null 2>&1; then
    missing+=(python3 python3-venv)
  elif ! "$CC_PYTHON" -m venv --help >/dev/null 2>&1 \
    || ! "$CC_PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
  for spec in "$@"; do
    pkg="${spec%%:*}"
    bin="${spec#*:}"
    if [[ "$bin" == /* ]]; then
      # an absolute path (a glob is fine): a file the package installs, e.g. a font
      compgen -G "$bin" >/dev/null || missing+=("$pkg")
    else
      command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    cc_say "packages: already installed (postgresql-$CC_PG_VERSION, postgis 3, redis, python3-venv${*:+, $*})"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 \
    || cc_die "missing ${missing[*]} and no apt-get here; install them by hand (Debian 12 package names)"
  cc_say "packages: installing ${missing[*]}"
  _cc_apt_install "${missing[@]}"
}

# ensure_cjk_font: a Chinese font for the browser of the end-to-end tests (fonts-noto-cjk,
# the package the analytics PDFs use too), so that screenshots show text, not boxes.
ensure_cjk_font() {
  if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
    cc_say "fonts: a CJK font is installed"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || cc_die "no CJK font and no apt-get; install fonts-noto-cjk"
  cc_say "fonts: installing fonts-noto-cjk"
  _cc_apt_install fonts-noto-cjk
}

# ensure_postgres: PostgreSQL 15 accepting connections on 127.0.0.1:5432.
ensure_postgres() {
  local created="" status
  if pg_isready -q -h "$CC_PG_HOST" -p "$CC_PG_PORT" >/dev/null 2>&1; then
    cc_say "postgres: already running on $CC_PG_HOST:$CC_PG_PORT"
    return 0
  fi
  command -v pg_lsclusters >/dev/null 2>&1 || cc_die "pg_lsclusters not found; run ensure_packages first"
  if [ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v="$CC_PG_VERSION" -v c="$CC_PG_CLUSTER" '$1 == v && $2 == c')" ]; then
    # C.UTF-8 always exists on Debian 12; without it a cluster created with no
    # LANG in the environment would default to SQL_ASCII (and pg_createcluster
    # refuses to run at all under an ungenerated locale).
    _cc_as_root env LC_ALL=C.UTF-8 LANG=C.UTF-8 pg_createcluster --locale C.UTF-8 --port "$CC_PG_PORT" "$CC_PG_VERSION" "$CC_PG_CLUSTER" >/dev/null
    created="created and "
  fi
  status="$(pg_lsclusters -h | awk -v v="$CC_PG_VERSION" -v c="$CC_PG_CLUSTER" '$1 == v && $2 == c { print $4 }')"
  if [ "${status%%,*}" != online ]; then
    _cc_as_root pg_ctlcluster --skip-systemctl-redirect "$CC_PG_VERSION" "$CC_PG_CLUSTER" start
  fi
  for _ in $(seq 1 60); do
    if pg_isready -q -h "$CC_PG_HOST" -p "$CC_PG_PORT" >/dev/null 2>&1; then
      cc_say "postgres: ${created}started cluster $CC_PG_VERSION/$CC_PG_CLUSTER on $CC_PG_HOST:$CC_PG_PORT"
      return 0
    fi
    sleep 0.5
  done
  cc_die "PostgreSQL is not accepting connections on $CC_PG_HOST:$CC_PG_PORT after 30 s" \
    "(cluster: $(pg_lsclusters -h | awk -v v="$CC_PG_VERSION" -v c="$CC_PG_CLUSTER" '$1 == v && $2 == c' | tr -s ' '))." \
    "Check port and listen_addresses in /etc/postgresql/$CC_PG_VERSION/$CC_PG_CLUSTER/postgresql.conf" \
    "and /var/log/postgresql/postgresql-$CC_PG_VERSION-$CC_PG_CLUSTER.log"
}

# ensure_npm_deps DIR: the npm dependencies of DIR (its package-lock.json, exactly) in
# DIR/node_modules, by `npm ci`; redone only when the lock file changed since (npm keeps a
# copy of it as node_modules/.package-lock.json). Needs node and npm (ensure_packages
# nodejs:node npm:npm). Used for the tests' OpenID provider (tests/oidc).
ensure_npm_deps() {
  local dir="${1:?usage: ensure_npm_deps DIR}"
  [ -f "$dir/package-lock.json" ] || cc_die "$dir has no package-lock.json"
  if [ -f "$dir/node_modules/.package-lock.json" ] \
    && [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    cc_say "npm: $dir already installed"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || cc_die "npm not found; run ensure_packages npm:npm first"
  cc_say "npm: installing $dir (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || cc_die "npm ci failed in $dir"
}

_cc_redis_ping() {
  [ "$(redis-cli -h "$CC_REDIS_HOST" -p "$CC_REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

# ensure_redis: Redis answering PONG on 127.0.0.1:6379 (no persistence).
ensure_redis() {
  local log=/var/log/redis/command-center.log
  if _cc_redis_ping; then
    cc_say "redis: already running on $CC_REDIS_HOST:$CC_REDIS_PORT"
    return 0
  fi
  command -v redis-server >/dev/null 2>&1 || cc_die "redis-server not found; run ensure_packages first"
  _cc_as_root mkdir -p /var/lib/redis /var/log/redis
  _cc_as_root redis-server --daemonize yes --bind "$CC_REDIS_HOST" --port "$CC_REDIS_PORT" \
    --save "" --appendonly no --dir /var/lib/redis --logfile "$log" >/dev/null
  for _ in $(seq 1 60); do
    if _cc_redis_ping; then
      cc_say "redis: started on $CC_REDIS_HOST:$CC_REDIS_PORT (log: $log)"
      return 0
    fi
    sleep 0.5
  done
  cc_die "Redis is not answering PING on $CC_REDIS_HOST:$CC_REDIS_PORT after 30 s;" \
    "see $log (is something else, or a Redis with a password, using port $CC_REDIS_PORT?)"
}

# ensure_database NAME: role command_center (LOGIN, password command_center),
# database NAME owned by it (UTF8), and the postgis extension in it. Touches
# nothing else. The app connects over TCP with the password, which works with
# Debian's default pg_hba.conf (peer on the socket, scram-sha-256 on 127.0.0.1).
ensure_database() {
  local db="${1:?usage: ensure_database NAME}" ext msg
  local -a steps=()
  [[ "$db" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || cc_die "invalid database name: $db (use [a-z0-9_])"
  command -v psql >/dev/null 2>&1 || cc_die "psql not found; run ensure_packages first"

  if [ "$(_cc_psql postgres "SELECT 1 FROM pg_roles WHERE rolname = '$CC_DB_ROLE'")" = 1 ]; then
    steps+=("role $CC_DB_ROLE exists")
  else
    _cc_psql postgres "CREATE ROLE $CC_DB_ROLE LOGIN PASSWORD '$CC_DB_PASSWORD'"
    steps+=("created role $CC_DB_ROLE")
  fi

  if [ "$(_cc_psql postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ]; then
    steps+=("database $db exists")
  else
    # template0 + explicit UTF8, whatever the cluster default is.
    _cc_psql postgres "CREATE DATABASE \"$db\" OWNER $CC_DB_ROLE TEMPLATE template0
      ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
    steps+=("created database $db")
  fi

  ext="$(_cc_psql "$db" "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")"
  if [ -n "$ext" ]; then
    steps+=("postgis $ext present")
  else
    _cc_psql "$db" "CREATE EXTENSION IF NOT EXISTS postgis"
    ext="$(_cc_psql "$db" "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")"
    steps+=("created extension postgis $ext")
  fi

  # The app's own path: TCP + password. Fails early with a clear message.
  if ! PGPASSWORD="$CC_DB_PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$CC_PG_HOST" -p "$CC_PG_PORT" \
    -U "$CC_DB_ROLE" -d "$db" -tAc 'SELECT 1' >/dev/null; then
    cc_die "role $CC_DB_ROLE cannot log in to $db on $CC_PG_HOST:$CC_PG_PORT with its password;" \
      "if the role existed before, reset it: runuser -u postgres -- psql -c" \
      "\"ALTER ROLE $CC_DB_ROLE PASSWORD '$CC_DB_PASSWORD'\""
  fi
  msg="$(printf '%s, ' "${steps[@]}")"
  cc_say "database: ${msg%, }"
}

# ensure_venv: .venv at the repo root with `pip install -e '.[dev]'`, redone only
# when pyproject.toml changed (sha256 in .venv/.installed-pyproject.sha256) or a
# top-level package directory is not importable from the venv (setuptools'
# editable finder only maps packages that existed at install time).
ensure_venv() {
  local stamp="$CC_VENV/.installed-pyproject.sha256" sha created="" missing
  local version_check='import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'
  if [ -d "$CC_VENV" ] && ! "$CC_VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
    cc_say "venv: $CC_VENV has no working python (base interpreter gone?); recreating"
    rm -rf "$CC_VENV"
  fi
  if [ ! -x "$CC_VENV/bin/python" ]; then
    command -v "$CC_PYTHON" >/dev/null 2>&1 || cc_die "$CC_PYTHON not found; Python >= 3.11 is required"
    "$CC_PYTHON" -c "$version_check" \
      || cc_die "Python >= 3.11 is required, $CC_PYTHON is $("$CC_PYTHON" -V 2>&1); set PYTHON=/path/to/python3.11"
    "$CC_PYTHON" -m venv "$CC_VENV" || cc_die "could not create $CC_VENV (apt-get install python3-venv?)"
    created="created, "
  fi
  "$CC_VENV/bin/python" -c "$version_check" \
    || cc_die "$CC_VENV uses $("$CC_VENV/bin/python" -V 2>&1); Python >= 3.11 is required (delete .venv to recreate)"

  sha="$(sha256sum "$CC_ROOT/pyproject.toml" | cut -d' ' -f1)"
  missing=""
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ]; then
    # -I: isolated, so the repo root (cwd) is not on sys.path for the check.
    missing="$("$CC_VENV/bin/python" -I - "$CC_ROOT" <<'PY'
import fnmatch, importlib.util, pathlib, sys, tomllib
root = pathlib.Path(sys.argv[1])
cfg = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
pats = cfg.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {}).get("include", [])
for d in sorted(root.iterdir()):
    if (d / "__init__.py").is_file() and any(fnmatch.fnmatch(d.name, p) for p in pats):
        if importlib.util.find_spec(d.name) is None:
            print(d.name)
PY
)" || missing="(check failed)"
    if [ -z "$missing" ]; then
      cc_say "venv: ${created}already up to date ($CC_VENV)"
      return 0
    fi
    missing=" (not importable: ${missing//$'\n'/ })"
  fi
  cc_say "venv: ${created}installing -e '.[dev]'$missing"
  rm -f "$stamp"
  (cd "$CC_ROOT" && "$CC_VENV/bin/python" -m pip install -qq --disable-pip-version-check -e '.[dev]') \
    || cc_die "pip install -e '.[dev]' failed"
  printf '%s\n' "$sha" >"$stamp"
}

# ensure_env_file: .env at the repo root with a random SECRET_KEY (mode 600) and
# the demo's DATABASE_URL and REDIS_URL, so that `command-center` works from the
# repo root in any shell with the venv active. Existing lines are never changed;
# a missing DATABASE_URL or REDIS_URL line is added.
ensure_env_file() {
  local env="$CC_ROOT/.env" tmp
  if [ -e "$env" ]; then
    _cc_env_default DATABASE_URL "postgresql+psycopg://$CC_DB_ROLE:$CC_DB_PASSWORD@$CC_PG_HOST:$CC_PG_PORT/command_center"
    _cc_env_default REDIS_URL "redis://$CC_REDIS_HOST:$CC_REDIS_PORT/0"
    cc_say ".env: already exists (kept as is)"
    return 0
  fi
  tmp="$(mktemp "$CC_ROOT/.env.XXXXXX")"   # mktemp creates it with mode 600
  "$CC_PYTHON" -c 'import secrets; print("SECRET_KEY=" + secrets.token_hex(32))' >"$tmp" \
    || { rm -f "$tmp"; cc_die "could not generate SECRET_KEY with $CC_PYTHON"; }
  chmod 600 "$tmp"
  mv -n "$tmp" "$env"
  rm -f "$tmp"
  _cc_env_default DATABASE_URL "postgresql+psycopg://$CC_DB_ROLE:$CC_DB_PASSWORD@$CC_PG_HOST:$CC_PG_PORT/command_center"
  _cc_env_default REDIS_URL "redis://$CC_REDIS_HOST:$CC_REDIS_PORT/0"
  cc_say ".env: created with a random SECRET_KEY and the demo's database and Redis"
}

# _cc_env_default KEY VALUE: append KEY=VALUE to .env unless a KEY= line exists.
_cc_env_default() {
  local env="$CC_ROOT/.env"
  grep -q "^$1=" "$env" 2>/dev/null || printf '%s=%s\n' "$1" "$2" >>"$env"
}

# load_env_file: export the variables of .env (sourced by bash with `set -a`);
# variables already set in the environment win over .env.
load_env_file() {
  local env="$CC_ROOT/.env" kv name
  [ -f "$env" ] || return 0
  bash -n "$env" || cc_die "$env is not valid shell syntax"
  while IFS= read -r -d '' kv; do
    name="${kv%%=*}"
    case "$name" in PWD | OLDPWD | SHLVL | _) continue ;; esac
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    [ -n "${!name+x}" ] || export "${kv?}"
  done < <(cd "$CC_ROOT" && env -i bash -c 'set -a; . ./.env; env -0')
}

# Defaults, exported only when not already set.
export_database_url() {
  local db="${1:?usage: export_database_url DBNAME}"
  : "${DATABASE_URL:=postgresql+psycopg://$CC_DB_ROLE:$CC_DB_PASSWORD@$CC_PG_HOST:$CC_PG_PORT/$db}"
  export DATABASE_URL
}

export_redis_url() {
  : "${REDIS_URL:=redis://$CC_REDIS_HOST:$CC_REDIS_PORT/0}"
  export REDIS_URL
}

# Put the venv first on PATH (command-center, ruff, mypy, pytest, ...).
activate_venv() {
  export VIRTUAL_ENV="$CC_VENV"
  export PATH="$CC_VENV/bin:$PATH"
  hash -r
}
