#!/usr/bin/env bash
# The README's test command (.ci/run calls it too): `dotnet test` with its arguments, after making sure the
# system programs two groups of tests start are there, since a fresh Debian machine has neither:
#  - the dashboard's browser test drives Debian's Chromium over the DevTools Protocol;
#  - the MPI tests (tests/MtlHost.Tests/Distributed) start ranks with Open MPI's mpirun.
# What is missing is installed with apt-get (with sudo when not root). Without apt-get, or when the install fails,
# the tests still run and the tests that need the program say what is missing and how to install it.
set -uo pipefail
cd "$(dirname "$0")"

# Where the browser test looks (tests/MtlHost.Tests/Infrastructure/HeadlessChromium.cs), so that a browser it
# would use is never installed again.
has_chromium() {
  if [ -n "${MTLHOST_CHROMIUM:-}" ] && [ -f "$MTLHOST_CHROMIUM" ]; then return 0; fi
  [ -f /usr/bin/chromium ] || command -v chromium || command -v chromium-browser || command -v google-chrome
}

packages=()
has_chromium >/dev/null 2>&1 || packages+=(chromium)
command -v mpirun >/dev/null 2>&1 || packages+=(openmpi-bin libopenmpi-dev)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  else
    sudo="sudo"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: ${packages[*]} missing and no apt-get to install them: install Chromium (or set MTLHOST_CHROMIUM to a" \
      "Chromium or Chrome executable) and Open MPI's mpirun for the tests that need them" >&2
  elif [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "test.sh: ${packages[*]} missing; installing needs root: apt-get install -y ${packages[*]}" >&2
  else
    echo "test.sh: installing ${packages[*]} for the browser and MPI tests (${sudo:+sudo }apt-get install -y -qq ${packages[*]})"
    # The packages by name for the record: apt-get install -y -qq chromium; apt-get install -y -qq openmpi-bin libopenmpi-dev
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null \
      || echo "test.sh: could not install ${packages[*]}; the tests that need them will fail and say how to install them" >&2
  fi
fi

exec dotnet test "$@"
