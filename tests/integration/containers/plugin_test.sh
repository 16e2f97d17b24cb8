#!/bin/bash
# The Docker volume plugin with a real dockerd: volumes made with `docker volume create -d fastfs`, used by
# containers, checked on the backing XFS.
#
# usage: plugin_test.sh basics|copies|compose|users|userns|restarts|crashes|readonly
#   (FASTFS_BINARY, FASTFS_PLUGIN_BINARY = the built programs)

CONTAINERS_CASE=${1:-}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case $CONTAINERS_CASE in
basics | copies | compose | users | userns | restarts | crashes | readonly) ;;
*)
    echo "usage: $0 basics|copies|compose|users|userns|restarts|crashes|readonly" >&2
    exit 2
    ;;
esac
enter_private_namespaces "$@"

# Create, inspect, list, bad input, remove; the socket and the protocol by hand.
case_basics() {
    set_up_docker_and_plugin
    expect_eq "$(stat -c '%a %U' "$PLUGIN_SOCKET")" "600 root" "plugin socket mode and owner"
    expect_contains "$(plugin_call Plugin.Activate '')" '"Implements":["VolumeDriver"]' "Plugin.Activate"
    expect_contains "$(plugin_call VolumeDriver.Capabilities '{}')" '"Scope":"local"' "Capabilities"
    expect_contains "$(plugin_call VolumeDriver.Nothing '{}')" '"Err":"unknown method' "unknown method"

    mkdir -p "$XFS/models"
    echo hello >"$XFS/models/readme"
    dk volume create -d fastfs -o backing="$XFS/models" -o ro models >/dev/null || fail "create models"
    dk volume create --driver fastfs work >/dev/null || fail "create work"
    local listed
    listed=$(dk volume ls --format '{{.Driver}} {{.Name}}')
    expect_contains "$listed" "fastfs models" "docker volume ls"
    expect_contains "$listed" "fastfs work" "docker volume ls"
    expect_eq "$(dk volume inspect -f '{{.Driver}} {{.Status.backing}}' models)" "fastfs $XFS/models" "inspect models"
    expect_eq "$(dk volume inspect -f '{{.Status.backing}}' work)" "$XFS/volumes/work" "inspect work"
    [ -d "$XFS/volumes/work" ] || fail "no directory for volume work under the data root"

    # Bad input: refused at create time, one line that says why.
    local out
    out=$(dk volume create -d fastfs -o bogus=1 bad 2>&1) && fail "an unknown option was accepted"
    expect_contains "$out" "unknown option 'bogus=1'" "unknown option"
    out=$(dk volume create -d fastfs -o backing=relative/dir bad 2>&1) && fail "a relative backing was accepted"
    expect_contains "$out" "is not an absolute path" "relative backing"
    out=$(dk volume create -d fastfs -o backing="$XFS/missing" bad 2>&1) && fail "a missing backing was accepted"
    expect_contains "$out" "No such file or directory" "missing backing"
    out=$(dk volume create -d fastfs -o allow_root bad 2>&1) && fail "allow_root was accepted"
    expect_contains "$out" "is not accepted" "allow_root"
    # Pseudo filesystems: a volume of the host's /proc or /dev would be the plugin's view, opened as root.
    local entry pseudo=(/proc:proc)
    [ "$(findmnt -n -o FSTYPE /dev)" = devtmpfs ] && pseudo+=(/dev:devtmpfs)
    for entry in "${pseudo[@]}"; do
        out=$(dk volume create -d fastfs -o backing="${entry%%:*}" bad 2>&1) && fail "backing=${entry%%:*} was accepted"
        expect_contains "$out" "backing ${entry%%:*} is on ${entry#*:}, a pseudo filesystem: fastfs serves files of a real filesystem" "backing=${entry%%:*}"
        expect_eq "$(printf '%s\n' "$out" | wc -l)" 1 "backing=${entry%%:*}: one line"
    done
    dk volume ls -q | grep -qx bad && fail "a refused volume was listed"
    log "a refused create, as Docker shows it: $out"

    expect_eq "$(run_container -v models:/models -- cat /models/readme)" hello "reading a backing= volume"

    # Volumes on the filesystem that also holds the plugin's run directory (here /var/tmp on the root
    # filesystem, as /var/lib is on most hosts): fastfs cannot serve that filesystem's root (its mountpoint
    # would be inside), so it serves the shallowest directory that does not hold the run directory, shared by
    # both volumes below it.
    mkdir -p "$SCRATCH/onroot/a" "$SCRATCH/onroot/b"
    echo root-fs >"$SCRATCH/onroot/a/file"
    dk volume create -d fastfs -o backing="$SCRATCH/onroot/a" rootfs-a >/dev/null || fail "create rootfs-a"
    dk volume create -d fastfs -o backing="$SCRATCH/onroot/b" rootfs-b >/dev/null || fail "create rootfs-b"
    dk run -d --name onroot --network none -v rootfs-a:/a -v rootfs-b:/b "$IMAGE" sleep 600 >/dev/null ||
        fail "a container with two volumes on the run directory's filesystem"
    expect_eq "$(dk exec onroot sh -c 'cp /a/file /b/copy && cat /b/copy')" root-fs "copy between them"
    expect_eq "$(plugin_fastfs_mounts | wc -l)" 1 "fastfs mounts for two volumes below one directory"
    expect_eq "$(dk volume inspect -f '{{.Status.fastfs_serves}}' rootfs-a)" "$SCRATCH/onroot" "served directory"
    dk rm -f onroot >/dev/null
    # `docker run --volume-driver` creates a volume it does not know through the plugin.
    run_container --volume-driver fastfs -v auto:/data -- 'touch /data/made' || fail "implicit create"
    [ -f "$XFS/volumes/auto/made" ] || fail "implicitly created volume auto is not under the data root"
    [ -z "$(plugin_fastfs_mounts)" ] || fail "fastfs mounts left with no container: $(plugin_fastfs_mounts)"

    dk volume rm work models auto rootfs-a rootfs-b >/dev/null || fail "docker volume rm"
    [ -e "$XFS/volumes/work" ] && fail "removing a data-root volume left its directory"
    [ -f "$XFS/models/readme" ] || fail "removing a backing= volume deleted the user's data"
    expect_eq "$(dk volume ls -q)" "" "volumes after removal"
    "$FASTFS_BINARY" docker-plugin --help | grep -q 'backing=DIR' || fail "fastfs docker-plugin --help"
}

# Copies in containers share extents on the backing XFS, within a volume and between two volumes: the seed
# scenario of an init container copying a model tree from a read-only volume into a workspace.
case_copies() {
    set_up_docker_and_plugin
    mkdir -p "$XFS/models/llm/tokenizer"
    make_data_file "$XFS/models/llm/weights.bin" 256M
    truncate -s 1G "$XFS/models/llm/sparse.bin"
    echo '{"layers": 2}' >"$XFS/models/llm/config.json"
    echo vocab >"$XFS/models/llm/tokenizer/vocab.txt"
    dk volume create -d fastfs -o backing="$XFS/models" -o ro=true models >/dev/null || fail "create models"
    dk volume create -d fastfs workspace >/dev/null || fail "create workspace"

    # A long-running container holds both volumes while others come and go.
    dk run -d --name holder --network none -v models:/models -v workspace:/workspace "$IMAGE" sleep 600 >/dev/null ||
        fail "holder container"
    local fs_mounts
    fs_mounts=$(plugin_fastfs_mounts | wc -l)
    expect_eq "$fs_mounts" 1 "fastfs mounts serving two volumes on one filesystem"
    expect_eq "$(fastfs_daemon_count)" 1 "fastfs daemons"

    # The seed scenario: an init container copies the tree; the time is measured inside the container.
    local ns
    ns=$(run_container -v models:/models -v workspace:/workspace -- \
        's=$(date +%s%N); cp -a /models/llm /workspace/llm && e=$(date +%s%N) && echo $(( (e - s) / 1000000 ))') ||
        fail "init container: cp -a /models/llm /workspace/llm"
    log "measured: cp -a of the model tree (256 MiB + 1 GiB sparse) between volumes in a container: ${ns} ms"
    expect_shared_with "$XFS/models/llm/weights.bin" "$XFS/volumes/workspace/llm/weights.bin" "copy between volumes"
    cmp -s "$XFS/models/llm/weights.bin" "$XFS/volumes/workspace/llm/weights.bin" || fail "the copy differs"
    expect_eq "$(stat -c %b "$XFS/volumes/workspace/llm/sparse.bin")" 0 "blocks of the copied sparse file"
    expect_eq "$(cat "$XFS/volumes/workspace/llm/tokenizer/vocab.txt")" vocab "copied tree"
    # The running container sees what the init container wrote.
    expect_eq "$(dk exec holder cat /workspace/llm/config.json)" '{"layers": 2}' "holder reads the workspace"

    # Within one volume.
    ns=$(run_container -v workspace:/workspace -- \
        's=$(date +%s%N); cp /workspace/llm/weights.bin /workspace/weights-2.bin && e=$(date +%s%N) && echo $(( (e - s) / 1000000 ))') ||
        fail "cp within a volume"
    log "measured: cp of the 256 MiB file within a volume in a container: ${ns} ms"
    expect_shared_with "$XFS/models/llm/weights.bin" "$XFS/volumes/workspace/weights-2.bin" "copy within a volume"

    # The same copy natively on the host, for comparison.
    local s e
    s=$(date +%s%N)
    cp "$XFS/models/llm/weights.bin" "$XFS/native-copy.bin"
    e=$(date +%s%N)
    log "measured: native cp of the 256 MiB file on the XFS: $(((e - s) / 1000000)) ms"

    # ro is the volume's: writing fails there and works in the workspace of the same container.
    local out
    out=$(run_container -v models:/models -v workspace:/workspace -- 'touch /workspace/ok && touch /models/no' 2>&1) &&
        fail "wrote into the read-only volume"
    expect_contains "$out" "Read-only file system" "read-only volume"
    [ -f "$XFS/volumes/workspace/ok" ] || fail "the writable volume was not writable"

    # A volume with other fastfs options gets its own mount: a copy into it crosses two FUSE mounts, which the
    # kernel answers with EXDEV, and is a full copy. (This is why volumes share a mount per filesystem.)
    dk volume create -d fastfs -o entry_timeout=2 apart >/dev/null || fail "create apart"
    ns=$(run_container -v models:/models -v apart:/apart -- \
        's=$(date +%s%N); cp /models/llm/weights.bin /apart/ && e=$(date +%s%N) && echo $(( (e - s) / 1000000 ))') ||
        fail "cp into a volume of another fastfs mount"
    log "measured: the same 256 MiB cp into a volume of another fastfs mount (EXDEV, full copy): ${ns} ms"
    sync -f "$XFS/volumes/apart/weights.bin"
    expect_eq "$(shared_extents "$XFS/volumes/apart/weights.bin")" 0 "shared extents across two fastfs mounts"

    dk rm -f holder >/dev/null
    expect_eq "$(plugin_fastfs_mounts)" "" "fastfs mounts once no container uses the volumes"
    wait_no_fastfs_daemon || fail "fastfs daemons left: $(pgrep -ax fastfs)"
}

# The compose example of docs/containers.md, as written there: only the image, the models directory and
# networking (none here) are filled in.
case_compose() {
    require_tool docker-compose
    set_up_docker_and_plugin
    mkdir -p "$XFS/models/llm"
    make_data_file "$XFS/models/llm/weights.bin" 64M
    local project=$SCRATCH/compose
    mkdir -p "$project"
    sed -n '/^### compose/,/^## /p' "$SOURCE_ROOT/docs/containers.md" | sed -n '/^```yaml$/,/^```$/p' | sed '1d;$d' |
        sed -e "s|image: IMAGE|image: $IMAGE\n    network_mode: none|" -e "s|/srv/models|$XFS/models|" \
            >"$project/docker-compose.yml"
    grep -q 'driver: fastfs' "$project/docker-compose.yml" || fail "no compose example found in docs/containers.md"
    (cd "$project" && DOCKER_HOST=unix://$SCRATCH/docker.sock docker-compose -p seed up --no-color \
        >"$SCRATCH/compose.log" 2>&1) || fail "docker-compose up: $(tail -5 "$SCRATCH/compose.log")"
    local copy
    copy=$(find "$XFS/volumes" -path '*workspace/llm/weights.bin' | head -1)
    [ -n "$copy" ] || fail "the seed step left no copy in the workspace volume: $(cat "$SCRATCH/compose.log")"
    [ -n "$copy" ] && expect_shared_with "$XFS/models/llm/weights.bin" "$copy" "compose seed step"
    (cd "$project" && DOCKER_HOST=unix://$SCRATCH/docker.sock docker-compose -p seed down -v >>"$SCRATCH/compose.log" 2>&1) ||
        fail "docker-compose down -v"
    [ -f "$XFS/models/llm/weights.bin" ] || fail "docker-compose down -v deleted the backing= models"
    expect_eq "$(dk volume ls -q)" "" "volumes after docker-compose down -v"
    expect_eq "$(plugin_fastfs_mounts)" "" "fastfs mounts after docker-compose down"
}

# allow_other with default_permissions: a non-root container user gets exactly its own rights.
case_users() {
    set_up_docker_and_plugin
    dk volume create -d fastfs shared >/dev/null || fail "create shared"
    run_container -v shared:/v -- 'mkdir /v/alice && chown 1000:1000 /v/alice && echo public >/v/public &&
        echo secret >/v/secret && chmod 600 /v/secret' || fail "setting up as root in a container"
    [ "$(stat -c %u:%g "$XFS/volumes/shared/alice")" = 1000:1000 ] || fail "chown through the volume"

    local out
    out=$(run_container --user 1000:1000 -v shared:/v -- 'id -u; cat /v/public; echo mine >/v/alice/mine &&
        cp /v/alice/mine /v/alice/copy && echo wrote') || fail "uid 1000 in its own directory: $out"
    expect_eq "$(echo "$out" | tr '\n' ' ')" "1000 public wrote " "uid 1000 reads and writes what it may"
    expect_eq "$(stat -c %u:%g "$XFS/volumes/shared/alice/mine")" 1000:1000 "owner of a file uid 1000 created"
    out=$(run_container --user 1000:1000 -v shared:/v -- 'cat /v/secret' 2>&1) && fail "uid 1000 read a 0600 root file"
    expect_contains "$out" "Permission denied" "uid 1000 reading root's 0600 file"
    out=$(run_container --user 1000:1000 -v shared:/v -- 'touch /v/not-mine' 2>&1) && fail "uid 1000 wrote in root's dir"
    expect_contains "$out" "Permission denied" "uid 1000 writing in root's directory"
    out=$(run_container --user 1001:1001 -v shared:/v -- 'touch /v/alice/intruder' 2>&1) &&
        fail "uid 1001 wrote in uid 1000's directory"
    expect_contains "$out" "Permission denied" "uid 1001 writing in uid 1000's directory"
}

# dockerd with --userns-remap: container root is an unprivileged host uid, and the volume treats it as one.
case_userns() {
    local base=300000
    [ -f /etc/subuid ] && [ -f /etc/subgid ] || cannot_set_up "no /etc/subuid or /etc/subgid to cover (package passwd)"
    # Private ranges for the remap user, seen only inside this test's mount namespace.
    echo "nobody:$base:65536" >"$SCRATCH/subuid"
    echo "nobody:$base:65536" >"$SCRATCH/subgid"
    mount --bind "$SCRATCH/subuid" /etc/subuid && mount --bind "$SCRATCH/subgid" /etc/subgid ||
        cannot_set_up "cannot cover /etc/subuid and /etc/subgid"
    chmod 0711 "$SCRATCH"  # dockerd wants the remapped root to pass through to its data root
    set_up_docker_and_plugin --userns-remap=nobody:nogroup
    dk info --format '{{.SecurityOptions}}' | grep -q userns || fail "dockerd does not report userns"

    mkdir -p "$XFS/team" "$XFS/rootonly"
    chown "$base:$base" "$XFS/team"
    make_data_file "$XFS/team/source.bin" 32M
    chown "$base:$base" "$XFS/team/source.bin"
    dk volume create -d fastfs -o backing="$XFS/team" team >/dev/null || fail "create team"
    dk volume create -d fastfs -o backing="$XFS/rootonly" rootonly >/dev/null || fail "create rootonly"

    local out
    out=$(run_container -v team:/team -- 'id -u; cat /proc/self/uid_map; touch /team/made && cp /team/source.bin /team/copy.bin && echo ok') ||
        fail "remapped root in its own directory: $out"
    log "remapped container: $(echo "$out" | tr -s ' \n' ' ')"
    expect_contains "$out" "$base" "uid map of the container"
    expect_eq "$(stat -c %u "$XFS/team/made")" "$base" "host owner of a file made by the remapped root"
    expect_shared_with "$XFS/team/source.bin" "$XFS/team/copy.bin" "copy by the remapped root"
    out=$(run_container -v rootonly:/r -- 'touch /r/x' 2>&1) && fail "remapped root wrote into a host-root directory"
    expect_contains "$out" "Permission denied" "remapped root writing into a host-root directory"
}

# In use: remove refused; the plugin restarted under a running container; dockerd restarted.
case_restarts() {
    set_up_docker_and_plugin
    dk volume create -d fastfs vol >/dev/null || fail "create vol"
    run_container -v vol:/v -- 'echo before >/v/data' || fail "first write"
    dk run -d --name c1 --network none -v vol:/v "$IMAGE" sleep 600 >/dev/null || fail "c1"

    local out
    out=$(dk volume rm vol 2>&1) && fail "docker removed a volume in use"
    expect_contains "$out" "in use" "docker volume rm of a volume in use"
    expect_contains "$(plugin_call VolumeDriver.Remove '{"Name":"vol"}')" "is in use by 1 container mount" \
        "the plugin's own refusal"
    [ -f "$XFS/volumes/vol/data" ] || fail "the volume's data went"

    # The plugin restarts; the fastfs mount and the container go on; a new plugin takes the mount over.
    dk volume create -d fastfs idle >/dev/null || fail "create idle"
    stop_plugin TERM
    expect_eq "$(plugin_fastfs_mounts | wc -l)" 1 "fastfs mounts while the plugin is down"
    dk exec c1 sh -c 'echo during >/v/during' || fail "writing while the plugin is down"
    # What Docker shows while the plugin is down (docs/containers.md, "When the plugin is down"): the volumes
    # are still listed, in use or not; a new container fails with the socket's dial error for both.
    out=$(dk volume ls --format '{{.Driver}} {{.Name}}' 2>&1)
    log "docker volume ls while the plugin is down: $(echo "$out" | tr '\n' '|')"
    expect_eq "$(echo "$out" | sort | tr '\n' '|')" "fastfs idle|fastfs vol|" "docker volume ls while the plugin is down"
    for name in vol idle; do
        out=$(run_container -v $name:/v -- true 2>&1) && fail "a new container got $name while the plugin was down"
        log "docker run -v $name:/v while the plugin is down: $out"
        expect_contains "$out" "dial unix $PLUGIN_SOCKET: connect: no such file or directory" \
            "docker run -v $name while the plugin is down"
    done
    start_plugin
    grep -q "taking over the live mount" "$SCRATCH/plugin.log" || fail "the new plugin did not take over the mount"
    expect_eq "$(dk volume ls --format '{{.Name}}' | sort | tr '\n' ' ')" "idle vol " "docker volume ls once the plugin is back"
    dk volume rm idle >/dev/null || fail "removing idle"
    expect_eq "$(run_container -v vol:/v -- cat /v/during)" during "a second container through the new plugin"
    expect_eq "$(plugin_fastfs_mounts | wc -l)" 1 "fastfs mounts after the plugin restart"
    dk rm -f c1 >/dev/null
    expect_eq "$(plugin_fastfs_mounts)" "" "fastfs mounts after the last container (new plugin)"
    wait_no_fastfs_daemon || fail "fastfs daemon left after the last container"

    # dockerd restarts with a container running: it stops it on the way down, the volume stays.
    dk run -d --name c2 --network none -v vol:/v "$IMAGE" sleep 600 >/dev/null || fail "c2"
    kill "$DOCKERD_PID"
    wait "$DOCKERD_PID"
    DOCKERD_PID=
    expect_eq "$(plugin_fastfs_mounts)" "" "fastfs mounts after dockerd stopped its containers"
    start_dockerd
    expect_eq "$(dk volume ls --format '{{.Driver}} {{.Name}}')" "fastfs vol" "volumes after a dockerd restart"
    dk start c2 >/dev/null || fail "restarting c2 after dockerd came back"
    expect_eq "$(dk exec c2 cat /v/data)" before "data after the dockerd restart"
    dk rm -f c2 >/dev/null
    expect_contains "$(plugin_call VolumeDriver.Get '{"Name":"vol"}')" '"users":"0"' "no user left on record"

    # dockerd killed outright: when it comes back it finds c3 dead but never unmounts its volume (Docker
    # 20.10). The plugin keeps the mount on record until `docker volume rm`, which finds no container holding
    # the volume in any mount namespace and goes ahead.
    dk run -d --name c3 --network none -v vol:/v "$IMAGE" sleep 600 >/dev/null || fail "c3"
    kill -KILL "$DOCKERD_PID"
    wait "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=
    start_dockerd
    dk rm -f c3 >/dev/null
    log "after dockerd -9 and a restart, the plugin still counts: $(plugin_call VolumeDriver.Get '{"Name":"vol"}' |
        grep -o '"users":"[0-9]*"')"
    dk volume rm vol >/dev/null || fail "removing vol at the end"
    [ -e "$XFS/volumes/vol" ] && fail "vol's directory is still there"
    expect_eq "$(plugin_fastfs_mounts)" "" "fastfs mounts after the removal"
    wait_no_fastfs_daemon || fail "fastfs daemon left after the removal"

}

# The fastfs daemon killed under a running container, then the plugin and the daemon killed together.
case_crashes() {
    set_up_docker_and_plugin
    dk volume create -d fastfs vol >/dev/null || fail "create vol"
    make_data_file "$XFS/volumes/vol/data.bin" 16M
    dk run -d --name c1 --network none -v vol:/v "$IMAGE" sleep 600 >/dev/null || fail "c1"

    local daemon out
    daemon=$(pgrep -x fastfs)
    kill -KILL "$daemon"
    out=$(dk exec c1 stat /v 2>&1) && fail "a dead fastfs mount still answered in the container"
    expect_contains "$out" "Transport endpoint is not connected" "what the container sees"
    log "container with the dead mount: $out"
    # Docker's next mount of the volume finds the mount dead and makes a new one.
    out=$(run_container -v vol:/v -- 'cp /v/data.bin /v/copy.bin && echo ok') || fail "a new container after the kill: $out"
    grep -q "is gone (its mount no longer answers); mounting it again" "$SCRATCH/plugin.log" || fail "the plugin did not report the dead mount"
    expect_shared_with "$XFS/volumes/vol/data.bin" "$XFS/volumes/vol/copy.bin" "copy after the recovery"
    dk restart -t 1 c1 >/dev/null || fail "restarting c1"
    dk exec c1 cat /v/data.bin >/dev/null || fail "c1 after its restart"

    # A crash of both: the next plugin finds the stale mounts, drops them, and mounts again on demand.
    stop_plugin KILL
    kill -KILL "$(pgrep -x fastfs)"
    local target
    start_plugin
    grep -q "stale: its daemon is gone" "$SCRATCH/plugin.log" || fail "the new plugin did not report stale mounts"
    for target in $(findmnt -rn -o TARGET | grep "^$RUN_DIR/plugin/"); do
        stat -f "$target" >/dev/null 2>&1 || fail "a stale mount is left at $target"
    done
    expect_eq "$(run_container -v vol:/v -- 'cat /v/data.bin | wc -c')" $((16 << 20)) "a new container after both crashed"
    dk restart -t 1 c1 >/dev/null || fail "restarting c1 after both crashed"
    dk exec c1 cat /v/data.bin >/dev/null || fail "c1 after both crashed and a restart"
    dk rm -f c1 >/dev/null
    expect_eq "$(plugin_fastfs_mounts)" "" "fastfs mounts after the last container"
    wait_no_fastfs_daemon || fail "fastfs daemon left after the last container"
}

# Read-only volumes (issue 20): one created with `-o ro`, and a writable one mounted `:ro`. In a container,
# fastfs's own tree commands into either are refused, one line each, like a plain touch, and nothing appears
# on the backing. (The tree copy is one request to the daemon, which writes to the backing itself: it must
# honour the read-only mount the command's directories were opened through.)
case_readonly() {
    set_up_docker_and_plugin
    mkdir -p "$XFS/models/src/sub"
    make_data_file "$XFS/models/src/data.bin" 1M
    echo small >"$XFS/models/src/sub/small"
    dk volume create -d fastfs -o backing="$XFS/models" -o ro models >/dev/null || fail "create models"
    dk volume create -d fastfs work >/dev/null || fail "create work"
    local before after out line
    before=$(find "$XFS/models" "$XFS/volumes/work" | sort)
    out=$(run_container -v models:/models -v work:/work:ro -- '
        report() { echo "$1: exit $2 lines $(wc -l </tmp/out): $(head -n 1 /tmp/out | head -c 200)"; }
        for target in /models /work; do
            touch $target/touched >/tmp/out 2>&1
            report "$target touch" $?
            for command in copy clone; do
                fastfs $command -r /models/src $target/$command >/tmp/out 2>&1
                report "$target fastfs $command -r" $?
            done
        done' 2>&1) || fail "the container: $out"
    while read -r line; do
        log "$line"
        case $line in
        *": exit 0 "* | *" lines 0:"*) fail "not refused with one line in a read-only volume: $line" ;;
        *" lines 1: "*) ;;
        *) fail "not refused with one line in a read-only volume: $line" ;;
        esac
    done <<<"$out"
    expect_eq "$(echo "$out" | grep -c ': exit ')" 6 "commands run in the container"
    after=$(find "$XFS/models" "$XFS/volumes/work" | sort)
    expect_eq "$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')" "" "new entries on the backing"
}

"case_$CONTAINERS_CASE"
exit 0
