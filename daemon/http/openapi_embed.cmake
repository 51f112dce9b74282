# Writes the C++ source that embeds the OpenAPI document (daemon/http/openapi.json) as
# the character array kOpenApiText. Run by the build (cmake -P) whenever the document
# changes:  cmake -DINPUT=openapi.json -DOUTPUT=openapi_text.cc -P openapi_embed.cmake
file(READ "${INPUT}" text)
string(FIND "${text}" ")openapi_json\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string's end marker")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from daemon/http/openapi.json by openapi_embed.cmake; do not edit.\n"
  "namespace trashd {\n"
  "extern const char kOpenApiText[];\n"
  "const char kOpenApiText[] = R\"openapi_json(${text})openapi_json\";\n"
  "}  // namespace trashd\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
