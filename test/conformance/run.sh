#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance) against the daemon's /mcp.
# It needs Node >= 22: a Node 22 runtime is fetched from the npm registry (the `node` package) into
# a cache directory, once. The daemon itself runs on the project's Node.
#
#   bash test/conformance/run.sh            # all active server scenarios, against expected-failures.yml
#   bash test/conformance/run.sh ping       # one scenario
#
# Exit 0 when every failure is listed in expected-failures.yml (each entry with its reason) and no
# listed entry passes; the must-pass scenarios are never allowed in the list.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${CCO_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cco-conformance}"
SUITE_VERSION="0.1.16"
EXPECTED="$HERE/expected-failures.yml"
MUST_PASS="server-initialize ping tools-list dns-rebinding-protection"

# Every listed failure says why; the must-pass scenarios are never excused.
while IFS= read -r line; do
  case "$line" in
    "  - "*)
      name="$(echo "$line" | sed -E 's/^[[:space:]]*-[[:space:]]*([A-Za-z0-9_-]+).*/\1/')"
      if ! echo "$line" | grep -q '#'; then echo "❌ $EXPECTED: entry '$name' has no reason (# ...)"; exit 1; fi
      for m in $MUST_PASS; do
        if [ "$name" = "$m" ]; then echo "❌ $EXPECTED: '$name' must pass and cannot be an expected failure"; exit 1; fi
      done
      ;;
  esac
done < "$EXPECTED"

NODE22="$CACHE/node22/node_modules/node/bin/node"
if [ ! -x "$NODE22" ]; then
  echo "→ fetching a Node 22 runtime from the npm registry into $CACHE/node22"
  npm install --prefix "$CACHE/node22" --no-audit --no-fund --loglevel=error node@22 >/dev/null
fi
CONF="$CACHE/suite/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if [ ! -f "$CONF" ] || ! grep -q "\"version\": \"$SUITE_VERSION\"" "$CACHE/suite/node_modules/@modelcontextprotocol/conformance/package.json"; then
  echo "→ installing @modelcontextprotocol/conformance@$SUITE_VERSION into $CACHE/suite"
  npm install --prefix "$CACHE/suite" --no-audit --no-fund --loglevel=error "@modelcontextprotocol/conformance@$SUITE_VERSION" >/dev/null
fi
echo "→ conformance runner on $("$NODE22" -v)"

[ -f "$ROOT/dist/daemon/daemon.js" ] || (cd "$ROOT" && npm run build >/dev/null)

OUT="$(mktemp -d)"
node "$HERE/serve.mjs" >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVE=$!
cleanup() { kill "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; rm -rf "$OUT"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  grep -q '^URL ' "$OUT/serve.out" 2>/dev/null && break
  if ! kill -0 "$SERVE" 2>/dev/null; then cat "$OUT/serve.err"; echo "❌ the daemon did not start"; exit 1; fi
  sleep 0.1
done
URL="$(sed -n 's/^URL //p' "$OUT/serve.out")"
[ -n "$URL" ] || { cat "$OUT/serve.err"; echo "❌ the daemon did not start in 10 s"; exit 1; }
echo "→ daemon MCP endpoint (through the bearer-adding front): $URL"

ARGS=(server --url "$URL" --expected-failures "$EXPECTED" -o "$OUT/results")
[ $# -gt 0 ] && ARGS+=(--scenario "$1")
set +e
"$NODE22" "$CONF" "${ARGS[@]}" 2>&1 | tee "$OUT/conformance.log"
CODE=${PIPESTATUS[0]}
set -e
if [ $# -eq 0 ]; then
  # The must-pass scenarios must have run and passed (not merely been absent from the summary).
  for m in $MUST_PASS; do
    if ! grep -qE "^✓ $m: [1-9][0-9]* passed, 0 failed" "$OUT/conformance.log"; then
      echo "❌ must-pass scenario $m did not pass"
      CODE=1
    fi
  done
fi
if [ "$CODE" = 0 ]; then
  if [ $# -eq 0 ]; then echo "✅ MCP conformance: every failure is an expected one; initialize, ping, tools-list and DNS-rebinding protection pass"
  else echo "✅ MCP conformance: $1 as expected"; fi
fi
exit "$CODE"
