/* df_strerror / df_err_name, generated from the one DF_ERRNO_MAP table. */
#include <string.h>

#include "deferred/error.h"

const char *df_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define DF__ERR_MSG(name, value, msg)                                          \
  case (value):                                                                \
    return msg;
    DF_ERRNO_MAP(DF__ERR_MSG)
#undef DF__ERR_MSG
  default:
    break;
  }
  /* strerror is not required to be thread-safe, but glibc's returns static
   * text for every known errno, which is all a negative code can be here. */
  if (code < 0 && code > -4096)
    return strerror(-code);
  return "unknown error";
}

const char *df_err_name(int code) {
  switch (code) {
  case 0:
    return "DF_OK";
#define DF__ERR_NAME(name, value, msg)                                         \
  case (value):                                                                \
    return "DF_" #name;
    DF_ERRNO_MAP(DF__ERR_NAME)
#undef DF__ERR_NAME
  default:
    return "unknown";
  }
}
