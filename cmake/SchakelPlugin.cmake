# schakel_add_plugin(<name> SOURCES ...)
# Builds a plugin shared library into <build>/lib/schakel/plugins/<name>.so. A plugin sees only
# plugins/include (the C ABI and the C++ SDK), never the hub's internals.
function(schakel_add_plugin name)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${name} MODULE ${arg_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${SCHAKEL_PLUGIN_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE schakel_plugin_sdk ${arg_LIBRARIES})
endfunction()
