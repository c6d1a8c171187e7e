/* The floor under durable counting: what one fdatasync costs on this disk, in time and in
 * CPU, with nothing else around it (bench/durable_bench.py prints it beside the servers).
 *
 * usage: fsync_floor FOLDER [SYNCS] [BYTES]
 * Writes BYTES (4096) and fdatasyncs it, SYNCS (2000) times, in a file in FOLDER: once
 * appending (the file grows, as a new WAL does) and once writing over blocks already on
 * disk (as SQLite's WAL does once it is reused from its start). Prints one line each:
 * mean and p99 wall time and the mean CPU time the calling thread spent in the call. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double ms(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static int run(const char* path, int syncs, size_t bytes, int overwrite) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  char* block = malloc(bytes);
  double* wall = malloc(sizeof(double) * (size_t)syncs);
  if (fd < 0 || block == NULL || wall == NULL) return perror(path), 1;
  memset(block, 'x', bytes);
  for (int i = 0; overwrite && i < syncs; ++i) { /* the blocks exist on disk first */
    if (pwrite(fd, block, bytes, (off_t)i * (off_t)bytes) != (ssize_t)bytes)
      return perror("pwrite"), 1;
  }
  if (overwrite && fsync(fd) != 0) return perror("fsync"), 1;
  double cpu = 0;
  for (int i = 0; i < syncs; ++i) {
    if (pwrite(fd, block, bytes, (off_t)i * (off_t)bytes) != (ssize_t)bytes)
      return perror("pwrite"), 1;
    const double wall_start = ms(CLOCK_MONOTONIC), cpu_start = ms(CLOCK_THREAD_CPUTIME_ID);
    if (fdatasync(fd) != 0) return perror("fdatasync"), 1;
    cpu += ms(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    wall[i] = ms(CLOCK_MONOTONIC) - wall_start;
  }
  double sum = 0;
  for (int i = 0; i < syncs; ++i) sum += wall[i];
  qsort(wall, (size_t)syncs, sizeof(double), by_value);
  printf(
      "fdatasync after a %zu-byte %s: mean %.3f ms, p99 %.3f ms, CPU %.3f ms per sync (%d syncs)\n",
      bytes, overwrite ? "overwrite" : "append", sum / syncs, wall[syncs * 99 / 100], cpu / syncs,
      syncs);
  close(fd);
  unlink(path);
  free(block);
  free(wall);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return fprintf(stderr, "usage: %s FOLDER [SYNCS] [BYTES]\n", argv[0]), 2;
  const int syncs = argc > 2 ? atoi(argv[2]) : 2000;
  const size_t bytes = argc > 3 ? (size_t)atol(argv[3]) : 4096;
  if (syncs < 1 || bytes < 1) return fprintf(stderr, "SYNCS and BYTES must be positive\n"), 2;
  char path[4096];
  snprintf(path, sizeof path, "%s/fsync-floor.%d", argv[1], (int)getpid());
  return run(path, syncs, bytes, 0) || run(path, syncs, bytes, 1);
}
