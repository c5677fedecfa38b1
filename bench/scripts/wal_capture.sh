#!/bin/bash
# Copies the bench cluster's pg_wal (and its relfilenode -> relation map) at 9 s of a fixed-rate
# PostgreSQL orders run, to /tmp/wal-NAME; then run wal_per_order.py NAME. Needs root (runs psql as postgres).
# usage: wal_capture.sh BIN NAME
BIN=$1; N=$2
cd "$(dirname "$0")/../.."
rm -rf /tmp/wal-$N; ( timeout 100 $BIN run --scenario orders --backend postgres --seconds 10 --customers 1000 --rate 1500 > /tmp/wal-$N.out 2>&1 & )
sleep 10
l=$(ps -eo args | grep '^runuser -u postgres' | grep ' -p ' | head -1)
port=$(echo "$l" | sed -E "s/.* -p ([0-9]+) .*/\1/"); sock=$(echo "$l" | sed -E "s/.* -k '([^']+)'.*/\1/")
db=$(su postgres -c "psql -h $sock -p $port -d postgres -At -c \"select datname from pg_database where datname not in ('postgres','template0','template1')\"" | head -1)
su postgres -c "psql -h $sock -p $port -d $db -At -F' ' -c \"select relfilenode, relname from pg_class where relfilenode <> 0\"" > /tmp/wal-$N.map
d=$(ls -d $sock/data)
cp -r $d/pg_wal /tmp/wal-$N
sleep 12
