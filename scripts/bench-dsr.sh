#!/usr/bin/env bash
# Measures rights fulfilment on the operator's databases (issue 15 targets) with the release
# build of the `assent` binary, on a generated shop of CUSTOMERS customers (default 1,000,000),
# 2 orders each and 5 lines per order (10,000,000 order lines), one invoice each (kept for a
# legal obligation) and a newsletter list of half of them, indexed as `assent datastore
# introspect` recommends (lower(email) where the engine compares case-sensitively, every
# reference column):
#   - `assent datastore introspect`            target <= 5 s
#   - `assent dsr access` for one person       target <= 1 s
#   - `assent dsr erase` of one person         target <= 2 s (a different person each run)
# RUNS runs of each (default 5), the median printed; the data is generated server-side
# (PostgreSQL generate_series, MariaDB seq_1_to_N, SQLite recursive CTE) in a dedicated
# database (assent_bench_dsr / a temporary file) dropped at the end.
# Usage: [CUSTOMERS=1000000] [RUNS=5] scripts/bench-dsr.sh [postgres|mysql|sqlite|all]
# GENERATE_ONLY=1 only generates the data (kept; no build needed), REUSE=1 then measures on
# it instead of generating again (the database is dropped at the end as usual).
# PostgreSQL: ASSENT_BENCH_PG (admin URL, default postgres://postgres@127.0.0.1:5432/postgres);
# MariaDB: mysql client as root on 127.0.0.1:3306 (ASSENT_BENCH_MY_HOST/PORT/USER).
set -euo pipefail
cd "$(dirname "$0")/.."
GENERATE_ONLY=${GENERATE_ONLY:-0}
REUSE=${REUSE:-0}
[ "$GENERATE_ONLY" = 1 ] || cargo build --release -q -p assent
BIN=$(realpath -m "${CARGO_TARGET_DIR:-target}/release/assent")
WHICH=${1:-all}
N=${CUSTOMERS:-1000000}
RUNS=${RUNS:-5}
O=$((N * 2))
L=$((O * 5))
DB=assent_bench_dsr
PG_ADMIN=${ASSENT_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
PG_URL="${PG_ADMIN%/*}/$DB"
MY_HOST=${ASSENT_BENCH_MY_HOST:-127.0.0.1}
MY_PORT=${ASSENT_BENCH_MY_PORT:-3306}
MY_USER=${ASSENT_BENCH_MY_USER:-root}
MY_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$DB"
WORK=$(mktemp -d)
SQLITE_FILE=${ASSENT_BENCH_SQLITE:-/var/tmp/assent_bench_dsr.db}
export ASSENT_ERASURE_KEY=${ASSENT_ERASURE_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
cleanup() {
  if [ "$GENERATE_ONLY" = 1 ]; then rm -rf "$WORK"; return; fi
  rm -f "$SQLITE_FILE"*
  psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  mysql -h"$MY_HOST" -P"$MY_PORT" -u"$MY_USER" -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

my() { mysql -h"$MY_HOST" -P"$MY_PORT" -u"$MY_USER" "$@"; }

# The shop's annotations, as in the worked example of docs/fulfilment.md.
registry() {
  cat examples/callkom.toml
  cat <<EOF

[[datastores]]
id = "shop"
kind = "$1"
url_env = "SHOP_DATABASE_URL"

[[datastores.tables]]
name = "customers"
purpose = "functional"
restrict_column = "restricted"
columns = [
  { name = "email", identity = "email", category = "contact details", erase = "hash" },
  { name = "full_name", category = "identity" },
  { name = "phone", identity = "phone", category = "contact details" },
  { name = "customer_no", identity = "customer_number", category = "identity" },
]

[[datastores.tables]]
name = "orders"
purpose = "functional"
erase = "delete"
columns = [{ name = "shipping_address", category = "contact details" }]
references = [{ column = "customer_id", to = "customers.id" }]

[[datastores.tables]]
name = "order_lines"
purpose = "functional"
erase = "delete"
references = [{ column = "order_id", to = "orders.id" }]

[[datastores.tables]]
name = "invoices"
retention = "rights-requests"
legal_hold = true
columns = [{ name = "billing_name", category = "identity" }]
references = [{ column = "customer_id", to = "customers.id" }]

[[datastores.tables]]
name = "newsletter"
purpose = "performance"
erase = "delete"
columns = [{ name = "email", identity = "email", category = "contact details" }]
EOF
}

# Milliseconds taken by a command (its output goes to $WORK/log; a failure stops the script).
ms() {
  local s e
  s=$(date +%s%N)
  if ! "$@" >>"$WORK/log" 2>&1; then
    echo "FAILED: $*" >&2
    tail -20 "$WORK/log" >&2
    exit 1
  fi
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}

# One value from the bench database.
sql() {
  case $1 in
    postgres) psql "$PG_URL" -tAq -c "$2" ;;
    mysql) my -N "$DB" -e "$2" ;;
    sqlite) sqlite3 "$SQLITE_FILE" "$2" ;;
  esac
}

median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

gen_postgres() {
  psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  psql "$PG_URL" -q -v ON_ERROR_STOP=1 <<EOF
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), full_name VARCHAR(200),
  phone VARCHAR(40), customer_no INTEGER, restricted BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(100));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, shipping_address VARCHAR(200), placed_at DATE);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER, product_id INTEGER, qty INTEGER);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER, billing_name VARCHAR(200), amount_cents INTEGER);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, subscribed_on DATE);
INSERT INTO customers SELECT i, 'Customer' || i || '@Example.org', 'Customer ' || i,
  '+33 6 ' || lpad(i::text, 8, '0'), 100000 + i, false FROM generate_series(1, $N) i;
INSERT INTO products SELECT i, 'Product ' || i FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i, (i - 1) / 2 + 1, i || ' rue de la Paix, Paris', DATE '2025-01-01' + i % 365
  FROM generate_series(1, $O) i;
INSERT INTO order_lines SELECT i, (i - 1) / 5 + 1, i % 100 + 1, 1 + i % 3 FROM generate_series(1, $L) i;
INSERT INTO invoices SELECT i, i, 'Customer ' || i, 1000 + i % 9000 FROM generate_series(1, $N) i;
INSERT INTO newsletter SELECT i, 'customer' || (2 * i) || '@example.org', DATE '2025-01-01' + i % 365
  FROM generate_series(1, $N / 2) i;
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers(id);
ALTER TABLE order_lines ADD FOREIGN KEY (order_id) REFERENCES orders(id);
ALTER TABLE order_lines ADD FOREIGN KEY (product_id) REFERENCES products(id);
ALTER TABLE invoices ADD FOREIGN KEY (customer_id) REFERENCES customers(id);
EOF
}

index_postgres() {
  psql "$PG_URL" -q -v ON_ERROR_STOP=1 -c "SET maintenance_work_mem = '256MB'" -f "$1" -c "VACUUM ANALYZE"
}

gen_mysql() {
  my -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
  my "$DB" <<EOF
SET SESSION foreign_key_checks = 0, unique_checks = 0;
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), full_name VARCHAR(200),
  phone VARCHAR(40), customer_no INTEGER, restricted BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(100));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  shipping_address VARCHAR(200), placed_at DATE);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id),
  product_id INTEGER REFERENCES products(id), qty INTEGER);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  billing_name VARCHAR(200), amount_cents INTEGER);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, subscribed_on DATE);
INSERT INTO customers SELECT seq, CONCAT('Customer', seq, '@Example.org'), CONCAT('Customer ', seq),
  CONCAT('+33 6 ', LPAD(seq, 8, '0')), 100000 + seq, 0 FROM seq_1_to_$N;
INSERT INTO products SELECT seq, CONCAT('Product ', seq) FROM seq_1_to_100;
INSERT INTO orders SELECT seq, (seq - 1) DIV 2 + 1, CONCAT(seq, ' rue de la Paix, Paris'),
  DATE_ADD('2025-01-01', INTERVAL seq % 365 DAY) FROM seq_1_to_$O;
INSERT INTO order_lines SELECT seq, (seq - 1) DIV 5 + 1, seq % 100 + 1, 1 + seq % 3 FROM seq_1_to_$L;
INSERT INTO invoices SELECT seq, seq, CONCAT('Customer ', seq), 1000 + seq % 9000 FROM seq_1_to_$N;
INSERT INTO newsletter SELECT seq, CONCAT('customer', 2 * seq, '@example.org'),
  DATE_ADD('2025-01-01', INTERVAL seq % 365 DAY) FROM seq_1_to_$((N / 2));
EOF
}

# InnoDB indexes every foreign key's column itself: only the email indexes are advised.
index_mysql() {
  my "$DB" <"$1"
  my "$DB" -e "ANALYZE TABLE customers, orders, order_lines, invoices, newsletter" >/dev/null
}

gen_sqlite() {
  rm -f "$1"
  sqlite3 "$1" >/dev/null <<EOF
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), full_name VARCHAR(200),
  phone VARCHAR(40), customer_no INTEGER, restricted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(100));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  shipping_address VARCHAR(200), placed_at DATE);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id),
  product_id INTEGER REFERENCES products(id), qty INTEGER);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  billing_name VARCHAR(200), amount_cents INTEGER);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, subscribed_on DATE);
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO customers SELECT i, 'Customer' || i || '@Example.org', 'Customer ' || i,
  '+33 6 ' || printf('%08d', i), 100000 + i, 0 FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100)
INSERT INTO products SELECT i, 'Product ' || i FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $O)
INSERT INTO orders SELECT i, (i - 1) / 2 + 1, i || ' rue de la Paix, Paris',
  date('2025-01-01', '+' || (i % 365) || ' days') FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $L)
INSERT INTO order_lines SELECT i, (i - 1) / 5 + 1, i % 100 + 1, 1 + i % 3 FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO invoices SELECT i, i, 'Customer ' || i, 1000 + i % 9000 FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N / 2)
INSERT INTO newsletter SELECT i, 'customer' || (2 * i) || '@example.org',
  date('2025-01-01', '+' || (i % 365) || ' days') FROM s;
COMMIT;
EOF
}

index_sqlite() {
  sqlite3 "$2" "PRAGMA cache_size = -262144" ".read $1" "ANALYZE" "PRAGMA wal_checkpoint(TRUNCATE)"
}

# The CREATE INDEX statements `introspect` recommends, from its warnings.
advice() {
  grep -o 'CREATE INDEX [^`]*$' "$1" | sed 's/$/;/' | sort -u
}

run_engine() {
  local kind=$1 url sqlite_file=""
  echo "== $kind: $N customers, $O orders, $L order lines"
  local t0; t0=$(date +%s)
  case $kind in
    postgres) url=$PG_URL ;;
    mysql) url=$MY_URL ;;
    sqlite) sqlite_file=$SQLITE_FILE; url="sqlite://$sqlite_file" ;;
  esac
  if [ "$REUSE" = 1 ] && [ "$(sql "$kind" "SELECT COUNT(*) FROM order_lines" 2>/dev/null)" = "$L" ]; then
    echo "reusing the generated data"
  else
    case $kind in
      postgres) gen_postgres ;;
      mysql) gen_mysql ;;
      sqlite) gen_sqlite "$sqlite_file" ;;
    esac
    echo "generated in $(($(date +%s) - t0)) s"
  fi
  [ "$GENERATE_ONLY" = 1 ] && return
  export SHOP_DATABASE_URL=$url
  # Introspect once on the bare schema for its index advice, create those indexes, then time
  # introspection on the indexed database.
  "$BIN" datastore introspect --id shop --kind "$kind" --url-env SHOP_DATABASE_URL \
    >"$WORK/proposed.toml" 2>"$WORK/warnings"
  advice "$WORK/warnings" >"$WORK/indexes.sql"
  echo "introspect recommends:"; sed 's/^/  /' "$WORK/indexes.sql"
  t0=$(date +%s)
  case $kind in
    postgres) index_postgres "$WORK/indexes.sql" ;;
    mysql) index_mysql "$WORK/indexes.sql" ;;
    sqlite) index_sqlite "$WORK/indexes.sql" "$sqlite_file" ;;
  esac
  echo "indexed in $(($(date +%s) - t0)) s"
  "$BIN" datastore introspect --id shop --kind "$kind" --url-env SHOP_DATABASE_URL \
    >/dev/null 2>"$WORK/warnings"
  if grep -q 'without an index' "$WORK/warnings"; then
    echo "introspect still warns:"; cat "$WORK/warnings"; exit 1
  fi
  registry "$kind" >"$WORK/registry.toml"
  local i intro=() acc=() era=() c
  for i in $(seq 1 "$RUNS"); do
    intro+=("$(ms "$BIN" datastore introspect --id shop --kind "$kind" --url-env SHOP_DATABASE_URL)")
  done
  for i in $(seq 1 "$RUNS"); do
    c=$((N / 2 + i * 7919))
    rm -rf "$WORK/pkg"
    acc+=("$(ms "$BIN" dsr access --registry "$WORK/registry.toml" --email "customer$c@example.ORG" --out "$WORK/pkg")")
  done
  # The package of the last person: 1 customer, 2 orders, 10 lines, 1 invoice, 1 newsletter row.
  grep -q '"order_lines"' "$WORK/pkg/data.json" || { echo "access package without order lines"; exit 1; }
  for i in $(seq 1 "$RUNS"); do
    c=$((N / 3 + i * 7919))
    era+=("$(ms "$BIN" dsr erase --registry "$WORK/registry.toml" --email "CUSTOMER$c@example.org")")
  done
  # Afterwards the last person's orders and lines are gone, the neighbour's are intact.
  local gone kept
  gone=$(sql "$kind" "SELECT COUNT(*) FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $c)")
  kept=$(sql "$kind" "SELECT COUNT(*) FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $((c + 1)))")
  [ "$gone" = 0 ] && [ "$kept" = 10 ] || { echo "after erasure: $gone lines left (want 0), neighbour $kept (want 10)"; exit 1; }
  printf 'introspect ms: %s  median %s (target 5000)\n' "${intro[*]}" "$(printf '%s\n' "${intro[@]}" | median)"
  printf 'access ms:     %s  median %s (target 1000)\n' "${acc[*]}" "$(printf '%s\n' "${acc[@]}" | median)"
  printf 'erase ms:      %s  median %s (target 2000)\n' "${era[*]}" "$(printf '%s\n' "${era[@]}" | median)"
  case $kind in
    postgres) psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" ;;
    mysql) my -e "DROP DATABASE IF EXISTS $DB" ;;
    sqlite) rm -f "$sqlite_file"* ;;
  esac
}

case $WHICH in
  all) run_engine postgres; run_engine mysql; run_engine sqlite ;;
  postgres | mysql | sqlite) run_engine "$WHICH" ;;
  *) echo "usage: $0 [postgres|mysql|sqlite|all]"; exit 2 ;;
esac
