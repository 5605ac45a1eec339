# The `docs` target: HTML reference documentation of the public headers
# (include/), with README.md as its main page and docs/semantics.md beside
# it when present. Doxygen's warnings are errors (docs/Doxyfile.in), so an
# undocumented public declaration or parameter fails the target.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "docs: doxygen not found, no `docs` target")
  return()
endif()
set(DF_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/docs)
set(DF_DOCS_INPUT "${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/README.md")
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/semantics.md)
  string(APPEND DF_DOCS_INPUT " ${PROJECT_SOURCE_DIR}/docs/semantics.md")
endif()
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
add_custom_target(docs
  COMMAND ${DOXYGEN_EXECUTABLE} ${PROJECT_BINARY_DIR}/Doxyfile
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
  COMMENT "API documentation in ${DF_DOCS_OUTPUT}/html"
  VERBATIM)
