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
# Components: `runtime` (daemon, trashctl, plugins, unit, config, docs) and `sdk`
# (headers and the CMake package). The .deb holds both in one package, trashd.

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

# ---- the Debian package: cpack -G DEB ------------------------------------------------
set(TRASHD_PACKAGE_MAINTAINER "trashd maintainers <trashd@localhost>" CACHE STRING
    "The Maintainer field of the .deb: Name <email>")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME trashd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR trashd)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "retention daemon: trash, restore and purge for an ML platform")
# The package installs exactly what `cmake --install` does, at the configured prefix
# (CPack's own default for DEB is /usr whatever the build was configured with, which
# would split the files from the paths compiled into the daemon).
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "trashd: the .deb installs under ${CMAKE_INSTALL_PREFIX}; "
                 "configure with -DCMAKE_INSTALL_PREFIX=/usr for a system package")
endif()

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TRASHD_PACKAGE_MAINTAINER}")
# The long description; CPack puts the summary above it as the synopsis line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"trashd keeps deleted projects, datasets, versions, models and workflows in their
workspace's Trash for a retention period, restores them intact and purges them
when they expire. It serves an HTTP API and an admin socket (trashctl), and
loads resource types as plugins. The plugin SDK (headers and CMake package) is
included.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Depends from the libraries the binaries link (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

# Maintainer scripts and conffiles, with this build's paths written in.
set(deb_dir ${PROJECT_BINARY_DIR}/packaging/debian)
set(TRASHD_SYSUSERS_FILE ${CMAKE_INSTALL_PREFIX}/${TRASHD_INSTALL_SYSUSERSDIR}/trashd.conf)
foreach(script postinst prerm postrm)
  configure_file(cmake/debian/${script}.in ${deb_dir}/${script} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
# dpkg keeps an admin's edits to the config across upgrades and asks before replacing.
file(CONFIGURE OUTPUT ${deb_dir}/conffiles CONTENT "${TRASHD_CONFIG_FILE}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${deb_dir}/conffiles ${deb_dir}/postinst ${deb_dir}/prerm ${deb_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
