#!/bin/sh
# printenv for the demo image: busybox has none, and tests read a
# container's environment with it.
[ $# -eq 0 ] && exec env
rc=0
for name; do
  case $name in '' | [0-9]* | *[!A-Za-z0-9_]*) rc=1; continue ;; esac
  if eval "[ -n \"\${$name+set}\" ]"; then eval "printf '%s\\n' \"\$$name\""; else rc=1; fi
done
exit $rc
