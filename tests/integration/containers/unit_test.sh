#!/bin/bash
# The plugin's systemd unit is one systemd accepts and orders before Docker, and the plugin keeps the
# promise Type=notify makes: READY=1 comes once its socket accepts connections; one plugin per state and run
# directory, and a restart right after a stop waits for the old one. No systemd or Docker needed.
#
# usage: unit_test.sh   (FASTFS_BINARY, FASTFS_PLUGIN_BINARY = the built programs)

# shellcheck source=../ops/lib.sh
source "$(dirname "$0")/../ops/lib.sh"
require_tool systemd-analyze python3 curl
[ "$(id -u)" -eq 0 ] || cannot_set_up "needs root (the plugin refuses to run otherwise)"
PLUGIN_BINARY=${FASTFS_PLUGIN_BINARY:-}
[ -x "$PLUGIN_BINARY" ] || cannot_set_up "FASTFS_PLUGIN_BINARY is not an executable"
make_scratch

# The unit as installed (install-unit.cmake fills in the program's path at install time).
unit=$SCRATCH/fastfs-docker-plugin.service
sed "s|@FASTFS_PLUGIN_PROGRAM@|$PLUGIN_BINARY|g" "$SOURCE_ROOT/src/docker_plugin/fastfs-docker-plugin.service.in" >"$unit"
grep -q @FASTFS "$unit" && fail "unsubstituted placeholders in the unit: $(grep @FASTFS "$unit")"
if ! out=$(cd "$SCRATCH" && systemd-analyze verify --man=no "$unit" 2>&1); then
    fail "systemd-analyze verify: $out"
fi
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
expect_contains "$(sed -n 's/^Before=//p' "$unit")" docker.service "Before="
expect_eq "$(sed -n 's/^Type=//p' "$unit")" notify "Type="
expect_eq "$(sed -n 's/^KillMode=//p' "$unit")" process "KillMode= (fastfs daemons outlive a plugin restart)"

# READY=1 on $NOTIFY_SOCKET, after which the API socket answers at once.
notify=$SCRATCH/notify.sock
socket=$SCRATCH/plugin.sock
python3 - "$notify" >"$SCRATCH/notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(256).decode(), flush=True)
PY
listener=$!
for ((i = 0; i < 50; i++)); do [ -S "$notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$notify "$PLUGIN_BINARY" --socket "$socket" --state-dir "$SCRATCH/state" \
    --run-dir "$SCRATCH/run" --fastfs "${FASTFS_BINARY:-/bin/true}" >"$SCRATCH/plugin.log" 2>&1 &
plugin=$!
on_cleanup "kill $plugin $listener 2>/dev/null; kill -CONT $plugin 2>/dev/null; wait $plugin 2>/dev/null; true"
wait "$listener" || fail "no notification from the plugin: $(cat "$SCRATCH/plugin.log")"
expect_eq "$(cat "$SCRATCH/notified")" "READY=1" "notification"
expect_contains "$(curl -s --unix-socket "$socket" -d '' http://plugin/Plugin.Activate)" VolumeDriver \
    "the socket answers right after READY=1"

# A second plugin on the same socket, or on the same state or run directory, refuses to start instead of
# taking over the first one's socket, volume list or mounts: after waiting (--wait) for the first to exit,
# with one line that names the first one's pid.
second_plugin() {
    "$PLUGIN_BINARY" --socket "$1" --state-dir "$2" --run-dir "$3" --fastfs "${FASTFS_BINARY:-/bin/true}" \
        --log-level error --wait 0.5 2>&1
}
out=$(second_plugin "$socket" "$SCRATCH/state2" "$SCRATCH/run2") && fail "a second plugin started on a live socket"
expect_eq "$out" "fastfs-docker-plugin: another plugin is listening on $socket" "second plugin, same socket"
out=$(second_plugin "$SCRATCH/other.sock" "$SCRATCH/state" "$SCRATCH/run2") && fail "a second plugin shared a state dir"
expect_eq "$out" "fastfs-docker-plugin: another fastfs-docker-plugin (pid $plugin) uses $SCRATCH/state; waited 500 ms for it to exit" \
    "second plugin, same state"
out=$(second_plugin "$SCRATCH/other.sock" "$SCRATCH/state2" "$SCRATCH/run") && fail "a second plugin shared a run dir"
expect_eq "$out" "fastfs-docker-plugin: another fastfs-docker-plugin (pid $plugin) uses $SCRATCH/run; waited 500 ms for it to exit" \
    "second plugin, same run dir"

# A restart right after a stop: the new plugin waits for the old one to exit instead of refusing. The old
# one is held (SIGSTOP) right after its SIGTERM, so that it is certainly still there when the new one starts.
start_again() {
    "$PLUGIN_BINARY" --socket "$socket" --state-dir "$SCRATCH/state" --run-dir "$SCRATCH/run" \
        --fastfs "${FASTFS_BINARY:-/bin/true}" >>"$SCRATCH/plugin2.log" 2>&1 &
    plugin2=$!
    on_cleanup "kill $plugin2 2>/dev/null; wait $plugin2 2>/dev/null; true"
}
kill -TERM "$plugin" && kill -STOP "$plugin"
start_again
sleep 1
kill -0 "$plugin2" 2>/dev/null || fail "a restart right after a stop gave up: $(cat "$SCRATCH/plugin2.log")"
expect_contains "$(cat "$SCRATCH/plugin2.log")" "waiting up to 10 s for the fastfs-docker-plugin (pid $plugin) that uses $SCRATCH/state to exit" \
    "what the new plugin says while it waits"
kill -CONT "$plugin"
wait "$plugin" || fail "the plugin exited $? on SIGTERM"
for ((i = 0; i < 100; i++)); do
    curl -s --unix-socket "$socket" -d '' http://plugin/Plugin.Activate 2>/dev/null | grep -q VolumeDriver && break
    kill -0 "$plugin2" 2>/dev/null || break
    sleep 0.1
done
expect_contains "$(curl -s --unix-socket "$socket" -d '' http://plugin/Plugin.Activate)" VolumeDriver \
    "the new plugin serves once the old one is gone ($(tail -n 3 "$SCRATCH/plugin2.log"))"
kill "$plugin2"
wait "$plugin2" || fail "the restarted plugin exited $? on SIGTERM"
[ -e "$socket" ] && fail "the socket is left after a clean stop"
# A damaged state file stops the start with a clear line, and is left for the operator to look at.
echo '{ broken' >"$SCRATCH/state/volumes.json"
out=$("$PLUGIN_BINARY" --socket "$socket" --state-dir "$SCRATCH/state" --run-dir "$SCRATCH/run" \
    --fastfs "${FASTFS_BINARY:-/bin/true}" 2>&1) && fail "the plugin started on a damaged state file"
expect_contains "$out" "volumes.json: not a JSON object" "damaged state"
exit 0
