#!/usr/bin/env bash
# Installs trashd from a build tree (DESTDIR) and builds its .deb (cpack -G DEB), and
# checks in both what an admin would find: the daemon, trashctl, the five plugins where
# the daemon looks for them, the SDK, the systemd unit naming the installed daemon and
# config, the config as a conffile, the docs; then `systemd-analyze verify` on the unit.
# Every missing file fails the test, the daemon's binary included.
#
# Usage: package_test.sh BUILD_DIR SOURCE_DIR OUT_DIR PREFIX BINDIR LIBDIR INCLUDEDIR
#                        SYSCONFDIR DOCDIR VERSION
# (the directories are GNUInstallDirs' absolute CMAKE_INSTALL_FULL_* of the build)
set -euo pipefail
build=$1 src=$2 out=$3 prefix=$4 bindir=$5 libdir=$6 includedir=$7 sysconfdir=$8
docdir=$9 version=${10}

plugins=(project version model dataset workflow)
plugindir=$libdir/trashd/plugins
unitdir=${prefix%/}/lib/systemd/system
sysusersdir=${prefix%/}/lib/sysusers.d
conf=$sysconfdir/trashd/trashd.yaml
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
need_file() {  # need_file ROOT PATH: ROOT/PATH is a regular, non-empty file
  [ -f "$1$2" ] && [ -s "$1$2" ] || fail "$2 is missing (looked for $1$2)"
}
re() { printf '%s' "$1" | sed 's/[].[*^$()+?{}|\]/\\&/g'; }  # a path as an ERE
need_exec() {
  [ -f "$1$2" ] && [ -x "$1$2" ] || fail "$2 is missing or not executable (looked for $1$2)"
}

# The paths of a system package, when the build was configured for one.
if [ "$prefix" = /usr ]; then
  [ "$bindir" = /usr/bin ] || fail "bindir is $bindir, not /usr/bin"
  [ "$sysconfdir" = /etc ] || fail "sysconfdir is $sysconfdir, not /etc"
  [[ $libdir =~ ^/usr/lib(64|/[a-z0-9_]+-linux-[a-z0-9_]+)?$ ]] ||
    fail "libdir is $libdir, not /usr/lib or /usr/lib/<multiarch>"
  [ "$docdir" = /usr/share/doc/trashd ] || fail "docdir is $docdir"
fi

# check_tree ROOT WHAT: the layout under ROOT, as installed by WHAT.
check_tree() {
  local root=$1 what=$2
  echo "== $what: files under $root"
  (cd "$root" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort)

  need_exec "$root" "$bindir/trashd"
  need_exec "$root" "$bindir/trashctl"
  for p in "${plugins[@]}"; do need_file "$root" "$plugindir/libtrashd_$p.so"; done
  for h in "$src"/core/include/trashd/*.h; do
    need_file "$root" "$includedir/trashd/$(basename "$h")"
  done
  for f in trashdConfig.cmake trashdConfigVersion.cmake trashdTargets.cmake \
           trashdPlugin.cmake; do
    need_file "$root" "$libdir/cmake/trashd/$f"
  done
  need_file "$root" "$unitdir/trashd.service"
  need_file "$root" "$sysusersdir/trashd.conf"
  need_file "$root" "$conf"
  need_file "$root" "$docdir/README.md"
  if [ -f "$root$conf" ] && ! cmp -s "$root$conf" "$src/config/trashd.yaml"; then
    fail "$what: $conf differs from config/trashd.yaml"
  fi

  # Nothing else: no test program, no build-tree leftovers.
  local allowed=(
    "$(re "$bindir")/trash(d|ctl)"
    "$(re "$plugindir")/libtrashd_[a-z]+\.so"
    "$(re "$includedir")/trashd/[a-z_]+\.h"
    "$(re "$libdir")/cmake/trashd/[A-Za-z-]+\.cmake"
    "$(re "$unitdir")/trashd\.service"
    "$(re "$sysusersdir")/trashd\.conf"
    "$(re "$conf")"
    "$(re "$docdir")/README\.md"
  )
  local extra
  extra=$(cd "$root" && find . \( -type f -o -type l \) | sed 's|^\.||' |
          grep -vE "^($(IFS='|'; echo "${allowed[*]}"))\$" || true)
  [ -z "$extra" ] || fail "$what installs unexpected files: $extra"

  # The daemon looks for its plugins where they were installed. (No `grep -q` after a
  # pipe here: it stops reading at the first match, and pipefail sees SIGPIPE.)
  if [ -f "$root$bindir/trashd" ] &&
     ! strings -a "$root$bindir/trashd" | grep -F "$plugindir" >/dev/null; then
    fail "$what: $bindir/trashd does not have $plugindir compiled in as its plugin directory"
  fi

  # The unit starts the installed daemon with the installed config.
  if [ -f "$root$unitdir/trashd.service" ]; then
    local exec
    exec=$(sed -n 's/^ExecStart=//p' "$root$unitdir/trashd.service")
    [ "$exec" = "$bindir/trashd --config $conf" ] ||
      fail "$what: the unit's ExecStart is '$exec', not '$bindir/trashd --config $conf'"
  fi

  # MemoryDenyWriteExecute= in the unit: no binary may need memory both writable and
  # executable, which text relocations and an executable stack do.
  local elf
  for elf in "$root$bindir/trashd" "$root$bindir/trashctl" "$root$plugindir"/*.so; do
    [ -f "$elf" ] || continue
    if readelf -dW "$elf" | grep TEXTREL >/dev/null; then fail "$elf has text relocations"; fi
    if readelf -lW "$elf" | grep GNU_STACK | grep RWE >/dev/null; then
      fail "$elf wants an executable stack"
    fi
  done
}

rm -rf "$out"
mkdir -p "$out"

# ---- (a) cmake --install --------------------------------------------------------------
DESTDIR=$out/stage cmake --install "$build" >"$out/install.log"
check_tree "$out/stage" "cmake --install"

# ---- (b) cpack -G DEB ------------------------------------------------------------------
(cd "$build" && cpack -G DEB -B "$out/deb") >"$out/cpack.log" 2>&1 || {
  cat "$out/cpack.log" >&2
  fail "cpack -G DEB failed"
}
shopt -s nullglob
debs=("$out"/deb/*.deb)
if [ ${#debs[@]} -ne 1 ]; then
  fail "cpack made ${#debs[@]} .deb files, not one: ${debs[*]}"
else
  deb=${debs[0]}
  echo "== $(basename "$deb")"
  dpkg-deb --info "$deb"
  [ "$(dpkg-deb -f "$deb" Package)" = trashd ] || fail "Package is not trashd"
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
    fail "Version is '$(dpkg-deb -f "$deb" Version)', not $version"
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] ||
    fail "Architecture is '$(dpkg-deb -f "$deb" Architecture)'"
  for field in Depends Maintainer Description Section; do
    [ -n "$(dpkg-deb -f "$deb" "$field")" ] || fail "the .deb has no $field"
  done
  dpkg-deb -f "$deb" Depends | grep libc6 >/dev/null || fail "Depends does not name libc6"
  [ "$(basename "$deb")" = "trashd_${version}_$(dpkg --print-architecture).deb" ] ||
    fail "the .deb is named $(basename "$deb")"

  # Every file is root's: dpkg unpacks the owners the archive names.
  not_root=$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')
  [ -z "$not_root" ] || fail "the .deb has files not owned by root: $not_root"

  dpkg-deb -e "$deb" "$out/control"
  grep -qx "$conf" "$out/control/conffiles" 2>/dev/null ||
    fail "conffiles does not list $conf"
  for script in postinst prerm postrm; do
    [ -x "$out/control/$script" ] || fail "the .deb has no executable $script"
    [ -f "$out/control/$script" ] && { sh -n "$out/control/$script" || fail "$script: bad sh"; }
  done
  grep -q "$sysusersdir/trashd.conf" "$out/control/postinst" 2>/dev/null ||
    fail "postinst does not apply $sysusersdir/trashd.conf"

  dpkg-deb -x "$deb" "$out/root"
  check_tree "$out/root" "the .deb"
  if ! diff <(cd "$out/stage" && find . -type f | sort) \
            <(cd "$out/root" && find . -type f | sort) >"$out/tree.diff"; then
    cat "$out/tree.diff" >&2
    fail "the .deb and cmake --install lay out different files"
  fi
fi

# ---- (c) systemd-analyze verify ----------------------------------------------------------
# verify wants ExecStart's program to exist: check a copy of the installed unit whose
# ExecStart names the staged daemon. --man=no: the unit links no man page. Any output
# at all (a warning about the unit) fails the test.
if [ -f "$out/stage$unitdir/trashd.service" ]; then
  mkdir -p "$out/verify"
  sed "s|^ExecStart=$bindir/trashd |ExecStart=$out/stage$bindir/trashd |" \
    "$out/stage$unitdir/trashd.service" >"$out/verify/trashd.service"
  grep -q "^ExecStart=$out/stage$bindir/trashd " "$out/verify/trashd.service" ||
    fail "could not point the unit's ExecStart at the staged daemon"
  echo "== systemd-analyze verify --man=no $out/verify/trashd.service"
  rc=0
  verify_out=$(systemd-analyze verify --man=no "$out/verify/trashd.service" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$verify_out" ]; then
    printf '%s\n' "$verify_out" >&2
    fail "systemd-analyze verify: exit $rc, with the output above"
  fi
  echo "== systemd-analyze security --offline=yes (exposure, for information)"
  systemd-analyze security --offline=yes --no-pager "$out/verify/trashd.service" 2>&1 |
    tail -n 1 || true
fi

if [ "$failures" -ne 0 ]; then
  echo "package_test: $failures check(s) failed" >&2
  exit 1
fi
echo "package_test: the install tree and the .deb have every file; the unit verifies"
