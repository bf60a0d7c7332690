#!/usr/bin/env bash
# Set up a fresh machine (only Python and pip needed) and run atsoc's main job or its tests.
#
#   bash scripts/run.sh demo    generate the PLIC (default configuration), simulate it under
#                               Verilator with a waveform, print where the outputs are
#   bash scripts/run.sh test    run the whole test suite (pytest -n 2)
#
# Set-up is idempotent: Debian packages (make, g++, ccache, liblz4-dev, tshark) are installed when
# missing and apt-get is usable, then the project is pip-installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in make g++ ccache liblz4-dev tshark; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages: ${need_apt[*]}"
        # tshark asks whether non-root users may capture: answer no, non-interactively.
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "warning: missing ${need_apt[*]} (not root or no apt-get); ccache/liblz4 are optional," \
             "make and g++ are needed by Verilator, tshark by the Ethernet tests" >&2
    fi
fi

# (Re)install when atsoc is missing, points at another checkout, or pyproject.toml changed.
here="$(pwd -P)"
if ! python3 -c "import atsoc.scripts.cli, os, sys; sys.exit(os.path.realpath(os.path.dirname(atsoc.__file__)) != sys.argv[1])" "$here" 2>/dev/null \
        || [ pyproject.toml -nt .atsoc-installed ]; then
    python3 -m pip install --quiet --disable-pip-version-check -e . && touch .atsoc-installed
fi

case "${1:-}" in
    demo) shift; exec python3 -m atsoc demo -o out/demo "$@" ;;
    test) shift; exec python3 -m pytest -n 2 tests "$@" ;;
    *) echo "usage: bash scripts/run.sh demo|test [extra arguments]" >&2; exit 2 ;;
esac
