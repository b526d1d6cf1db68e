#!/usr/bin/env bash
# Installs kvision and, where the machine allows, the Fashion-MNIST data.
#   bash tools/setup.sh         the package and its dependencies
#   bash tools/setup.sh --dev   the same plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian's dataset-fashion-mnist (offline Fashion-MNIST)"
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null; } \
    || echo "setup: could not install dataset-fashion-mnist; kvision will look in the Keras cache or download"
fi

EXTRAS=""
[ "${1:-}" = "--dev" ] && EXTRAS="[dev]"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".${EXTRAS}"
echo "setup: kvision $(python3 -c 'import kvision; print(kvision.__version__)') installed"
