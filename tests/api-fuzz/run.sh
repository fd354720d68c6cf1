#!/usr/bin/env bash
# Fuzzes every route of the hub's HTTP API from its OpenAPI document with schemathesis, for a
# bounded time, against a throwaway demo hub on loopback. Fails on any 5xx, any status the
# document does not list for the route, any response whose content type or body breaks the
# document, and any request the document calls invalid that the hub accepts.
#
#   tests/api-fuzz/run.sh [SECONDS]        (default 90: the whole run, all passes together)
#
# Environment:
#   API_FUZZ_VENV   virtualenv holding schemathesis (default target/api-fuzz/venv; `make
#                   api-fuzz` creates it with the pinned version). This script installs nothing.
#   API_FUZZ_SEED   schemathesis seed, to replay a run (default: random, printed).
#   WARTA_BIN       the `warta` binary (default: built here with cargo).
#
# The hub gets a fresh data directory with the demo office (crates/warta-hub/src/demo.rs); what
# schemathesis creates there (users, items, blobs) is deleted with it. Reports (JUnit, and a
# pytest file reproducing each failure) go to target/api-fuzz/report/; the hub's log to
# target/api-fuzz/hub.log.
#
# Seven passes share the time: as the admin, as a reporter and an editor (items, attachments;
# the documented ids point at the demo's items, so some requests get past the 404), then the
# operations that can take a session away (changing users, signing out, ending one of one's own
# sessions, ending all of a user's), each on its own with its own token, so that they cannot
# turn the rest of the run into a wall of 401s; ending all of a user's sessions goes last, as it
# also ends the tokens of the passes before it. One worker: hypothesis, under
# several threads on Python 3.11, fails in ast.parse ("AST constructor recursion depth mismatch").
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

seconds=${1:-90}
venv=${API_FUZZ_VENV:-$root/target/api-fuzz/venv}
st=$venv/bin/st
py=$venv/bin/python
if [ ! -x "$st" ]; then
    echo "api-fuzz: schemathesis is not installed in $venv; run \`make api-fuzz\`" \
        "(it creates the virtualenv with the pinned schemathesis)" >&2
    exit 2
fi

if [ -z "${WARTA_BIN:-}" ]; then
    cargo build -q -p warta-cli
    WARTA_BIN=${CARGO_TARGET_DIR:-$root/target}/debug/warta
fi

out=$root/target/api-fuzz
mkdir -p "$out"
rm -rf "$out/report"
data=$(mktemp -d)
hub_pid=
cleanup() {
    if [ -n "$hub_pid" ]; then
        kill "$hub_pid" 2>/dev/null || true
        wait "$hub_pid" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT

# A free port on loopback, then the hub on it.
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$WARTA_BIN" serve --demo --data "$data" --listen "127.0.0.1:$port" >"$out/hub.log" 2>&1 &
hub_pid=$!

# Waits for the hub, then prints a bearer token for the demo user $1.
token() {
    "$py" - "$base" "$1" <<'EOF'
import json, sys, time, urllib.request, urllib.error
base, user = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 120
while True:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=5).read()
        break
    except (urllib.error.URLError, OSError):
        if time.monotonic() > deadline:
            sys.exit("api-fuzz: the hub did not answer on " + base + " within 120 s")
        time.sleep(0.2)
req = urllib.request.Request(
    base + "/api/v1/auth/login",
    data=json.dumps({"username": user, "password": "warta-demo"}).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(req, timeout=30))["token"])
EOF
}

seed=${API_FUZZ_SEED:-$RANDOM$RANDOM}
echo "==> api-fuzz: hub on $base, ${seconds} s, seed $seed (replay: API_FUZZ_SEED=$seed $0 $seconds)"

# Checks: everything that judges a single response against the document. Left out:
# positive_data_acceptance (valid-looking requests are refused all the time for ids that do not
# exist or roles the caller lacks) and the checks that need stateful links.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,missing_required_header,ignored_auth,unsupported_method,allow_header_conformance
# GET /events is an endless server-sent event stream: a request that succeeds never ends, so
# schemathesis can only time out on it (its refusals are covered by crates/warta-hub/tests).
risky=(--exclude-operation-id logout --exclude-operation-id update_user --exclude-operation-id events
    --exclude-operation-id revoke_my_session --exclude-operation-id revoke_user_sessions)

# Every token is taken before fuzzing starts: schemathesis's sign-ins with made-up passwords
# soon have the hub refuse any sign-in from this address for 15 minutes (429), as it should.
admin_token=$(token admin)
reporter_token=$(token reporter)
editor_token=$(token editor)
users_token=$(token admin)
logout_token=$(token admin)
my_sessions_token=$(token admin)
revoke_token=$(token admin)

status=0
pass() {
    local name=$1 user=$2 t=$3 share=$4
    shift 4
    local budget=$((seconds * share / 100))
    [ "$budget" -ge 1 ] || budget=1
    echo "==> api-fuzz pass \"$name\" as $user, at most ${budget} s"
    "$st" run "$base/api/v1/openapi.json" \
        --url "$base" \
        -H "Authorization: Bearer $t" \
        --checks "$checks" \
        --phases examples,coverage,fuzzing \
        --max-examples 60 \
        --max-time "$budget" \
        --workers 1 \
        --seed "$seed" \
        --request-timeout 30 \
        --suppress-health-check all \
        --warnings off \
        --report junit,pytest${API_FUZZ_EXTRA_REPORT:+,$API_FUZZ_EXTRA_REPORT} \
        --report-dir "$out/report/$name" \
        "$@" || status=1
}

pass admin admin "$admin_token" 40 "${risky[@]}"
pass reporter reporter "$reporter_token" 20 "${risky[@]}" --include-tag items --include-tag attachments
pass editor editor "$editor_token" 20 "${risky[@]}" --include-tag items --include-tag attachments
# An admin cannot deactivate themself or drop their own admin role, so this token survives.
pass users admin "$users_token" 8 --include-operation-id update_user
pass logout admin "$logout_token" 4 --include-operation-id logout
pass my_sessions admin "$my_sessions_token" 4 --include-operation-id revoke_my_session
pass revoke_sessions admin "$revoke_token" 4 --include-operation-id revoke_user_sessions

if ! kill -0 "$hub_pid" 2>/dev/null; then
    echo "api-fuzz: the hub died during the run; see $out/hub.log" >&2
    status=1
fi
if grep -q "internal error" "$out/hub.log"; then
    echo "api-fuzz: the hub logged internal errors:" >&2
    grep "internal error" "$out/hub.log" | head -20 >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "api-fuzz: 1 passed, 0 failed"
else
    echo "api-fuzz: 0 passed, 1 failed (reports in $out/report/)"
fi
exit "$status"
