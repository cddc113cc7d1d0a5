#!/bin/sh
# Submit a requirement to a running CCO daemon and wait for the result (curl only).
#   ./submit.sh "a landing page for a bakery" [priority 1-10]
# Needs a daemon: `cco run` (real provider: ANTHROPIC_API_KEY set) or `cco demo --keep` (offline).
# CCO_URL overrides the daemon address (default http://127.0.0.1:3000).
set -eu
URL="${CCO_URL:-http://127.0.0.1:3000}"
REQ="${1:-a landing page for a bakery}"
PRIO="${2:-5}"

# JSON-escape the requirement (backslashes and double quotes) without jq.
ESC=$(printf '%s' "$REQ" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
RESP=$(curl -sS -X POST "$URL/api/requirements" -H "Content-Type: application/json" \
  -d "{\"requirement\": \"$ESC\", \"priority\": $PRIO}")
TASK=$(printf '%s' "$RESP" | sed -n 's/.*"task_id":"\([^"]*\)".*/\1/p')
if [ -z "$TASK" ]; then
  echo "❌ Not accepted: $RESP" >&2
  exit 1
fi
echo "📝 Task $TASK queued"

LAST=""
while :; do
  T=$(curl -sS "$URL/api/tasks/$TASK")
  STATUS=$(printf '%s' "$T" | sed -n 's/^{"id":"[^"]*","requirement":.*"status":"\([a-z]*\)","current_stage".*/\1/p')
  STAGE=$(printf '%s' "$T" | sed -n 's/.*"current_stage":"\([a-z]*\)".*/\1/p')
  NOW="$STATUS ${STAGE:-}"
  [ "$NOW" != "$LAST" ] && echo "   $NOW" && LAST="$NOW"
  case "$STATUS" in
    completed|failed|cancelled)
      case "$T" in *'"archived_at":null'*) sleep 0.5; continue ;; esac
      break ;;
  esac
  sleep 1
done

FILES=$(printf '%s' "$T" | sed -n 's/.*"files":\[\([^]]*\)\].*/\1/p')
DIR=$(printf '%s' "$T" | sed -n 's/.*"workspace_path":"\([^"]*\)".*/\1/p')
if [ "$STATUS" = completed ]; then
  echo "✅ Completed: $FILES"
  echo "   in $DIR"
else
  ERR=$(printf '%s' "$T" | sed -n 's/.*"error":"\([^"]*\)".*/\1/p' | head -n 1)
  echo "❌ $STATUS: $ERR"
  exit 1
fi
