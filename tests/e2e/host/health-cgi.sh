#!/bin/sh
# /cgi-bin/health of the demo image: 200 "ok", or 500 while /tmp/unhealthy
# exists, so a test can make a running server fail its health check the way
# a broken application does (`exec NAME touch /tmp/unhealthy`).
if [ -e /tmp/unhealthy ]; then
  printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nunhealthy\n'
else
  printf 'Content-Type: text/plain\r\n\r\nok\n'
fi
