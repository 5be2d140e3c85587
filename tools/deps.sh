#!/bin/sh
# Installs what the kit needs on Debian or Ubuntu (make deps). Quick and
# silent when everything is already there.
set -e
PACKAGES="gcc gcc-multilib make binutils gdb qemu-system-x86 grub-pc-bin grub-common xorriso mtools \
bubblewrap python3 python3-pytest python3-pytest-xdist"

# Python before 3.11 has no tomllib: the grader then reads TOML with tomli.
# The packages are for the distribution's Python, whatever python3 PATH finds.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if command -v "$python" >/dev/null && ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PACKAGES="$PACKAGES python3-tomli"
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "make deps knows apt-get only. Install by hand: $PACKAGES" >&2
    echo "(or an i686-elf- cross toolchain, qemu-system-i386, GRUB 2 with xorriso, python3 with pytest)" >&2
    exit 1
fi
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: everything is installed"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Try the package lists we have first; refresh them only if that fails.
$SUDO apt-get install -y --no-install-recommends $missing ||
    { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends $missing; }
