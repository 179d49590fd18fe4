#!/usr/bin/env bash
# Fuzzes protocol::parse with libFuzzer for a bounded time, seeded with tests/corpus/.
#   tests/fuzz/run.sh [SECONDS]        (default 60)
# Builds with clang++ into build-fuzz/ at the root. Inputs libFuzzer finds are kept in
# build-fuzz/corpus (reused by the next run); a crash is saved in build-fuzz/artifacts/.
# Exit status: 0 if nothing broke, libFuzzer's non-zero status otherwise.
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then  # the comment above is the help
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
  exit 0
fi
cd "$(dirname "$0")/../.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: tests/fuzz/run.sh [SECONDS]" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null 2>&1; then
  echo "run.sh: clang++ not found (libFuzzer comes with clang); install it with:" >&2
  echo "  apt-get install -y clang" >&2
  exit 1
fi

out=build-fuzz
rm -rf "$out/seeds"
mkdir -p "$out/seeds" "$out/corpus" "$out/artifacts"
fmt_libs=$(pkg-config --libs fmt 2>/dev/null || echo -lfmt)

# The corpus loader is plain C++: no sanitizers needed to turn the corpus into seed files.
clang++ -std=c++20 -O1 -o "$out/corpus_seeds" tests/fuzz/corpus_seeds.cpp
"$out/corpus_seeds" tests/corpus/bad_requests.txt "$out/seeds"

# shellcheck disable=SC2086  # fmt_libs may be several words
clang++ -std=c++20 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Icommon -o "$out/protocol_fuzz" tests/fuzz/protocol_fuzz.cpp common/protocol.cpp $fmt_libs

# -max_len above kMaxHttpHeader (8192) so the header limit itself is reached.
exec "$out/protocol_fuzz" -max_total_time="$seconds" -max_len=10000 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -dict=tests/fuzz/protocol.dict \
  -artifact_prefix="$out/artifacts/" "$out/corpus" "$out/seeds"
