#!/usr/bin/env bash
# Runs the Postman collection with newman against a fresh vippsmgmt server: a new binary, an
# empty SQLite database with the demo data, a free port on 127.0.0.1. Exits with newman's status.
#
# usage: postman/run-newman.sh [extra newman arguments]
set -euo pipefail

# Like the PostgreSQL and Chromium tests: without Node.js a developer's run skips, CI's fails.
if ! command -v npx >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "newman: npx (Node.js) is required in CI" >&2
		exit 1
	fi
	echo "newman: skipped, npx (Node.js) is not installed" >&2
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
server_pid=""

cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid"
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building vippsmgmt" >&2
(cd "$root" && go build -o "$tmp/vippsmgmt" ./cmd/vippsmgmt)

# Port 0 lets the kernel pick a free port; the banner says which one it picked.
"$tmp/vippsmgmt" serve --addr 127.0.0.1:0 --db "sqlite:$tmp/vippsmgmt.db" --demo \
	--admin-token "newman-$$-$RANDOM" >"$tmp/stdout.log" 2>"$tmp/server.log" &
server_pid=$!

base_url=""
for _ in $(seq 1 100); do
	base_url=$(sed -n 's|^vippsmgmt is listening on \(http://[^ ]*\).*|\1|p' "$tmp/stdout.log")
	[[ -n $base_url ]] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "vippsmgmt did not start:" >&2
		cat "$tmp/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ -z $base_url ]]; then
	echo "vippsmgmt did not report its address" >&2
	exit 1
fi

ready=""
for _ in $(seq 1 100); do
	if curl -fsS "$base_url/readyz" >/dev/null 2>&1; then
		ready=yes
		break
	fi
	sleep 0.1
done
if [[ -z $ready ]]; then
	echo "vippsmgmt at $base_url never became ready:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi
echo "vippsmgmt is ready at $base_url" >&2

# The quick start names four variables and nothing else. The first run sets exactly those (as
# globals, like the quick start's global environment), so the management-key folder must skip,
# visibly; the second run adds the demo's management keys from the environment file, so it runs.
env_file="$here/vippsmgmt-local-demo.postman_environment.json"
demo_value() {
	node -e 'const e = require(process.argv[1]); const v = e.values.find(v => v.key === process.argv[2]); if (!v || !v.value) process.exit(1); console.log(v.value)' "$env_file" "$1"
}

echo "newman: quick start variables only (client-id, client-secret, Ocp-Apim-Subscription-Key, base_url_production)" >&2
npx --yes newman@6 run "$here/vippsmgmt-management-api.postman_collection.json" \
	--global-var "client-id=$(demo_value client-id)" \
	--global-var "client-secret=$(demo_value client-secret)" \
	--global-var "Ocp-Apim-Subscription-Key=$(demo_value Ocp-Apim-Subscription-Key)" \
	--global-var "base_url_production=$base_url" \
	--reporters cli,json --reporter-json-export "$tmp/quickstart.json" "$@" | tee "$tmp/quickstart.out"
# Passing is not enough: the management-key folder must have been skipped (no request sent), and
# the output must say so for each of its two requests.
notes=$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/quickstart.out" | grep -c '\[skipped\] management keys not given' || true)
sent=$(node -e '
const run = require(process.argv[1]).run;
console.log(run.executions.filter(x => x.item.name.includes("management keys") || x.item.name.includes("management token")).length)
' "$tmp/quickstart.json")
if [[ $notes != 2 || $sent != 0 ]]; then
	echo "newman: the management-key folder was not skipped visibly: $notes skip notes, $sent requests sent" >&2
	exit 1
fi

echo "newman: with the demo's management keys (local demo environment)" >&2
npx --yes newman@6 run "$here/vippsmgmt-management-api.postman_collection.json" \
	-e "$env_file" --env-var "base_url_production=$base_url" \
	--reporters cli,json --reporter-json-export "$tmp/management.json" "$@"
node -e '
const run = require(process.argv[1]).run;
const sent = run.executions.filter(x => (x.item.name.includes("management keys") || x.item.name.includes("management token")) && x.response);
if (sent.length !== 2) {
	console.error("newman: management keys were given but " + sent.length + " of 2 management-key requests were sent");
	process.exit(1);
}
' "$tmp/management.json"
