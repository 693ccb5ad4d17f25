#!/bin/sh
# The ENTRYPOINT of localhost/berth-entry:1, shaped like vLLM's: the image
# runs a server and the container's arguments configure it. It serves the
# --say text on --port from the working directory, so a test can tell which
# arguments, and which directory, the container really started with.
port=8000
say="no words"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --say) say=$2; shift 2 ;;
    *) echo "entry-serve: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
printf '%s\n' "$say" >index.html || exit 1
printf 'ok\n' >health
exec httpd -f -p "$port" -h "$PWD"
