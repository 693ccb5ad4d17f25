#!/usr/bin/env bash
# Builds berth's demo image, localhost/berth-demo:1, without the internet:
# Debian's static busybox as the whole root filesystem, imported with podman.
# By default it serves /www over HTTP on port 8000 (busybox httpd), so a
# template with just `image:` and `ports: [8000]` is a working web service.
# /health is a static "ok"; /cgi-bin/health answers 500 while /tmp/unhealthy
# exists in the container.
# localhost/berth-entry:1 is the same files with an ENTRYPOINT that takes
# arguments, as vLLM's image does (entry-serve.sh), a default CMD and WORKDIR
# /www: what runs there shows whether a provider ran the image's own
# ENTRYPOINT and CMD.
#
# Usage: demo-image.sh [RUNTIME_COMMAND...]   (default: podman; docker works too)
# Idempotent: does nothing when this version of the image is in that store.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
image=localhost/berth-demo:1
entry_image=localhost/berth-entry:1
version=4  # bump when the contents below change
podman_cmd=("$@")
((${#podman_cmd[@]})) || podman_cmd=(podman)

built() {
  [[ "$("${podman_cmd[@]}" image inspect --format '{{index .Labels "berth.demo.version"}}' \
    "$1" 2>/dev/null)" == "$version" ]]
}
if built "$image" && built "$entry_image"; then
  exit 0
fi
busybox=/bin/busybox
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
  echo "demo-image: a static $busybox is needed (apt-get install busybox-static)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,root,www/cgi-bin,data} "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e "$rootfs/bin/$applet" ]] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'hello from berth\n' >"$rootfs/www/index.html"
printf 'ok\n' >"$rootfs/www/health"
install -m 0755 "$here/printenv.sh" "$rootfs/bin/printenv"
install -m 0755 "$here/health-cgi.sh" "$rootfs/www/cgi-bin/health"
install -m 0755 "$here/entry-serve.sh" "$rootfs/bin/entry-serve"
# Reproducible archive: same bytes, same image layer, on every machine.
tar -C "$rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/rootfs.tar" .
"${podman_cmd[@]}" import \
  --change 'ENV PATH=/bin' \
  --change 'WORKDIR /' \
  --change 'EXPOSE 8000' \
  --change "LABEL berth.demo.version=$version" \
  --change 'CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]' \
  "$work/rootfs.tar" "$image" >/dev/null
"${podman_cmd[@]}" import \
  --change 'ENV PATH=/bin' \
  --change 'WORKDIR /www' \
  --change 'EXPOSE 8000' \
  --change "LABEL berth.demo.version=$version" \
  --change 'ENTRYPOINT ["/bin/entry-serve"]' \
  --change 'CMD ["--port", "8000", "--say", "hello from the image CMD"]' \
  "$work/rootfs.tar" "$entry_image" >/dev/null
