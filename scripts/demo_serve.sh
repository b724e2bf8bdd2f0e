#!/usr/bin/env bash
# make demo's serving step: start the API on a free loopback port, ask it about one query the demo
# KG knows, show the answer and the metrics, stop it. Usage: demo_serve.sh <venv bin> <workspace>
set -euo pipefail
BIN=$1 WS=$2
PORT=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/intentkg" serve run -w "$WS" --port "$PORT" > "$WS/serve/demo-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  "$BIN/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health')" 2>/dev/null && break
  sleep 0.2
done
QUERY=$("$BIN/python" - "$WS" <<'PY'
import json, sys
from intentkg.serve.runtime import open_store
_, writer, _ = open_store(sys.argv[1])
print(next((k[2:] for k, v in writer.items() if k.startswith("q:") and json.loads(v)["intentions"]), "camping"))
PY
)
echo "GET /v1/knowledge/query?q=$QUERY"
"$BIN/python" - "$PORT" "$QUERY" <<'PY'
import json, sys, urllib.parse, urllib.request
port, query = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}"
body = json.load(urllib.request.urlopen(f"{base}/v1/knowledge/query?q={urllib.parse.quote(query)}"))
print(f"  outcome {body['outcome']}, snapshot {body['version']}")
for item in (body["entry"] or {}).get("intentions", [])[:5]:
    print(f"  {item['relation']:<20} {item['intention']}  (score {item['score']:.2f})")
miss = json.load(urllib.request.urlopen(f"{base}/v1/knowledge/query?q=" + urllib.parse.quote("gift ideas for a retiring teacher")))
print(f"  an unseen query: outcome {miss['outcome']}, queued for `intentkg serve refresh`: {miss['queued']}")
metrics = json.load(urllib.request.urlopen(f"{base}/metrics"))
print(f"  metrics: {metrics['lookups']} lookups, hit rate {metrics['hit_rate']:.2f}")
PY
