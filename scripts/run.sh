#!/usr/bin/env bash
# Start the sandbox and the dashboard together; Ctrl-C stops both.
set -euo pipefail
host=${1:-127.0.0.1}; port=${2:-8000}; sandbox_port=${3:-8001}
bin=.venv/bin
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped the dashboard and the sandbox."
}
trap cleanup INT TERM EXIT

for p in "$sandbox_port" "$port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "Port $p is already in use: stop what runs there, or pick others: make run PORT=8100 SANDBOX_PORT=8101" >&2
    exit 1
  fi
done

"$bin/python" manage.py sandbox --host 127.0.0.1 --port "$sandbox_port" &
pids+=($!)
"$bin/python" manage.py runserver "$host:$port" --noreload &
pids+=($!)

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done
cat <<MSG

  Customer Lookup is running.
    Dashboard: http://$host:$port/
    Sign in:   demo / demo-lookup-2026  (admin: sees everything)
               manager, agent or ops / demo-lookup-2026  (store manager, call-centre agent,
               loyalty ops: see what each role sees)
    Try:       customer ID 566881933, source INSTORE
    Sandbox:   http://127.0.0.1:$sandbox_port (a stand-in for Capillary)
  Press Ctrl-C to stop both.

MSG
wait -n "${pids[@]}"
