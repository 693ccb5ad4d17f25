#!/usr/bin/env bash
# The Debian package, as a user meets it on a fresh Debian 12 machine (run it
# there as root, e.g. in a brand-new root): build the package, install it with
# apt (which may pull only Debian's packages), then run the installed berth:
# --version, its man page and completions in place, and the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(scripts/package.sh "${TMPDIR:-/tmp}/berth-package.$$")
echo "== apt-get install $deb" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
echo "== berth --version" >&2
/usr/bin/berth --version
test -f /usr/share/man/man1/berth.1.gz || test -f /usr/share/man/man1/berth.1
test -f /usr/share/bash-completion/completions/berth
echo "== the demo with the installed berth" >&2
BERTH=/usr/bin/berth scripts/demo.sh
