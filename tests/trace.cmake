# The timeline export (lib/trace.c, lib/trace_json.c, and its hooks in the
# reactor, the pool and the resolver). Each trace file is checked by
# trace_check.py with Python's json module. "threaded": TSan runs it (the
# workers record from their threads); "valgrind": memcheck too.
find_program(DFT_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DFT_PYTHON)
  find_program(DFT_PYTHON NAMES python3 REQUIRED)
endif()
if(TARGET deferred_pool_static AND TARGET deferred_dns_static)
  df_add_suite(test_trace SOURCES test_trace.c
               LIBS deferred_pool_static deferred_dns_static
               LABELS threaded valgrind trace TIMEOUT 300)
  target_compile_definitions(test_trace PRIVATE
    DFT_PYTHON="${DFT_PYTHON}"
    DFT_TRACE_CHECK="${CMAKE_CURRENT_SOURCE_DIR}/trace_check.py")
endif()
