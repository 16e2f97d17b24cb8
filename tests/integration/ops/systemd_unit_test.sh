#!/bin/bash
# The example mount unit is one systemd accepts. No systemd is needed: `systemd-analyze verify` loads and
# checks unit files offline. (Mounting through it needs systemd as PID 1; the same mount through fstab and
# mount(8), including x-systemd.* options, is covered by mount_test.sh.)

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

require_tool systemd-analyze systemd-escape
unit=$SOURCE_ROOT/mount-helpers/systemd/mnt-fast.mount
make_scratch

where=$(sed -n 's/^Where=//p' "$unit")
expect_eq "$(systemd-escape -p --suffix=mount "$where")" "$(basename "$unit")" "unit name matches Where="
expect_eq "$(sed -n 's/^Type=//p' "$unit")" fastfs "Type="
expect_contains "$(sed -n 's/^RequiresMountsFor=//p' "$unit")" "$(sed -n 's/^What=//p' "$unit")" \
    "RequiresMountsFor= covers What="

# --man=no: the fastfs(8) page named in Documentation= is not installed on a build machine.
if ! out=$(cd "$SCRATCH" && systemd-analyze verify --man=no "$unit" 2>&1); then
    fail "systemd-analyze verify: $out"
fi
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"

# The check can fail: a unit whose name does not match Where= is refused.
cp "$unit" "$SCRATCH/mnt-other.mount"
if (cd "$SCRATCH" && systemd-analyze verify --man=no "$SCRATCH/mnt-other.mount") >/dev/null 2>&1; then
    fail "systemd-analyze verify accepted a misnamed mount unit; the check above proves nothing"
fi
exit 0
