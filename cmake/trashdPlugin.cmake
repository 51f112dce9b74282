# trashd_add_plugin(NAME source...): builds a trashd resource-type plugin, the loadable
# module libtrashd_<NAME>.so (CMake target trashd_<NAME>), against the trashd SDK.
function(trashd_add_plugin name)
  set(target trashd_${name})
  add_library(${target} MODULE ${ARGN})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "trashd_${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_link_libraries(${target} PRIVATE trashd::sdk)
endfunction()
