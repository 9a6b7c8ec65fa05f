#!/usr/bin/env bash
# make dev-restart NAME=<name>: bring one dead process of the running dev
# stack back, with the command line, port, state and log it had, detached
# from this terminal; up.sh (make dev) watches it from then on and stops it
# on Ctrl-C. Waits until it is ready, with the check up.sh uses.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

name=${1:-}
if ! supervisor_running; then
  die "no dev stack is running from ${STATE#"$DEV_ROOT"/}: start one with make dev (make dev CONSUL=1 for consul and gateway-2)"
fi
if [ -z "$name" ] || ! [[ " ${stack_names[*]} " == *" $name "* ]]; then
  hint=''
  case $name in consul | gateway-[12]) hint=", which only make dev CONSUL=1 runs" ;; esac
  die "${name:+unknown name \"$name\"$hint; }NAME must be one of: ${stack_names[*]}"
fi
if alive "$name"; then
  die "$name is still running (pid $pid); make dev-restart only brings back a process that died"
fi
# A worker cannot start without its region, nor a replica without Consul.
case $name in
  worker-*) needs=${name#worker-} ;;
  gateway-*) needs=consul ;;
  *) needs='' ;;
esac
if [ -n "$needs" ] && ! alive "$needs"; then
  die "$name needs $needs, which is down: $(restart_hint "$needs") first"
fi

launch "$name"
# up.sh stops every process recorded before it finished stopping; one
# recorded later finds the supervisor gone and is stopped here.
if ! supervisor_running; then
  kill "$pid" 2>/dev/null || true
  die "the dev stack stopped meanwhile; $name was not restarted"
fi
echo "$name started (pid $pid, log ${log#"$DEV_ROOT"/}); waiting until it is ready..."
wait_ready "$name" || die "$(restart_hint "$name") again once the cause is fixed"
echo "$name is back and ready."
