#!/usr/bin/env bash
# The test suite from nothing, in one command: what the tests need from
# Debian (installed when missing; this needs root, as the tests do), the npm
# packages, the build, then every test. .ci/run runs exactly this.
#   ./scripts/test.sh [vitest arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."

# Real kernel facilities and real peers, each started by the test that needs it:
#   iproute2 (ip netns), util-linux (unshare, setpriv), libc-bin (getent),
#   dnsmasq-base (a DNS server), tmux (a real terminal for the live view),
#   jq (the README's recipes), strace (which programs socketwatch runs),
#   libfaketime (a stepped wall clock), python3-seccomp (netlink or IPv6 refused),
#   python3 (the fidelity scenarios), podman + runc + busybox-static (a real
#   container, its image made from busybox: no registry is reachable),
#   prometheus (a real server scraping --metrics; promtool checks the exposition),
#   redis-server (a real Redis the output ships to, stopped and started again),
#   curl (reaching a namespace's HTTP servers from inside it).
packages=(iproute2 util-linux libc-bin dnsmasq-base tmux jq strace libfaketime python3 python3-seccomp podman runc busybox-static prometheus redis-server curl)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing what the tests need: ${missing[*]}" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The npm packages, exactly as locked, when they are not there or the lock changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi

npm test -- "$@"
