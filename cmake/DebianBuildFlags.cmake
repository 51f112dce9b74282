# Debian's hardening flags, as a Debian package build uses them: dpkg-buildflags with
# DEB_BUILD_MAINT_OPTIONS=hardening=+all (stack protector, _FORTIFY_SOURCE, RELRO and
# BIND_NOW, on top of the default PIE), for every target of the build; plus stack
# clash and control-flow protection (below).
# Included from the top-level CMakeLists when TRASHD_DEB_HARDENING is ON, before any
# target. An admin's own DEB_BUILD_MAINT_OPTIONS (e.g. hardening=+all,-fortify) wins,
# as it comes after ours.
find_program(TRASHD_DPKG_BUILDFLAGS dpkg-buildflags REQUIRED)

# trashd_dpkg_buildflags(VAR KIND): VAR gets dpkg-buildflags --get KIND, as a list.
function(trashd_dpkg_buildflags var kind)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env
            "DEB_BUILD_MAINT_OPTIONS=hardening=+all $ENV{DEB_BUILD_MAINT_OPTIONS}"
            ${TRASHD_DPKG_BUILDFLAGS} --get ${kind}
    # -ffile-prefix-map=<this directory>=. : no build path in the binaries.
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(${var} ${flags} PARENT_SCOPE)
endfunction()

trashd_dpkg_buildflags(deb_cppflags CPPFLAGS)
trashd_dpkg_buildflags(deb_cxxflags CXXFLAGS)
trashd_dpkg_buildflags(deb_ldflags LDFLAGS)
# What newer dpkg (1.22, trixie) adds to hardening=+all and bookworm's does not, while
# bookworm's hardening-check already asks for them: stack clash protection and
# control-flow protection (branch), where the compiler has them. (On bookworm a linked
# binary still does not claim IBT/SHSTK: its startup files and libraries lack them.)
include(CheckCXXCompilerFlag)
foreach(flag -fstack-clash-protection -fcf-protection -mbranch-protection=standard)
  string(MAKE_C_IDENTIFIER "TRASHD_HAS${flag}" has_flag)
  check_cxx_compiler_flag(${flag} ${has_flag})
  if(${has_flag} AND NOT flag IN_LIST deb_cxxflags)
    list(APPEND deb_cxxflags ${flag})
  endif()
endforeach()
add_compile_options(${deb_cppflags} ${deb_cxxflags})
add_link_options(${deb_ldflags})
list(JOIN deb_cppflags " " cppflags)
list(JOIN deb_cxxflags " " cxxflags)
list(JOIN deb_ldflags " " ldflags)
message(STATUS "trashd: Debian's hardening flags: ${cppflags} ${cxxflags}; link: ${ldflags}")
