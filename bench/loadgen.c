/*
 * loadgen: the benchmark's load generator (one thread, epoll, level-triggered).
 *
 * Modes (--send and --expect are lines without their '\n'; --expect may end in '\r'):
 *   lines  N connections, each keeping P copies of --send in flight; every '\n'
 *          received is one reply, checked against --expect, timed from its request.
 *   bulk   N connections, each keeping P chunks of --chunk bytes in flight; the
 *          echoed bytes are checked against the pattern sent; reports MB/s (10^6 B).
 *   idle   N connections, then prints its JSON line and holds them until stdin closes.
 * --skip-lines drops that many lines per connection first (the calculator's welcome).
 * Connecting, each connection makes one unmeasured exchange (lines and idle modes), and
 * at most --connect-parallel are between connect() and that reply: the server's accept
 * queue never overflows, so no SYN waits a second for its retry.
 * It prints one JSON object on stdout. Exit 0: measured; 2: usage; 3: connecting failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { M_LINES, M_BULK, M_IDLE }; /* modes */
enum { S_NEW, S_CONNECTING, S_OPEN, S_DRAIN, S_DONE }; /* connection states */
enum { P_CONNECT, P_RUN, P_STOP }; /* phases of the run */
#define RBUF 262144 /* read size, and the most written at once in bulk mode */
#define PAT 251
#define NB 1216 /* histogram buckets: exact below 64 ns, then 32 per power of two */

typedef struct {
  int fd, state, skip, bad, out, ready;
  uint32_t rhead, rcount, off, mpos, got;
  uint64_t pending, sent, recvd, *ring;
} conn_t;

static const char *host = "127.0.0.1", *sendarg = "hello world 0123456789", *expectarg;
static int port, nconns = 1, pipel = 1, mode = M_LINES, skiplines, parallel = 64;
static double duration = 1, warmup = 0.2, conn_timeout = 10, drain_timeout = 1;
static size_t chunk = 65536, linelen, explen, sbuflen;
static char *expect, *sbuf, pattern[RBUF + PAT], rbuf[RBUF];
static conn_t *cs;
static int ep, measuring, phase = P_CONNECT, nopen, nready; /* nready: past the first exchange */
static uint64_t hist[NB], replies, rbytes, bad_replies, conn_errors, unclean;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static double cpu_s(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}
static int bucket(uint64_t v) {
  if (v < 64) return (int)v;
  int e = 63 - __builtin_clzll(v) - 5;
  int i = e * 32 + (int)(v >> e);
  return i < NB ? i : NB - 1;
}
static double bucket_mid(int i) {
  if (i < 64) return i;
  int e = i / 32 - 1;
  uint64_t m = (uint64_t)(i - e * 32);
  return ((double)(m << e) + (double)((m + 1) << e) - 1) / 2;
}
static double pct_us(double q) {
  uint64_t total = 0, acc = 0;
  for (int i = 0; i < NB; i++) total += hist[i];
  if (!total) return 0;
  uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
  for (int i = 0; i < NB; i++)
    if ((acc += hist[i]) >= rank) return bucket_mid(i) / 1000;
  return 0;
}

static void set_out(conn_t *c, int on) {
  if (c->out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->out = on;
}
static void kill_conn(conn_t *c, int error) {
  if (c->state == S_DONE) return;
  if (c->state != S_CONNECTING) nopen--;
  if (error) conn_errors++;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = S_DONE;
}

static void check_ready(conn_t *c) {
  if (!c->ready && c->state == S_OPEN && !c->skip && c->got >= (mode != M_BULK && linelen)) {
    c->ready = 1;
    nready++;
  }
}

/* Writes what is pending: lines come from a buffer of repeated lines, bulk from the pattern. */
static void flush(conn_t *c) {
  for (;;) {
    const char *p;
    size_t n;
    if (mode == M_BULK) {
      uint64_t window = (uint64_t)pipel * chunk;
      if (phase != P_RUN || c->sent - c->recvd >= window) break;
      n = (size_t)(window - (c->sent - c->recvd));
      if (n > RBUF) n = RBUF;
      p = pattern + c->sent % PAT;
    } else {
      if (!c->pending) break;
      n = sbuflen - c->off;
      if (n > c->pending) n = (size_t)c->pending;
      p = sbuf + c->off;
    }
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        set_out(c, 1);
        return;
      }
      kill_conn(c, 1);
      return;
    }
    if (mode == M_BULK) {
      uint64_t before = c->sent;
      c->sent += (uint64_t)w;
      /* a chunk's clock starts when its first byte is written */
      for (uint64_t k = (before + chunk - 1) / chunk; k * chunk < c->sent; k++)
        c->ring[k % (uint64_t)(pipel + 2)] = now_ns();
    } else {
      c->pending -= (uint64_t)w;
      c->off = (uint32_t)((c->off + (size_t)w) % linelen);
    }
  }
  set_out(c, 0);
}

static void queue_lines(conn_t *c, uint32_t k, uint64_t t) {
  for (uint32_t i = 0; i < k; i++) c->ring[(c->rhead + c->rcount++) % (uint32_t)pipel] = t;
  c->pending += (uint64_t)k * linelen;
}

static void on_line(conn_t *c, uint64_t t, uint32_t *again) {
  int good = !c->bad && c->mpos == explen;
  c->mpos = 0;
  c->bad = 0;
  if (c->skip) {
    c->skip--;
    check_ready(c);
    return;
  }
  if (!c->rcount) {
    bad_replies++;
    return;
  }
  uint64_t sent = c->ring[c->rhead];
  c->rhead = (c->rhead + 1) % (uint32_t)pipel;
  c->rcount--;
  c->got++;
  check_ready(c);
  if (!good) bad_replies++;
  if (measuring) {
    replies++;
    hist[bucket(t - sent)]++;
  }
  if (phase == P_RUN && mode == M_LINES) (*again)++;
}

static void on_bytes(conn_t *c, const char *b, size_t n, uint64_t t) {
  if (c->state == S_DRAIN) return;
  if (mode == M_BULK) {
    uint64_t from = c->recvd;
    if (memcmp(b, pattern + from % PAT, n) != 0) bad_replies++;
    c->recvd += n;
    if (measuring) rbytes += n;
    for (uint64_t k = from / chunk; measuring && (k + 1) * chunk <= c->recvd; k++, replies++)
      hist[bucket(t - c->ring[k % (uint64_t)(pipel + 2)])]++;
    return;
  }
  uint32_t again = 0;
  const char *p = b, *end = b + n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t seg = (size_t)((nl ? nl : end) - p);
    if (!c->skip && !c->bad) {
      if (c->mpos + seg <= explen && memcmp(expect + c->mpos, p, seg) == 0)
        c->mpos += (uint32_t)seg;
      else
        c->bad = 1;
    }
    if (!nl) break;
    on_line(c, t, &again);
    p = nl + 1;
  }
  if (measuring) rbytes += n;
  if (again) queue_lines(c, again, t);
}

static void on_event(conn_t *c, uint32_t evs) {
  if (c->state == S_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
      kill_conn(c, 1);
      return;
    }
    c->state = S_OPEN;
    nopen++;
    set_out(c, 0);
    check_ready(c);
    if (mode != M_BULK && linelen) {
      queue_lines(c, 1, now_ns());
      flush(c);
    }
    return;
  }
  if (evs & EPOLLIN || evs & (EPOLLERR | EPOLLHUP)) {
    ssize_t r = recv(c->fd, rbuf, RBUF, 0);
    if (r > 0) {
      on_bytes(c, rbuf, (size_t)r, now_ns());
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      kill_conn(c, c->state != S_DRAIN);
      return;
    }
  }
  if (c->state == S_OPEN) flush(c);
}

static void poll_once(int ms) {
  struct epoll_event evs[256];
  int n = epoll_wait(ep, evs, 256, ms);
  for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
}

static int connect_all(struct sockaddr_in *sa) {
  uint64_t deadline = now_ns() + (uint64_t)(conn_timeout * 1e9);
  int next = 0;
  for (;;) {
    int inflight = next - nready; /* connecting, or waiting for the first reply */
    if (nready == nconns) return 0;
    if (conn_errors || now_ns() > deadline) return -1;
    while (next < nconns && inflight < parallel) {
      conn_t *c = &cs[next++];
      int one = 1;
      c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS)) {
        perror("loadgen: connect");
        return -1;
      }
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c->state = S_CONNECTING;
      c->out = 1;
      struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
      epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
      inflight++;
    }
    poll_once(20);
  }
}

int main(int argc, char **argv) {
  const struct { const char *name; char type; void *p; } opts[] = {
      {"--host", 's', &host}, {"--port", 'i', &port}, {"--conns", 'i', &nconns},
      {"--pipeline", 'i', &pipel}, {"--duration", 'd', &duration}, {"--warmup", 'd', &warmup},
      {"--send", 's', &sendarg}, {"--expect", 's', &expectarg}, {"--skip-lines", 'i', &skiplines},
      {"--chunk", 'z', &chunk}, {"--connect-parallel", 'i', &parallel},
      {"--connect-timeout", 'd', &conn_timeout}, {"--mode", 'm', &mode}};
  for (int i = 1; i < argc; i++) {
    size_t k = 0;
    while (k < sizeof opts / sizeof *opts && strcmp(argv[i], opts[k].name)) k++;
    if (k == sizeof opts / sizeof *opts || i + 1 >= argc) {
      fprintf(stderr, "loadgen: unknown argument or missing value: %s\n", argv[i]);
      return 2;
    }
    const char *v = argv[++i];
    switch (opts[k].type) {
    case 's': *(const char **)opts[k].p = v; break;
    case 'i': *(int *)opts[k].p = atoi(v); break;
    case 'd': *(double *)opts[k].p = atof(v); break;
    case 'z': *(size_t *)opts[k].p = (size_t)atol(v); break;
    default: mode = !strcmp(v, "bulk") ? M_BULK : !strcmp(v, "idle") ? M_IDLE : M_LINES;
    }
  }
  if (port <= 0 || nconns <= 0 || pipel <= 0 || chunk == 0 || duration <= 0 || parallel <= 0) {
    fprintf(stderr, "loadgen: need --port and positive --conns/--pipeline/--chunk/--duration\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  alarm((unsigned)(conn_timeout + warmup + duration + drain_timeout + 30));
  size_t n = strlen(sendarg);
  linelen = n ? n + 1 : 0;
  expect = (char *)(expectarg ? expectarg : sendarg);
  explen = strlen(expect);
  if (linelen) {
    int copies = (pipel > 64 ? pipel : 64) + 1;
    sbuf = malloc(sbuflen = linelen * (size_t)copies);
    for (int i = 0; i < copies; i++) {
      memcpy(sbuf + (size_t)i * linelen, sendarg, n);
      sbuf[(size_t)i * linelen + n] = '\n';
    }
  }
  for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (char)(i % PAT);

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
    return 2;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  cs = calloc((size_t)nconns, sizeof *cs);
  int rlen = mode == M_BULK ? pipel + 2 : mode == M_IDLE ? 1 : pipel;
  if (mode == M_IDLE) pipel = 1;
  for (int i = 0; i < nconns; i++) {
    cs[i].skip = skiplines;
    cs[i].ring = calloc((size_t)rlen, sizeof(uint64_t));
  }
  uint64_t t0 = now_ns();
  if (connect_all(&sa) < 0) {
    printf("{\"ok\":false,\"error\":\"only %d of %d connections connected and answered (timeout %g s)\","
           "\"bad_replies\":%llu,\"conn_errors\":%llu}\n", nready, nconns, conn_timeout,
           (unsigned long long)bad_replies, (unsigned long long)conn_errors);
    return 3;
  }
  double connect_ms = (double)(now_ns() - t0) / 1e6;

  if (mode == M_IDLE) {
    int ok = !bad_replies;
    printf("{\"ok\":%s,\"mode\":\"idle\",\"conns\":%d,\"connected\":%d,\"connect_ms\":%.1f,"
           "\"bad_replies\":%llu,\"conn_errors\":%llu}\n",
           ok ? "true" : "false", nconns, nopen, connect_ms,
           (unsigned long long)bad_replies, (unsigned long long)conn_errors);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof b) > 0) {
    }
    return ok ? 0 : 3;
  }

  uint64_t start = now_ns(), warm_end = start + (uint64_t)(warmup * 1e9);
  uint64_t end = warm_end + (uint64_t)(duration * 1e9), mstart = start;
  double cpu0 = cpu_s();
  measuring = warmup <= 0;
  phase = P_RUN;
  for (int i = 0; i < nconns; i++) {
    if (mode == M_LINES) queue_lines(&cs[i], (uint32_t)pipel, start);
    flush(&cs[i]);
  }
  for (;;) {
    uint64_t t = now_ns();
    if (!measuring && t >= warm_end) {
      measuring = 1;
      mstart = t;
      cpu0 = cpu_s();
    }
    if (t >= end || !nopen) break;
    uint64_t next = measuring ? end : warm_end;
    int ms = (int)((next - t + 999999) / 1000000);
    poll_once(ms > 50 ? 50 : ms);
  }
  measuring = 0;
  phase = P_STOP;
  double secs = (double)(now_ns() - mstart) / 1e9, cpu = cpu_s() - cpu0;
  uint64_t got = replies, bytes = rbytes;
  double p50 = pct_us(0.5), p99 = pct_us(0.99), p999 = pct_us(0.999);
  uint64_t errs = conn_errors;

  /* Half-close and read to EOF, so servers see a clean end rather than a reset. */
  for (int i = 0; i < nconns; i++) {
    if (cs[i].state != S_OPEN) continue;
    shutdown(cs[i].fd, SHUT_WR);
    cs[i].state = S_DRAIN;
    set_out(&cs[i], 0);
  }
  uint64_t dl = now_ns() + (uint64_t)(drain_timeout * 1e9);
  while (nopen && now_ns() < dl) poll_once(20);
  unclean = (uint64_t)nopen;

  printf("{\"ok\":true,\"mode\":\"%s\",\"conns\":%d,\"pipeline\":%d,\"seconds\":%.4f,"
         "\"replies\":%llu,\"rps\":%.1f,\"bytes\":%llu,\"mbps\":%.2f,"
         "\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"bad_replies\":%llu,"
         "\"conn_errors\":%llu,\"unclean_close\":%llu,\"cpu_frac\":%.3f,\"connect_ms\":%.1f}\n",
         mode == M_BULK ? "bulk" : "lines", nconns, pipel, secs, (unsigned long long)got,
         (double)got / secs, (unsigned long long)bytes, (double)bytes / 1e6 / secs, p50, p99,
         p999, (unsigned long long)bad_replies, (unsigned long long)errs,
         (unsigned long long)unclean, cpu / secs, connect_ms);
  return 0;
}
