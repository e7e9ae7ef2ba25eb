#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every suite
# (unit tests twice: optimised and under ASan+UBSan), and ends with
# "N passed, N failed" on a line of its own.
#
#   scripts/test.sh              everything
#   scripts/test.sh unit         only the named meson suites
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

suites=("$@")
build=build
build_san=build-san

configure() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
      cat "$dir.setup.log"; return 1; }
  fi
}

fail_build() {
  echo "test.sh: $1 failed"
  echo "0 passed, 1 failed"
  exit 1
}

configure "$build" || fail_build "meson setup $build"
ninja -C "$build" || fail_build "build ($build)"
configure "$build_san" -Db_sanitize=address,undefined -Db_lundef=false \
  -Dprobe=disabled || fail_build "meson setup $build_san"
ninja -C "$build_san" || fail_build "build ($build_san)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_meson_test() {
  local dir=$1; shift
  local args=(--print-errorlogs --num-processes 1)
  if [ ${#suites[@]} -gt 0 ]; then
    for s in "${suites[@]}"; do args+=(--suite "$s"); done
  fi
  meson test -C "$dir" "${args[@]}" "$@"
}

# Unit and collector tests under the sanitizers; everything (but the
# sanitizer-only runs) in the optimised build. Benchmarks are not tests.
run_meson_test "$build_san" --no-suite bench --no-suite probe --no-suite accuracy
run_meson_test "$build" --no-suite bench

count() {
  python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
print(passed, failed, skipped)
PY
}

read -r passed failed skipped < <(count "$build_san/meson-logs/testlog.json" \
                                        "$build/meson-logs/testlog.json")
if [ "$skipped" -gt 0 ]; then
  echo "($skipped skipped)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
