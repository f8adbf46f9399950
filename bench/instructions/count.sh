#!/bin/bash
# count.sh TREE K [conns] [pipe] [cli-command | peer:NAME] [line] [welcome-lines]
# User-space instructions (valgrind cachegrind) of TREE/dist/src/cli/main.js <cli-command>, or of
# TREE/dist/bench/peers/NAME.js, serving conns connections x K lines. Per reply: run K=100 and
# K=1100 and divide the difference by conns x 1000. Steadier than wall time on a shared machine.
T=$1; K=$2; C=${3:-50}; P=${4:-1}; CMD=${5:-calc-server}; LINE=${6:-12,34,56}; WELCOME=${7:-1}
PORT=$((20000 + RANDOM % 20000))
valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null node $( [[ $CMD == peer:* ]] && echo $T/dist/bench/peers/${CMD#peer:}.js || echo $T/dist/src/cli/main.js $CMD ) --host 127.0.0.1 --port $PORT $( [[ $CMD == peer:* ]] || echo --log-level warn ) 2>/tmp/irs.$$ >/dev/null &
SP=$!
for i in $(seq 300); do python3 -c "import socket;socket.create_connection(('127.0.0.1',$PORT)).close()" 2>/dev/null && break; sleep 0.3; done
python3 "$(dirname "$0")/fixed-load.py" $PORT $C $K $P "$LINE" $WELCOME
kill -TERM $SP; wait $SP
grep "I *refs" /tmp/irs.$$ | tr -d ',' | awk '{print $NF}'
rm -f /tmp/irs.$$
