# SPDX-License-Identifier: MIT
# Sourced by the CI legs that run Windows programs under Wine (scripts/ci/windows-leg.sh):
#   - a Wine prefix of the CI's own ($CHAARFM_CI_TOOLS/wineprefix), made once and set to
#     Windows 10 (`winecfg /v win10`: Wine defaults to Windows 7, which Node refuses);
#   - WINEDEBUG=-all (Wine's own diagnostics are noise here);
#   - winrun SECONDS OUT ERR PROGRAM ARGS...: runs a Windows program with a timeout (Wine can hang)
#     and its output in files (node.exe under Wine cannot write to a Unix pipe);
#   - winpath PATH: the Windows path (Z:\...) of an absolute Unix path, for arguments and
#     variables. Worked out here from the prefix's z: drive (a link to /, checked by wine_init),
#     not asked of `winepath`: the clean-clone run of 85de1ae got an empty answer from it for one
#     file among six (the leg then ran `vectorize ""`); each call also starts Wine (0.08-0.18 s,
#     measured 2026-12-02 with the wineserver up).
export WINEPREFIX=${WINEPREFIX:-${CHAARFM_CI_TOOLS:-/opt/chaarfm-ci}/wineprefix}
export WINEDEBUG=-all
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}

winpath() {
  case $1 in
    /*) printf 'Z:%s\n' "${1//\//\\}" ;;
    *) echo "wine-env: winpath needs an absolute path, not '$1'" >&2; return 1 ;;
  esac
}

winrun() {
  local secs=$1 out=$2 err=$3
  shift 3
  timeout -k 10 "$secs" wine "$@" >"$out" 2>"$err" </dev/null
}

wine_init() {
  if [ ! -e "$WINEPREFIX/.chaarfm-win10" ]; then
    mkdir -p "$WINEPREFIX"
    timeout -k 10 300 wineboot --init >/dev/null 2>&1
    timeout -k 10 120 winecfg /v win10 >/dev/null 2>&1
    touch "$WINEPREFIX/.chaarfm-win10"
  fi
  if [ "$(readlink "$WINEPREFIX/dosdevices/z:")" != / ]; then
    echo "wine-env: the Wine prefix's z: drive is not a link to / (winpath relies on it)" >&2
    return 1
  fi
  local v
  v=$(timeout 60 wine reg query 'HKLM\Software\Microsoft\Windows NT\CurrentVersion' /v CurrentVersion 2>/dev/null | tr -d '\r' | awk '$1 == "CurrentVersion" {print $3}')
  if [ "$v" != "10.0" ]; then
    echo "wine-env: the Wine prefix $WINEPREFIX reports Windows $v, not 10.0" >&2
    return 1
  fi
}
