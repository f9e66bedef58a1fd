#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the external peers the interop tests
# talk to (Debian's Apache ZooKeeper, its C client, kazoo; npm dev dependencies), builds,
# and runs every test file under node's test runner. Its summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-peers.sh
npm run --silent build

# Only *.test.js files: given a directory, node's runner would also run every other .js file
# under test/ (helpers, the sim and chaos command-line runners) as a test.
if [ "$#" -eq 0 ]; then set -- dist/test/; fi
files=()
for path in "$@"; do
  if [ -d "$path" ]; then
    while IFS= read -r file; do files+=("$file"); done < <(find "$path" -name '*.test.js' | sort)
  else
    files+=("$path")
  fi
done

# Test files run one at a time by default: the interop and crash tests start JVMs and
# server processes, and a 2-core machine is slower, not faster, with them side by side.
exec node --test --test-reporter=spec --test-concurrency="${PADDOCK_TEST_CONCURRENCY:-1}" "${files[@]}"
