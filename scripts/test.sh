#!/usr/bin/env bash
# The one command that runs Assent's whole test suite. It installs what the tests need
# (Debian's chromium), makes sure the local PostgreSQL is up, then runs every test of the
# workspace against real components: SQLite files, PostgreSQL, HTTP over loopback, Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
# The fulfilment tests open access packages (zip) with Debian's unzip.
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_apt[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PostgreSQL: the store and server suites run against it (never skipped).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    echo "test.sh: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
export ASSENT_TEST_DATABASE_URL="${ASSENT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

# MariaDB: the datastore tests (assent-datastore, the CLI's dsr tests) run against it (never
# skipped): root without a password on 127.0.0.1, as the test machine has it.
if ! mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
  if ! command -v mysqld >/dev/null 2>&1 && ! command -v mariadbd >/dev/null 2>&1; then
    echo "test.sh: installing mariadb-server" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mariadb-server mariadb-client >/dev/null
  fi
  echo "test.sh: starting MariaDB" >&2
  (service mariadb start || service mysql start) >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 && break; sleep 1; done
fi
export ASSENT_TEST_MYSQL_URL="${ASSENT_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"

# Two cores: two test threads per binary keep the browser tests from starving each other.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-2}"
exec cargo test --workspace --locked "$@"
