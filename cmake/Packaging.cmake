# The daemon's install layout (FHS, through GNUInstallDirs) and its Debian package.
# Included at the end of the top-level CMakeLists, once every target exists.
#
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr
#   DESTDIR=/tmp/stage cmake --install build     # or:  cpack -G DEB --config build/CPackConfig.cmake
#
# With the prefix /usr that is /usr/bin/{trashd,trashctl}, the plugins in
# /usr/lib/<multiarch>/trashd/plugins, the unit in /usr/lib/systemd/system, the config in
# /etc/trashd. The daemon has its plugin directory, and the unit the daemon's and the
# config's paths, compiled in from the configured prefix: stage with DESTDIR, not
# `--prefix`, which moves the files but not those paths (it is fine for the SDK alone).
#
# Components: `runtime` (daemon, trashctl, plugins, unit, config, man pages, docs) and
# `sdk` (headers and the CMake package), one .deb each: trashd and trashd-dev. For a
# package that passes lintian, configure with -DCMAKE_INSTALL_PREFIX=/usr and
# -DTRASHD_DEB_HARDENING=ON (Debian's hardening flags; tests/packaging does both).

# ---- install layout ----------------------------------------------------------------
# systemd's own directories are under the prefix, never under libdir's multiarch
# subdirectory: /usr/lib/systemd/system is the unit path of every distribution, and on
# a merged-/usr Debian /lib/systemd/system is the same directory.
set(TRASHD_INSTALL_UNITDIR lib/systemd/system)
set(TRASHD_INSTALL_SYSUSERSDIR lib/sysusers.d)

# The config goes to /etc/trashd for the prefixes / and /usr (GNUInstallDirs' FULL
# path then leaves the prefix), else to <prefix>/etc/trashd. A destination relative to
# the prefix is kept wherever it can be, so `--prefix` still moves it.
string(FIND "${CMAKE_INSTALL_FULL_SYSCONFDIR}/" "${CMAKE_INSTALL_PREFIX}/" sysconf_at)
if(IS_ABSOLUTE "${CMAKE_INSTALL_SYSCONFDIR}" OR NOT sysconf_at EQUAL 0
   OR CMAKE_INSTALL_PREFIX STREQUAL "/")
  set(TRASHD_INSTALL_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/trashd)
else()
  set(TRASHD_INSTALL_CONFDIR ${CMAKE_INSTALL_SYSCONFDIR}/trashd)
endif()
set(TRASHD_CONFIG_FILE ${CMAKE_INSTALL_FULL_SYSCONFDIR}/trashd/trashd.yaml)

if(TARGET trashd)
  install(TARGETS trashd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  # The web Trash page, served from here (DefaultUiDir in daemon/app/daemon.cc).
  install(DIRECTORY daemon/ui/ DESTINATION ${CMAKE_INSTALL_DATADIR}/trashd/ui
          COMPONENT runtime)
endif()
if(TARGET trashctl)
  install(TARGETS trashctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()

# The unit names the installed daemon and config: the file in config/ says /usr/bin and
# /etc (what the .deb installs); another prefix gets its own paths written in.
file(READ ${PROJECT_SOURCE_DIR}/config/trashd.service unit_text)
string(REPLACE "/usr/bin/trashd " "${CMAKE_INSTALL_FULL_BINDIR}/trashd " unit_text
       "${unit_text}")
string(REPLACE "/etc/trashd/trashd.yaml" "${TRASHD_CONFIG_FILE}" unit_text "${unit_text}")
string(REPLACE "file:/usr/share/doc/trashd/" "file:${CMAKE_INSTALL_FULL_DOCDIR}/" unit_text
       "${unit_text}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/packaging/trashd.service CONTENT "${unit_text}"
     @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/config/trashd.service)

install(FILES ${PROJECT_BINARY_DIR}/packaging/trashd.service
        DESTINATION ${TRASHD_INSTALL_UNITDIR} COMPONENT runtime)
install(FILES config/trashd.sysusers DESTINATION ${TRASHD_INSTALL_SYSUSERSDIR}
        RENAME trashd.conf COMPONENT runtime)
install(FILES config/trashd.yaml DESTINATION ${TRASHD_INSTALL_CONFDIR} COMPONENT runtime)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
# trashctl's bash completion, where bash-completion loads a command's file by its name.
install(FILES daemon/trashctl/trashctl.bash
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions
        RENAME trashctl COMPONENT runtime)

# What Debian wants of every package: its copyright (DEP-5) and its changelog in
# /usr/share/doc/<package>, the man pages, all compressed with gzip -9n (no timestamp,
# so the package is reproducible). trashd is a native package (its version has no
# Debian revision), so the changelog is changelog.gz.
find_program(TRASHD_GZIP gzip REQUIRED)
set(gz_dir ${PROJECT_BINARY_DIR}/packaging/gz)
file(MAKE_DIRECTORY ${gz_dir})
foreach(source cmake/debian/changelog man/trashd.8 man/trashctl.8)
  get_filename_component(name ${source} NAME)
  execute_process(COMMAND ${TRASHD_GZIP} -9nc ${PROJECT_SOURCE_DIR}/${source}
                  OUTPUT_FILE ${gz_dir}/${name}.gz COMMAND_ERROR_IS_FATAL ANY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${PROJECT_SOURCE_DIR}/${source})
endforeach()
install(FILES ${gz_dir}/trashd.8.gz ${gz_dir}/trashctl.8.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT runtime)
install(FILES cmake/debian/copyright ${gz_dir}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/trashd COMPONENT runtime)
install(FILES cmake/debian/copyright ${gz_dir}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/trashd-dev COMPONENT sdk)

# ---- the Debian packages: cpack -G DEB ------------------------------------------------
# The Maintainer's address must be a real one (lintian rejects a host without a dot,
# such as localhost); set your team's.
set(TRASHD_PACKAGE_MAINTAINER "trashd maintainers <trashd@example.org>" CACHE STRING
    "The Maintainer field of the .deb: Name <email>")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME trashd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR trashd)
# The package installs exactly what `cmake --install` does, at the configured prefix
# (CPack's own default for DEB is /usr whatever the build was configured with, which
# would split the files from the paths compiled into the daemon).
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "trashd: the .deb installs under ${CMAKE_INSTALL_PREFIX}; "
                 "configure with -DCMAKE_INSTALL_PREFIX=/usr for a system package")
endif()

# One package per component.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime sdk)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TRASHD_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the libraries the binaries link (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Each description: the synopsis line, then the long description (lines of at most
# 79 characters: CPack indents them by one, and lintian wants at most 80).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME trashd)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
"retention daemon: trash, restore and purge for an ML platform
trashd keeps deleted projects, datasets, versions, models and workflows in
their workspace's Trash for a retention period, restores them intact and
purges them when they expire. It serves an HTTP API and an admin socket
(trashctl), and loads resource types as plugins. The systemd unit runs it
as the user trashd.")

set(CPACK_DEBIAN_SDK_PACKAGE_NAME trashd-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
# The SDK is headers only over Boost (its CMake package finds Boost 1.81).
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "libboost1.81-dev | libboost-dev (>= 1.81)")
set(CPACK_DEBIAN_SDK_PACKAGE_SUGGESTS trashd)
set(CPACK_DEBIAN_SDK_DESCRIPTION
"plugin SDK for the trashd retention daemon
The headers and the CMake package (find_package(trashd), then
trashd_add_plugin) to build resource-type plugins that trashd loads from its
plugin directory.")

# Maintainer scripts and conffiles of trashd, with this build's paths written in.
set(deb_dir ${PROJECT_BINARY_DIR}/packaging/debian)
set(TRASHD_SYSUSERS_FILE ${CMAKE_INSTALL_PREFIX}/${TRASHD_INSTALL_SYSUSERSDIR}/trashd.conf)
foreach(script postinst prerm postrm)
  configure_file(cmake/debian/${script}.in ${deb_dir}/${script} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
# dpkg keeps an admin's edits to the config across upgrades and asks before replacing.
file(CONFIGURE OUTPUT ${deb_dir}/conffiles CONTENT "${TRASHD_CONFIG_FILE}\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${deb_dir}/conffiles ${deb_dir}/postinst ${deb_dir}/prerm ${deb_dir}/postrm)

include(CPack)
