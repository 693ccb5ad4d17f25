#!/usr/bin/env bash
# The Debian package from the build tree BUILD (ctest passes it): built with
# CPack, it holds the binary, man page and completions, runs from where it
# unpacks, and depends only on packages Debian's archive has.
#   tests/package_test.sh BUILD
set -euo pipefail
build=$1
out=$(mktemp -d /tmp/berth-package-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls "$out"/berth_*_*.deb)
echo "package: $(basename "$deb")"

version=$(dpkg-deb -f "$deb" Version)
[[ $version =~ ^[0-9] ]] || { echo "version '$version' does not start with a digit" >&2; exit 1; }

# Every dependency (and each alternative) is a package apt knows.
depends=$(dpkg-deb -f "$deb" Depends)
echo "depends: $depends"
for dep in libcurl4 openssh-client libstdc++6 libc6; do
  [[ ",$depends," == *"$dep"* ]] || { echo "Depends lacks $dep" >&2; exit 1; }
done
IFS=',' read -ra items <<<"$depends"
for item in "${items[@]}"; do
  IFS='|' read -ra alternatives <<<"$item"
  for alt in "${alternatives[@]}"; do
    name=$(sed 's/(.*//; s/ //g' <<<"$alt")
    apt-cache show "$name" >/dev/null 2>&1 || { echo "'$name' is no Debian package" >&2; exit 1; }
  done
done

dpkg-deb -x "$deb" "$out/root"
for f in usr/bin/berth usr/share/man/man1/berth.1 usr/share/bash-completion/completions/berth \
         usr/share/zsh/vendor-completions/_berth usr/share/fish/vendor_completions.d/berth.fish \
         usr/share/doc/berth/README.md usr/share/doc/berth/templates.md usr/share/doc/berth/ci.md; do
  [[ -e "$out/root/$f" ]] || { echo "the package lacks /$f" >&2; exit 1; }
done
got=$("$out/root/usr/bin/berth" --version)
[[ $got == "berth $version" ]] || { echo "--version says '$got', the package '$version'" >&2; exit 1; }
"$out/root/usr/bin/berth" init --list >/dev/null
echo "ok: $got"
