#!/usr/bin/env bash
# apt-install.sh PACKAGE NEEDED-BY [optional]: install a Debian package with
# apt-get unless its command is already on PATH. Only root can: anyone else
# is told how, and the make target fails, unless the package is optional
# (then it is a warning: what needs it says so itself when it runs).
set -euo pipefail
pkg=$1 why=$2 optional=${3:-}
command -v "$pkg" >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "${optional:+warning: }$why needs $pkg: install it as root (Debian 12: sudo apt-get install -y $pkg)" >&2
  [ -n "$optional" ] && exit 0
  exit 1
fi
echo "installing $pkg from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y "$pkg" || { apt-get update && apt-get install -y "$pkg"; }
