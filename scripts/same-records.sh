#!/usr/bin/env bash
# Do two vtmm binaries print the same run records? For changes meant to leave
# every result alone (speed work, refactors): runs ten small sim
# configurations that between them reach every access-path mechanism (TLB and
# 2 MiB entries, walks, LLC, PML, Memory Mode, Linux-style and PML migration,
# hint faults, PEBS-like sampling, 2 vCPUs, an aged guest, the trace workload)
# with each binary and compares the records byte for byte, git_commit aside.
#   usage: scripts/same-records.sh OLD/vtmm NEW/vtmm
# Prints one line per configuration; exits 1 if any differs. Takes a few
# minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "same-records.sh: usage: scripts/same-records.sh OLD/vtmm NEW/vtmm (two executables)" >&2
  exit 2
fi
configs=(
  "-w gups -p vtmm -r 1:4 --footprint 256MiB"
  "-w gups -p hemem -r 1:4 --footprint 256MiB --vcpus 2"
  "-w redis-ycsb -p tpp -r 1:8"
  "-w graph500-bfs -p memtis -r 1:4 --wl scale=16"
  "-w mcf -p memory-mode -r 1:4"
  "-w seq-dynamic-hot -p vtmm-linux-migration -r 1:4"
  "-w trace -p autonuma -r 1:4 --wl trace=traces/redis.vtrace"
  "-w sparse-hot -p vtmm -r 1:4 --ept-huge --guest-thp --pp huge=hybrid --host optane-subpage --wl updates=2000000 --wl warmup_updates=1000000"
  "-w graph500-sssp -p damon -r 1:8 --ept-huge --wl scale=16"
  "-w pagerank -p nimble -r 1:4 --aged-guest"
)
record() {  # binary, config: the record without its build's commit
  # shellcheck disable=SC2086  # the config is a list of arguments
  "$1" sim --no-wall $2 2>&1 | sed 's/"git_commit":"[^"]*"//'
}
differ=0
for c in "${configs[@]}"; do
  a="$(record "$1" "$c")"
  b="$(record "$2" "$c")"
  for out in "$a" "$b"; do
    if [ "${out:0:1}" != "{" ]; then  # an error is not a record: the same error twice proves nothing
      echo "same-records.sh: '$c' gave no record: ${out%%$'\n'*}" >&2
      exit 2
    fi
  done
  if [ "$a" == "$b" ]; then
    echo "same     $c"
  else
    echo "DIFFERS  $c"
    differ=1
  fi
done
exit "$differ"
