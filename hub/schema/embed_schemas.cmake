# Writes OUTPUT: a C++ source holding each schema file as a byte array, so the daemon needs no
# schema files at run time. Called at build time with -DOUTPUT=… -DSIGNAL=… -DCONFIG=….
function(schakel_embed var file out)
  file(READ ${file} hex HEX)
  string(LENGTH "${hex}" len)
  math(EXPR size "${len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  # A line break every 16 bytes keeps the generated file readable by compilers and people.
  string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){16})" "\\1\n    " bytes "${bytes}")
  set(${out} "constexpr char ${var}[${size} + 1] = {\n    ${bytes}'\\0'};\n" PARENT_SCOPE)
endfunction()

schakel_embed(signal_schema_bytes ${SIGNAL} signal_src)
schakel_embed(config_schema_bytes ${CONFIG} config_src)
set(content "// Generated from schemas/*.schema.json by hub/schema/embed_schemas.cmake; do not edit.
#include \"schema/embedded.hpp\"

namespace schakel::schema {
namespace {
${signal_src}
${config_src}
}  // namespace

std::string_view embedded_signal_schema() { return {signal_schema_bytes, sizeof signal_schema_bytes - 1}; }
std::string_view embedded_config_schema() { return {config_schema_bytes, sizeof config_schema_bytes - 1}; }

}  // namespace schakel::schema
")
# Only rewrite when changed, so an unchanged schema does not trigger recompiles.
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE ${OUTPUT} "${content}")
