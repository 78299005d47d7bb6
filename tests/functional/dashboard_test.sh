#!/usr/bin/env bash
# `merit dashboard` against a real merit-chain --dev: pages and JSON API served, events streamed
# from the block feed, and its limits: GET only (bodies refused), at most 8 event streams, a busy
# port or an absent chain refused at start with the reason.
# Usage: dashboard_test.sh MERIT MERIT_CHAIN
set -uo pipefail
MERIT=$1 CHAIN=$2
source "$(dirname "$0")/lib.sh"
test_init dashboard

start_dev_chain "$CHAIN" || { bad "chain did not start: $(cat "$WORK/chain.err")"; finish; }
spawn DASH "$MERIT" dashboard --url "$MERIT_CHAIN_URL" --listen 127.0.0.1:0 > "$WORK/dash.out" 2> "$WORK/dash.err"
wait_ready "$WORK/dash.out" && ok "dashboard ready" || { bad "no ready line: $(cat "$WORK/dash.err")"; finish; }
URL=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['url'])" "$WORK/dash.out")
[[ $URL == http://127.0.0.1:* ]] && ok "listens on loopback ($URL)" || bad "url $URL"

curl -sf "$URL/" | has 'src="/app.js"' && ok "GET / serves the page" || bad "GET /"
ct=$(curl -sf -o /dev/null -w '%{content_type}' "$URL/app.js")
[[ $ct == text/javascript* ]] && ok "GET /app.js ($ct)" || bad "app.js content type '$ct'"
curl -sf "$URL/style.css" > /dev/null && ok "GET /style.css" || bad "GET /style.css"
# Chart.js, copied from Debian's libjs-chart.js by the build, served like the pages' own script.
ct=$(curl -sf -o "$WORK/chart.js" -w '%{content_type}' "$URL/chart.min.js")
[[ $ct == text/javascript* ]] && head -c 300 "$WORK/chart.js" | has 'Chart.js v' && curl -sf "$URL/" | has 'src="/chart.min.js"' \
  && ok "GET /chart.min.js: Chart.js ($ct), loaded by the page" || bad "chart.min.js: content type '$ct', $(head -c 100 "$WORK/chart.js")"

curl -sf "$URL/api/overview" > "$WORK/ov1.json" && ok "GET /api/overview" || bad "GET /api/overview"
[[ $(json "$WORK/ov1.json" "[s['netuid'] for s in d['subnets']]") == "[0]" ]] && ok "overview lists the root network" \
  || bad "overview: $(head -c 400 "$WORK/ov1.json")"
sleep 1.5
curl -sf "$URL/api/overview" > "$WORK/ov2.json"
h1=$(json "$WORK/ov1.json" "d['head']['number']") h2=$(json "$WORK/ov2.json" "d['head']['number']")
((h2 > h1)) && ok "the snapshot follows the chain (head $h1 -> $h2)" || bad "head stayed at $h1 ($h2)"
curl -sf "$URL/api/subnet/0" > "$WORK/root.json" && [[ $(json "$WORK/root.json" "d['netuid']") == 0 ]] \
  && ok "GET /api/subnet/0: the root metagraph" || bad "GET /api/subnet/0"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/subnet/7")
[[ $code == 404 ]] && ok "an unknown subnet is 404" || bad "unknown subnet: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/subnet/99999999")
[[ $code == 404 ]] && ok "a netuid out of range is 404" || bad "netuid out of range: HTTP $code"
curl -sf "$URL/api/explain/0/0" | has '"available"' && ok "GET /api/explain answers" || bad "GET /api/explain"

curl -sN --max-time 3 "$URL/events" > "$WORK/events.txt" 2>/dev/null
grep -q '^event: block' "$WORK/events.txt" && grep -q '^event: update' "$WORK/events.txt" \
  && ok "/events streams block and update events" || bad "events: $(head -c 300 "$WORK/events.txt")"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'xxxxxxxxxxxxxxxx' "$URL/api/overview")
[[ $code == 413 || $code == 400 || $code == 404 || $code == 405 ]] && ok "a request body is refused (HTTP $code)" \
  || bad "POST with a body: HTTP $code"

streams=()
for i in $(seq 8); do
  curl -sN --max-time 8 "$URL/events" > "$WORK/s$i.txt" 2>/dev/null &
  streams+=($!)
done
sleep 1.5
code=$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$URL/events")
[[ $code == 503 ]] && ok "a ninth event stream is refused with 503" || bad "ninth stream: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/overview")
[[ $code == 200 ]] && ok "pages are still served with 8 streams open" || bad "overview with 8 streams: HTTP $code"
wait "${streams[@]}" 2>/dev/null
grep -q '^event: block' "$WORK/s8.txt" && ok "every stream received blocks" || bad "stream 8: $(head -c 200 "$WORK/s8.txt")"

port=${URL##*:}
"$MERIT" dashboard --url "$MERIT_CHAIN_URL" --listen "127.0.0.1:$port" > /dev/null 2> "$WORK/busy.err"
rc=$?
[[ $rc -ne 0 ]] && grep -q "cannot listen" "$WORK/busy.err" && ok "a busy port is an error (exit $rc)" \
  || bad "busy port: exit $rc $(cat "$WORK/busy.err")"
"$MERIT" dashboard --url http://127.0.0.1:1 --listen 127.0.0.1:0 > /dev/null 2> "$WORK/nochain.err"
rc=$?
[[ $rc -ne 0 ]] && grep -q "127.0.0.1:1" "$WORK/nochain.err" && ok "no chain: an error naming the URL (exit $rc)" \
  || bad "no chain: exit $rc $(cat "$WORK/nochain.err")"

kill -TERM "$DASH"
for _ in $(seq 50); do kill -0 "$DASH" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DASH" 2>/dev/null && bad "still running 5 s after SIGTERM" || ok "stops on SIGTERM"
finish
