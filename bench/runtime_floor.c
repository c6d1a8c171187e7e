/* The floor for a Lambda custom runtime's init (bench/lambda_bench.py): a static program that
   only connects to the Runtime API named by AWS_LAMBDA_RUNTIME_API (HOST:PORT) and sends the
   first GET .../invocation/next, then waits for the answer. Nothing a real runtime could skip. */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  const char* colon = api ? strrchr(api, ':') : NULL;
  if (colon == NULL) return 2;
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(colon - api), api);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&to, sizeof to) != 0) return 1;
  char request[160];
  int n = snprintf(request, sizeof request,
                   "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
  if (write(fd, request, (size_t)n) != n) return 1;
  char answer[4096];
  return read(fd, answer, sizeof answer) > 0 ? 0 : 1;
}
