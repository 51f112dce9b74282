#!/usr/bin/env bash
# Installs trashd from a build tree (DESTDIR) and builds its .debs (cpack -G DEB:
# trashd and trashd-dev), and checks in both what an admin would find: the daemon,
# trashctl, the five plugins where the daemon looks for them, the SDK, the systemd unit
# naming the installed daemon and config, the config as a conffile, the man pages, the
# docs; then `systemd-analyze verify` on the unit. Every missing file fails the test,
# the daemon's binary included.
# Then the packages as Debian would ship them: a second build of the same sources with
# the prefix /usr and Debian's hardening flags (TRASHD_DEB_HARDENING, in
# BUILD_DIR/package_debian_build, kept between runs), its two .debs checked the same
# way, then `lintian` (no error, no warning) on each and `hardening-check` on the
# daemon and trashctl; and the man pages name every option and command `--help` lists.
#
# Usage: package_test.sh BUILD_DIR SOURCE_DIR OUT_DIR PREFIX BINDIR LIBDIR INCLUDEDIR
#                        SYSCONFDIR DOCDIR VERSION
# (the directories are GNUInstallDirs' absolute CMAKE_INSTALL_FULL_* of the build)
set -euo pipefail
build=$1 src=$2 out=$3 prefix=$4 bindir=$5 libdir=$6 includedir=$7 sysconfdir=$8
docdir=$9 version=${10}

plugins=(project version model dataset workflow)
failures=0

# set_layout PREFIX BINDIR LIBDIR INCLUDEDIR SYSCONFDIR DOCDIR: the paths the checks
# below expect, those of the build being checked.
set_layout() {
  prefix=$1 bindir=$2 libdir=$3 includedir=$4 sysconfdir=$5 docdir=$6
  plugindir=$libdir/trashd/plugins
  unitdir=${prefix%/}/lib/systemd/system
  sysusersdir=${prefix%/}/lib/sysusers.d
  datadir=${prefix%/}/share
  mandir=$datadir/man
  conf=$sysconfdir/trashd/trashd.yaml
}
set_layout "$prefix" "$bindir" "$libdir" "$includedir" "$sysconfdir" "$docdir"

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
  for f in "$src"/daemon/ui/*; do need_file "$root" "$datadir/trashd/ui/$(basename "$f")"; done
  need_file "$root" "$mandir/man8/trashd.8.gz"
  need_file "$root" "$mandir/man8/trashctl.8.gz"
  need_file "$root" "$datadir/bash-completion/completions/trashctl"
  for pkg in trashd trashd-dev; do
    need_file "$root" "$datadir/doc/$pkg/copyright"
    need_file "$root" "$datadir/doc/$pkg/changelog.gz"
  done
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
    "$(re "$mandir")/man8/trash(d|ctl)\.8\.gz"
    "$(re "$datadir")/bash-completion/completions/trashctl"
    "$(re "$datadir")/doc/trashd(-dev)?/(copyright|changelog\.gz)"
    "$(re "$datadir")/trashd/ui/[a-z]+\.(html|css|js|svg)"
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
# check_debs BUILD DIR: cpack in BUILD makes DIR/deb/{trashd,trashd-dev}_<version>_<arch>.deb,
# with the fields, owners, conffile and maintainer scripts a system package needs, and
# between them exactly the files `cmake --install` staged in DIR/stage.
check_debs() {
  local build_dir=$1 dir=$2 arch pkg deb field script
  arch=$(dpkg --print-architecture)
  (cd "$build_dir" && cpack -G DEB -B "$dir/deb") >"$dir/cpack.log" 2>&1 || {
    cat "$dir/cpack.log" >&2
    fail "cpack -G DEB failed in $build_dir"
    return
  }
  local debs=("$dir"/deb/*.deb)
  [ ${#debs[@]} -eq 2 ] || fail "cpack made ${#debs[@]} .deb files, not two: ${debs[*]}"
  rm -rf "$dir/root"
  for pkg in trashd trashd-dev; do
    deb=$dir/deb/${pkg}_${version}_$arch.deb
    if [ ! -f "$deb" ]; then
      fail "cpack made no $(basename "$deb") (made: ${debs[*]})"
      continue
    fi
    echo "== $(basename "$deb")"
    dpkg-deb --info "$deb"
    [ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || fail "Package is not $pkg"
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
      fail "$pkg: Version is '$(dpkg-deb -f "$deb" Version)', not $version"
    [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] ||
      fail "$pkg: Architecture is '$(dpkg-deb -f "$deb" Architecture)'"
    for field in Depends Maintainer Description Section Priority; do
      [ -n "$(dpkg-deb -f "$deb" "$field")" ] || fail "$pkg has no $field"
    done
    # Every file is root's: dpkg unpacks the owners the archive names.
    not_root=$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')
    [ -z "$not_root" ] || fail "$pkg has files not owned by root: $not_root"
    dpkg-deb -x "$deb" "$dir/root"
  done

  deb=$dir/deb/trashd_${version}_$arch.deb
  if [ -f "$deb" ]; then
    dpkg-deb -f "$deb" Depends | grep libc6 >/dev/null || fail "Depends does not name libc6"
    rm -rf "$dir/control"
    dpkg-deb -e "$deb" "$dir/control"
    grep -qx "$conf" "$dir/control/conffiles" 2>/dev/null ||
      fail "conffiles does not list $conf"
    for script in postinst prerm postrm; do
      [ -x "$dir/control/$script" ] || fail "the .deb has no executable $script"
      [ -f "$dir/control/$script" ] && { sh -n "$dir/control/$script" || fail "$script: bad sh"; }
    done
    grep -q "$sysusersdir/trashd.conf" "$dir/control/postinst" 2>/dev/null ||
      fail "postinst does not apply $sysusersdir/trashd.conf"
  fi
  # The binaries and plugins are in trashd, the SDK in trashd-dev.
  deb=$dir/deb/trashd-dev_${version}_$arch.deb
  if [ -f "$deb" ]; then
    dpkg-deb -c "$deb" | grep -E '/bin/|/plugins/|\.so' >/dev/null &&
      fail "trashd-dev holds a binary or a plugin"
    dpkg-deb -c "$deb" | grep "$includedir/trashd/" >/dev/null ||
      fail "trashd-dev does not hold $includedir/trashd"
  fi

  check_tree "$dir/root" "the .debs of $build_dir"
  if ! diff <(cd "$dir/stage" && find . -type f | sort) \
            <(cd "$dir/root" && find . -type f | sort) >"$dir/tree.diff"; then
    cat "$dir/tree.diff" >&2
    fail "the .debs and cmake --install lay out different files"
  fi
}
shopt -s nullglob
check_debs "$build" "$out"

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

# ---- (d) the Debian packages: prefix /usr, Debian's hardening flags, lintian -------------
# The same sources, configured as a distribution builds them; the compiler and its
# launcher (ccache) are the outer build's. Kept between runs: the rebuild is incremental.
# Without debug information (-g, from both CMake's build type and dpkg-buildflags, which
# drops it with DEB_CXXFLAGS_MAINT_STRIP): cpack strips what it packs, so nothing checked
# here sees it; with it this build, the longest part of the suite's Release run, took
# 382 s of a clean tree on 2 cores, against 293 s without.
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
deb_build=$build/package_debian_build
deb_out=$out/debian
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"
            -DCMAKE_INSTALL_PREFIX=/usr
            -DTRASHD_DEB_HARDENING=ON -DTRASHD_TESTS=OFF -DTRASHD_BENCH=OFF
            "-DCMAKE_CXX_COMPILER=$(cache_value CMAKE_CXX_COMPILER)")
launcher=$(cache_value CMAKE_CXX_COMPILER_LAUNCHER)
[ -z "$launcher" ] || cmake_args+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
echo "== the Debian build: cmake ${cmake_args[*]} (DEB_CXXFLAGS_MAINT_STRIP=-g)"
mkdir -p "$deb_out"
if DEB_CXXFLAGS_MAINT_STRIP=-g \
   cmake -S "$src" -B "$deb_build" "${cmake_args[@]}" >"$deb_out/configure.log" 2>&1 &&
   cmake --build "$deb_build" -j"$(nproc)" >"$deb_out/build.log" 2>&1; then
  deb_libdir=/usr/$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$deb_build/CMakeCache.txt")
  set_layout /usr /usr/bin "$deb_libdir" /usr/include /etc /usr/share/doc/trashd
  DESTDIR=$deb_out/stage cmake --install "$deb_build" >"$deb_out/install.log"
  check_tree "$deb_out/stage" "cmake --install (Debian build)"
  check_debs "$deb_build" "$deb_out"

  # lintian: no error and no warning on either package (its output printed whatever).
  for deb in "$deb_out"/deb/*.deb; do
    echo "== lintian --fail-on error,warning $(basename "$deb")"
    rc=0
    lintian --fail-on error,warning --display-level '>=warning' "$deb" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "lintian: $(basename "$deb") has errors or warnings (exit $rc)"
  done

  # hardening-check: PIE, stack protector, fortify, RELRO, BIND_NOW and stack clash
  # protection on the binaries as packaged (stripped). Not control-flow integrity
  # (--nocfprotection): the code is built with -fcf-protection, but a binary claims
  # IBT/SHSTK only when every object it links does, and bookworm's own startup files
  # and libraries do not (hardening-check /usr/bin/dpkg fails it the same way).
  for exe in trashd trashctl; do
    echo "== hardening-check --nocfprotection /usr/bin/$exe"
    rc=0
    hardening-check --nocfprotection "$deb_out/root/usr/bin/$exe" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "hardening-check: /usr/bin/$exe is not hardened (exit $rc)"
  done

  # A release build has no test clock: asked for one, trashd refuses to start.
  echo "== the release build refuses TRASHD_TEST_CLOCK_FILE"
  rc=0
  refusal=$(TRASHD_TEST_CLOCK_FILE=$out/clock "$deb_build/daemon/trashd" --check-config 2>&1) ||
    rc=$?
  if [ "$rc" -eq 0 ] || ! grep -q "release build without the test clock" <<<"$refusal"; then
    printf '%s\n' "$refusal" >&2
    fail "the release build started with TRASHD_TEST_CLOCK_FILE set (exit $rc)"
  fi
else
  cat "$deb_out/configure.log" "$deb_out/build.log" 2>/dev/null | tail -n 60 >&2
  fail "the Debian build (prefix /usr, TRASHD_DEB_HARDENING=ON) failed"
fi

# ---- (e) the man pages document every option and command -------------------------------
# What `--help` lists (trashd's options; trashctl's global options, its commands and
# their subcommands, and the options of each) must appear in the man page.
help_words() {  # the long options and command names of a CLI11 --help text
  sed -n -e 's/^ *\(--[a-z-]*\).*/\1/p' -e 's/^ *-[a-z], *\(--[a-z-]*\).*/\1/p' \
    -e 's/^  \([a-z][a-z-]*\)  .*/\1/p'
}
subcommands() { sed -n '/^Subcommands:/,$p' | help_words; }
man_names() {  # man_names PAGE WORD...: PAGE's source names each WORD
  local page=$1 word
  shift
  for word in "$@"; do
    sed 's/\\-/-/g' "$src/man/$page.8" | grep -F -e "$word" >/dev/null ||
      fail "man/$page.8 does not name $word"
  done
}
trashd_exe=$build/daemon/trashd
trashctl_exe=$build/daemon/trashctl
if [ -x "$trashd_exe" ] && [ -x "$trashctl_exe" ]; then
  man_names trashd $("$trashd_exe" --help | help_words)
  man_names trashctl $("$trashctl_exe" --help | help_words)
  for command in $("$trashctl_exe" --help | subcommands); do
    man_names trashctl $("$trashctl_exe" "$command" --help | help_words)
    for sub in $("$trashctl_exe" "$command" --help | subcommands); do
      man_names trashctl $("$trashctl_exe" "$command" "$sub" --help | help_words)
    done
  done
else
  fail "no $trashd_exe or $trashctl_exe to compare the man pages with"
fi

if [ "$failures" -ne 0 ]; then
  echo "package_test: $failures check(s) failed" >&2
  exit 1
fi
echo "package_test: the install trees and the .debs have every file; the unit verifies;"
echo "  lintian passes trashd and trashd-dev; the binaries are hardened; the man pages are whole"
