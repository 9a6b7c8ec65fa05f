# shellcheck shell=bash
# What up.sh (starts and watches the dev stack) and restart.sh (make
# dev-restart) share: where the stack's state lives, its process table, how
# a process is started and how to tell that it is ready.
#
# The process table is $STATE/run/: one file per process, named after it
# (us-east, worker-eu-west, consul, gateway-2, ...), a bash fragment with its
# command line (cmd), log, readiness check (ready, a bash command), pid and
# status (starting or ready); NAME.exit holds that pid and, once the process
# has ended, its exit status. $STATE/run/supervisor holds up.sh's pid and the
# names in start order, and exists only while up.sh runs.

DEV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$DEV_ROOT" || exit # relative paths (STATE, configs/) are the repository's
BIN=${BIN:-$DEV_ROOT/bin}
STATE=${STATE:-.dev}
case $STATE in /*) ;; *) STATE=$DEV_ROOT/$STATE ;; esac
RUN=$STATE/run

# The entry load read last, and what supervisor_running read.
cmd=() log='' ready='' pid='' status=''
# shellcheck disable=SC2034 # stack_names is restart.sh's
supervisor='' stack_names=()

die() {
  echo "$*" >&2
  exit 1
}

# q ARGS...: ARGS quoted as one bash command line.
q() { printf '%q ' "$@"; }

# record NAME LOG READY CMD...: NAME's entry, not started yet.
record() {
  local name=$1
  log=$2 ready=$3 pid='' status=stopped
  shift 3
  cmd=("$@")
  save "$name"
}

# save NAME: write NAME's entry from cmd, log, ready, pid and status; a
# reader never sees half of it.
save() {
  local f=$RUN/$1
  {
    printf 'log=%q\nready=%q\npid=%q\nstatus=%q\ncmd=(' "$log" "$ready" "$pid" "$status"
    printf ' %q' "${cmd[@]}"
    printf ' )\n'
  } >"$f.tmp" && mv "$f.tmp" "$f"
}

# load NAME: set cmd, log, ready, pid and status from NAME's entry.
load() {
  [ -f "$RUN/$1" ] || return 1
  # shellcheck disable=SC1090 # written by save
  . "$RUN/$1"
}

# running PID [PROGRAM]: PID is alive and still PROGRAM, its name as in
# /proc/PID/comm (a pid can be reused).
running() {
  local comm
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  if [ -n "${2:-}" ] && read -r comm 2>/dev/null <"/proc/$1/comm"; then [ "$comm" = "${2:0:15}" ]; fi
}

# alive NAME: NAME's recorded process is running. For a moment after
# launch the recorded pid is still the wrapper's bash, about to exec the
# program: that counts as running too, or a restart would be reported as
# "exited while starting" (seen under load).
alive() { load "$1" && { running "$pid" "${cmd[0]##*/}" || running "$pid" bash; }; }

# entries: the names in the process table.
entries() {
  local f
  for f in "$RUN"/*; do
    case ${f##*/} in *.* | supervisor) ;; *) [ -f "$f" ] && echo "${f##*/}" ;; esac
  done
}

# supervisor_running: an up.sh is watching this state dir; sets supervisor
# (its pid) and stack_names (the names in start order).
supervisor_running() {
  local supervisor_comm
  [ -f "$RUN/supervisor" ] || return 1
  # shellcheck disable=SC1091 # written by up.sh
  . "$RUN/supervisor"
  running "$supervisor" "$supervisor_comm"
}

# launch NAME: start NAME's command in a session of its own, so neither a
# Ctrl-C in the terminal nor a closed terminal reaches it (up.sh stops it)
# and a kill of it reaches nothing else; its output is appended to its log.
# Only a parent learns how a process ended, so a small bash around it
# writes its pid, then its exit status, to NAME.exit.
launch() {
  local name=$1 exitf=$RUN/$1.exit i
  load "$name" || die "$name is not in the process table"
  rm -f "$exitf"
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c '
    exitf=$1 log=$2; shift 2
    (echo "$BASHPID" >"$exitf.tmp" && mv "$exitf.tmp" "$exitf" && exec "$@") </dev/null >>"$log" 2>&1
    echo "$?" >>"$exitf"' launch "$exitf" "$log" "${cmd[@]}" </dev/null >/dev/null 2>&1 &
  disown $!
  for ((i = 0; i < 100; i++)); do
    if [ -s "$exitf" ]; then
      read -r pid <"$exitf"
      status=starting
      save "$name"
      return
    fi
    sleep 0.05
  done
  die "could not start $name (see $log)"
}

# exit_status NAME PID: how NAME's process PID ended ("137: SIGKILL"), once
# its wrapper has written it; fails if unknown.
exit_status() {
  local p='' code='' i
  for ((i = 0; i < 10; i++)); do
    { read -r p && read -r code; } 2>/dev/null <"$RUN/$1.exit" || true
    [ "$p" = "$2" ] || return 1 # restarted since: that status is gone
    if [ -n "$code" ]; then
      if ((code > 128)); then code="$code: SIG$(kill -l $((code - 128)))"; fi
      echo "$code"
      return
    fi
    sleep 0.1 # the wrapper writes it as soon as it sees the end
  done
  return 1
}

# wait_ready NAME: poll NAME's readiness check until it passes, then mark
# it ready; fail, showing the end of its log, if it exits first or is not
# ready within 120s.
wait_ready() {
  local name=$1 deadline=$((SECONDS + 120)) how
  load "$name"
  until bash -c "$ready" >/dev/null 2>&1; do
    if ! alive "$name"; then
      how=$(exit_status "$name" "$pid") && how=" (exit $how)"
      echo "$name exited while starting$how; the end of ${log#"$DEV_ROOT"/}:" >&2
      tail -n 5 "$log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "$name was not ready within 120s; see ${log#"$DEV_ROOT"/}" >&2
      return 1
    fi
    sleep 0.25
  done
  status=ready
  save "$name"
}

# restart_hint NAME: the command that brings NAME back.
restart_hint() {
  if [ "$STATE" = "$DEV_ROOT/.dev" ]; then
    echo "make dev-restart NAME=$1"
  else
    echo "STATE=$STATE make dev-restart NAME=$1"
  fi
}
