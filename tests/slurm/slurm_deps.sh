#!/bin/sh
# slurm_deps.sh - install Debian's Slurm + MUNGE packages only if missing.
#
# Usage: slurm_deps.sh            (as root; meant for `make deps` / CI setup)
#        slurm_deps.sh --check    (exit 0 if installed, 1 if not; installs nothing)
#
# Packages (Debian 12 "bookworm"): slurm-wlm (metapackage -> slurmctld, slurmd,
# slurm-client, slurm-wlm-basic-plugins) and munge (-> libmunge2).
# While installing, a temporary /usr/sbin/policy-rc.d (exit 101) stops the
# maintainer scripts from starting the system munged/slurmd/slurmctld; the
# private cluster of slurm_up.sh never uses them.
set -eu

PKGS="slurm-wlm munge"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "slurm_deps: already installed: $PKGS" >&2
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "slurm_deps: missing:$missing" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "slurm_deps: need root to install:$missing" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup() { if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT INT TERM
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
fi

echo "slurm_deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
echo "slurm_deps: done ($(slurmd -V 2>/dev/null || echo '?'), $(munged -V 2>/dev/null | head -n1 || echo '?'))" >&2
