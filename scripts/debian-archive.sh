#!/usr/bin/env bash
# Prints the Debian archive the system's own apt sources use for the system's release (its codename), as apt
# itself reads them (sources.list and deb822 .sources alike): the first one, if several do. So a local
# mirror or proxy configured there serves fastfs's downloads too, and no archive host is named in the
# project. FASTFS_DEBIAN_MIRROR, when set, is printed instead. Exit 1 when there is none.
set -euo pipefail
if [ -n "${FASTFS_DEBIAN_MIRROR:-}" ]; then
    echo "$FASTFS_DEBIAN_MIRROR"
    exit 0
fi
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || exit 1
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
    awk -v release="$codename" '$1 == release { sub("/$", "", $2); print $2; exit }' | grep .
