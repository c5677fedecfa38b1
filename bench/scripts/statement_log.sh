#!/bin/bash
# Logs every statement's duration on the bench cluster from 5 s to 10 s of a fixed-rate PostgreSQL orders
# run (ALTER SYSTEM + pg_reload_conf), copied to /tmp/st-NAME.log; then run statement_totals.py NAME.
# usage: statement_log.sh BIN NAME
BIN=$1; N=$2
cd "$(dirname "$0")/../.."
( timeout 100 $BIN run --scenario orders --backend postgres --seconds 10 --customers 1000 --rate 1000 > /tmp/st-$N.out 2>&1 & )
sleep 5
l=$(ps -eo args | grep '^runuser -u postgres' | grep ' -p ' | head -1)
port=$(echo "$l" | sed -E "s/.* -p ([0-9]+) .*/\1/"); sock=$(echo "$l" | sed -E "s/.* -k '([^']+)'.*/\1/")
su postgres -c "psql -h $sock -p $port -d postgres -At -c \"alter system set log_min_duration_statement = 0\" -c \"select pg_reload_conf()\"" >/dev/null
sleep 5
cp $sock/server.log /tmp/st-$N.log
sleep 10
