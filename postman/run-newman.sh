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

status=0
npx --yes newman@6 run "$here/vippsmgmt-management-api.postman_collection.json" \
	-e "$here/vippsmgmt-local-demo.postman_environment.json" \
	--env-var "base_url=$base_url" "$@" || status=$?
exit "$status"
