#!/usr/bin/env bash
# The Java binding's tests: builds the JNI wrapper (SWIG over capi/include/datahike/datahike.h,
# bindings/java/CMakeLists.txt) once against an already built libdatahike, then runs the JUnit 5
# suite with Maven (the API, misuse, threads, and the shared conformance corpus through Java).
#
#   BUILD_DIR=build bash scripts/test-java.sh     (BUILD_DIR: a built tree holding libdatahike.so.0)
#
# Maven downloads its plugins and JUnit on the first run (Maven Central) and works offline after.
# The conformance cases come from $DATAHIKE_SHARED_DIR/conformance (default ../shared/conformance).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=$(cd "${BUILD_DIR:-build}" && pwd)
jni_dir="$build_dir/java-jni"
shared_dir="${DATAHIKE_SHARED_DIR:-$root/../shared}"

if [ ! -e "$build_dir/libdatahike.so.0" ]; then
  echo "test-java: no $build_dir/libdatahike.so.0; build the library first (cmake --build $build_dir --target datahike)" >&2
  exit 1
fi
for tool in mvn javac swig; do
  command -v "$tool" >/dev/null || { echo "test-java: $tool not found (Debian: maven default-jdk-headless swig)" >&2; exit 1; }
done

generator=()
[ -e "$jni_dir/CMakeCache.txt" ] || { command -v ninja >/dev/null && generator=(-G Ninja); }
cmake -S bindings/java -B "$jni_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DDATAHIKE_LIBRARY="$build_dir/libdatahike.so.0" >/dev/null
cmake --build "$jni_dir" -j "${JOBS:-2}" >/dev/null

rm -rf bindings/java/target/surefire-reports   # counted below: this run's reports only
mvn -q -B -f bindings/java test -Ddatahike.jni.dir="$jni_dir" \
    -Ddatahike.conformance.dir="$shared_dir/conformance"

# Maven's -q hides Surefire's summary: count the reports.
python3 - "$root/bindings/java/target/surefire-reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
tests = failures = skipped = 0
for f in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    s = ET.parse(f).getroot()
    tests += int(s.get("tests", 0))
    failures += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
print(f"java: {tests - failures - skipped} passed, {failures} failed, {skipped} skipped")
sys.exit(1 if failures or tests == 0 else 0)
PY
