#!/usr/bin/env bash
# The README's test command (.ci/run calls it too): `dotnet test` with its arguments, after making sure the
# dashboard's browser test has a browser. That test drives Debian's Chromium over the DevTools Protocol and a
# fresh machine has none, so when none is found this installs Debian's `chromium` with apt-get (with sudo when
# not root). Without apt-get, or when the install fails, the tests still run and the browser test says what is missing.
set -uo pipefail
cd "$(dirname "$0")"

# Where the browser test looks (tests/MtlHost.Tests/Infrastructure/HeadlessChromium.cs), so that a browser it
# would use is never installed again.
has_chromium() {
  if [ -n "${MTLHOST_CHROMIUM:-}" ] && [ -f "$MTLHOST_CHROMIUM" ]; then return 0; fi
  [ -f /usr/bin/chromium ] || command -v chromium || command -v chromium-browser || command -v google-chrome
}

if ! has_chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  else
    sudo="sudo"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: no Chromium for the dashboard's browser test, and no apt-get to install Debian's chromium;" \
      "install Chromium or set MTLHOST_CHROMIUM to a Chromium or Chrome executable" >&2
  elif [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "test.sh: no Chromium for the dashboard's browser test; installing it needs root: apt-get install -y chromium" >&2
  else
    echo "test.sh: installing Debian's chromium for the dashboard's browser test (${sudo:+sudo }apt-get install chromium)"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || echo "test.sh: could not install chromium; the browser test will fail and say how to install it" >&2
  fi
fi

exec dotnet test "$@"
