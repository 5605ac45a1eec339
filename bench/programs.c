/* What the benchmarks need to run programs of their own: this program's
 * path (to re-run itself as a child), valgrind's, a folder for temporary
 * files, and the instruction total of a callgrind output file. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

bool df_bench_self_path(char *buf, size_t size) {
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  return true;
}

const char *df_bench_find_valgrind(void) {
  static char found[4096];
  const char *path = getenv("PATH");
  if (path == NULL)
    return NULL;
  while (*path != '\0') {
    size_t len = strcspn(path, ":");
    if (len > 0 && len + sizeof "/valgrind" <= sizeof found) {
      memcpy(found, path, len);
      strcpy(found + len, "/valgrind");
      if (access(found, X_OK) == 0)
        return found;
    }
    path += len;
    if (*path == ':')
      path++;
  }
  return NULL;
}

const char *df_bench_temp_dir(void) {
  const char *tmp = getenv("TMPDIR");
  return tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp";
}

double df_bench_callgrind_total(const char *file) {
  FILE *f = fopen(file, "r");
  char line[512];
  double summary = -1.0;
  double totals = -1.0;
  if (f == NULL)
    return -1.0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "summary:", 8) == 0)
      summary = strtod(line + 8, NULL);
    else if (strncmp(line, "totals:", 7) == 0)
      totals = strtod(line + 7, NULL);
  }
  fclose(f);
  return summary >= 0 ? summary : totals;
}
