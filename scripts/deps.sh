#!/bin/sh
# Installs the Debian packages that building, testing and the demo need,
# but only those that are missing, so a prepared machine pays nothing.
set -eu
PACKAGES="lua5.4 liblua5.4-dev libcurl4-openssl-dev libssl-dev lua-cjson lua-busted lua-socket luarocks cmake gcc make pkg-config curl openssl nginx-light libnginx-mod-stream lua-luv lua-cqueues python3-httpx python3-h2 libhiredis-dev redis-server"
[ $# -gt 0 ] && PACKAGES="$PACKAGES $*"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
