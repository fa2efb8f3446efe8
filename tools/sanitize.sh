#!/usr/bin/env bash
# Build fastreg with AddressSanitizer and UndefinedBehaviorSanitizer (thread
# pool kept) in a copy of the tree, then run the test suite there, stopping at
# the first error.  Tests marked `slow` (long runs, sizes past 2**31 elements
# that the sanitizers' shadow memory would multiply) are left out.
#
#   tools/sanitize.sh [pytest arguments...]      e.g. tools/sanitize.sh tests/test_rotate.py
#
# Needs gcc (or a compiler that takes -fsanitize=address,undefined and can
# print the path of its libasan) and the Python environment the suite needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python}
cc=${CC:-gcc}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the tracked files and the files not yet committed, without build products
(cd "$root" && git ls-files -co --exclude-standard -z) | (cd "$root" && xargs -0 tar -cf - --) |
    (cd "$work" && tar -xf -)

"$python" -c "import Cython, setuptools" 2>/dev/null || {
    echo "sanitize: the build needs Cython and setuptools: pip install 'Cython>=3.1' 'setuptools>=64'" >&2
    exit 1; }

flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
echo "+ CFLAGS='$flags' $python setup.py build_ext --inplace"
(cd "$work" && CC="$cc" CFLAGS="$flags" LDFLAGS="$flags" \
    "$python" setup.py build_ext --inplace -j 2 >build.log 2>&1) || { cat "$work/build.log"; exit 1; }
grep -q "building with the pthread pool" "$work/build.log" || {
    echo "sanitize: the build has no thread pool" >&2; exit 1; }

# Python itself is not instrumented: the ASan runtime must be loaded first,
# and libstdc++ with it, or ASan cannot find the real __cxa_throw and aborts
# on the first C++ exception of an extension (torch's errors).
libasan=$("$cc" -print-file-name=libasan.so)
libstdcxx=$("$cc" -print-file-name=libstdc++.so)
[ -f "$libasan" ] || { echo "sanitize: $cc has no libasan.so" >&2; exit 1; }
export LD_PRELOAD="$libasan $libstdcxx"
# Python's own allocations are never freed at exit: leaks are not reported.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
cd "$work"
"$python" -c "import fastreg, sys; sys.exit(0 if fastreg._runtime.HAVE_THREADS else 'no threads')"
echo "+ $python -m pytest -x -q -m 'not slow' -p no:cacheprovider $*"
"$python" -m pytest -x -q -m "not slow" -p no:cacheprovider "$@"
