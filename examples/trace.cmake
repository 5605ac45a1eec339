# trace-demo: the timeline of a mixed workload (pool jobs of several lengths
# and priorities, a periodic timer, a DNS lookup), written as Chrome trace
# event JSON. As a test, its file is checked like the trace suite's.
if(TARGET deferred_pool AND TARGET deferred_dns)
  add_executable(trace-demo ${CMAKE_CURRENT_LIST_DIR}/trace_demo.c)
  target_link_libraries(trace-demo PRIVATE deferred_pool deferred_dns)
  df_warnings(trace-demo)
  if(DF_BUILD_TESTS AND DFT_PYTHON)
    add_test(NAME example-trace-demo
      COMMAND sh -c "\"$1\" \"$2\" && \"$3\" \"$4\" \"$2\" --jobs 16 --max-workers 3 --dns 1 --rounds"
              sh $<TARGET_FILE:trace-demo> ${CMAKE_CURRENT_BINARY_DIR}/trace-demo.json
              ${DFT_PYTHON} ${PROJECT_SOURCE_DIR}/tests/trace_check.py)
    set_tests_properties(example-trace-demo PROPERTIES LABELS "example;trace" TIMEOUT 60)
  endif()
endif()
