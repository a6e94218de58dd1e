/* sse_load: the load client of the stream benchmark (bench/streams/run.sh).
 *
 * One thread with epoll and non-blocking sockets for the subscribers, and one that sends
 * each write on a blocking socket and times its round trip. Against one server it:
 *   1. sends W warm-up writes, then B writes with no subscriber connected, and times
 *      each write's own round trip (POST and its response);
 *   2. reads the server's RSS (VmRSS of every --pid, summed), opens N EventSource
 *      subscribers (at most --max-pending connecting at once) and counts as held only
 *      those that answered 200 text/event-stream and sent a first frame (an event
 *      with data, or a comment); waits --settle-ms and reads the RSS again;
 *   3. sends M writes, each marked "@@K=<k>@@", one after the other: write k is sent,
 *      then the client waits for its response and for every held subscriber to have
 *      the event carrying the marker (or --event-timeout-ms), then --interval-ms, then
 *      sends write k+1. Per write: the POST round trip, and the time from sending the
 *      write until the first, the middle and the last subscriber had it.
 *      With --twin-port, each write k is preceded by one to the twin (the same server
 *      with no subscriber) and a pause of --interval-ms: the twin's round trips are
 *      the "no subscriber" figure measured in the same seconds as the others.
 *      With --pub-port, every write goes to that port instead (another server sharing
 *      the store of the one the subscribers are on: bench/streams/run.sh's cross mode).
 *
 * Credentials (the authorisation benchmark, BENCH_STREAMS_AUTH=1 bench/streams/run.sh):
 * --sub-lines FILE gives subscriber i line i (cycled) of FILE: a line starting with '?'
 * or '&' is appended to --sub-path (`?ticket=...`), any other is one more header line
 * (`Authorization: Bearer ...`). --pub-lines FILE gives write k line k (cycled) as a
 * header line (warm-up, no-subscriber and twin writes too). With --groups G, subscriber
 * i belongs to group i % G and measured write k is for group k % G: only that group's
 * held subscribers expect it, and an event reaching another group's subscriber is
 * counted as events_foreign (a document delivered to someone who may not read it).
 *
 * Subscribers decode chunked transfer encoding (BackboneSSE) or a close-delimited
 * body (Nchan), and parse SSE lines: `event:` names, `data:` lines, comments and the
 * blank line that ends a frame. Per subscriber it keeps the last write seen, so
 * missing, duplicated and out-of-order events are counted.
 *
 * Output: progress on stderr; on stdout one line per write ("write k=...") and
 * key=value lines for run.sh.
 *
 * Usage: sse_load --port P [--host 127.0.0.1] --sub-path /todos --pub-path /todos
 *                 --pub-kind json|text -n N [-m 20] [--baseline-writes 20]
 *                 [--warmup-writes 5] [--interval-ms 200] [--settle-ms 2000]
 *                 [--event-timeout-ms 10000] [--open-timeout-s 120]
 *                 [--max-pending 256] [--expect-event create] [--pid PID]...
 *                 [--twin-port P2] [--pub-port P3] [--pub-priority fifo|normal]
 *                 [--sub-lines FILE] [--pub-lines FILE] [--groups G]
 * Build: gcc -O2 -Wall -o sse_load sse_load.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ options */
static const char *opt_host = "127.0.0.1";
static int opt_port = 0;
static int opt_twin_port = 0;
static int opt_pub_port = 0; /* writes go there; 0: to --port */
static int opt_pub_fifo = 1; /* --pub-priority fifo|normal */
static const char *opt_sub_path = "/todos";
static const char *opt_pub_path = "/todos";
static int opt_pub_json = 1;
static int opt_n = 1000;
static int opt_m = 20;
static int opt_baseline = 20;
static int opt_warmup = 5;
static int opt_interval_ms = 200;
static int opt_settle_ms = 2000;
static int opt_event_timeout_ms = 10000;
static int opt_open_timeout_s = 120;
static int opt_max_pending = 256;
static const char *opt_expect_event = "";
static int opt_pids[16];
static int opt_npids = 0;
static char **sub_lines, **pub_lines; /* --sub-lines, --pub-lines */
static int n_sub_lines, n_pub_lines;
static int opt_groups = 1;

static struct sockaddr_in server_addr;

/* ------------------------------------------------------------------ time */
static inline double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[sse_load] ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[sse_load] ERROR: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------------ /proc */
static long rss_kb_of(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) { kb = strtol(line + 6, NULL, 10); break; }
    fclose(f);
    return kb;
}

static long rss_kb(void) { /* sum over --pid; -1 if one is unreadable */
    long sum = 0;
    for (int i = 0; i < opt_npids; i++) {
        long kb = rss_kb_of(opt_pids[i]);
        if (kb < 0) return -1;
        sum += kb;
    }
    return opt_npids ? sum : -1;
}

static long cpu_ticks(void) { /* utime + stime summed over --pid */
    long sum = 0;
    for (int i = 0; i < opt_npids; i++) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", opt_pids[i]);
        FILE *f = fopen(path, "r");
        if (!f) return -1;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (!p) return -1;
        long ut = 0, st = 0;
        /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2) return -1;
        sum += ut + st;
    }
    return sum;
}

/* ------------------------------------------------------------------ subscribers */
enum { S_FREE, S_CONNECTING, S_SENT, S_BODY, S_CLOSED };
enum { CS_NONE, CS_SIZE, CS_SIZE_EXT, CS_DATA, CS_DATA_END, CS_END };
enum { M_IDLE = 0 }; /* marker matcher: 0..3 "@@K=", 4 digits, 5 closing '@' #2 */

struct sub {
    int fd;
    uint8_t state;
    uint8_t ready;      /* got 200 and a first frame */
    uint8_t chunked;
    uint8_t cstate;
    uint32_t cremain;
    char *hdr;          /* response headers, only until they are complete */
    uint16_t hdrlen;
    uint16_t linelen;
    char line[16];      /* the first bytes of the current line */
    char event[16];     /* event name of the current frame */
    uint8_t f_data, f_comment, mstate;
    int32_t mnum;
    int32_t fmark;      /* marker of the current frame, -1 if none */
    int32_t last_k;     /* last write seen */
};

static struct sub *subs;
static int started, ready_count, failed_count, alive_ready;
/* opening failures by reason */
static int fail_connect, fail_reset, fail_eof, fail_timeout, fail_not_sse, fail_status_other;
static int fail_status[600];
/* losses after a subscriber was held */
static int dropped_eof, dropped_error, dropped_end;
static long dups, gaps, wrong_type, unknown_marker, pings, foreign;
static int phase_writes; /* 1 while the measured writes run */

/* ------------------------------------------------------------------ writes */
struct write_rec {
    double t_send, t_resp, t_first, t_half, t_all, t_last;
    int expected, recv, status, ok, complete;
};
static struct write_rec *wr;     /* measured writes, 1..M */
static struct write_rec *base;   /* writes with no subscriber, 0..B-1 */
static struct write_rec *twin;   /* writes to the twin, each just before measured write k, 1..M */
static struct write_rec *cur;    /* write in flight */

static int epfd;

static void sub_close(struct sub *s) {
    if (s->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }
    free(s->hdr);
    s->hdr = NULL;
    s->state = S_CLOSED;
}

/* A subscriber that never became ready failed; one that was ready was dropped. */
static void sub_fail(struct sub *s, int *reason) {
    if (s->state == S_CLOSED) return;
    if (s->ready) {
        alive_ready--;
    } else {
        failed_count++;
        if (reason) (*reason)++;
    }
    sub_close(s);
}

static void record_event(struct sub *s, int k) {
    if (!phase_writes || k < 1 || k > opt_m) { unknown_marker++; return; }
    if ((s - subs) % opt_groups != k % opt_groups) { foreign++; return; }
    if (strcmp(s->event, opt_expect_event) != 0) wrong_type++;
    if (k <= s->last_k) { dups++; return; }
    /* the writes of this subscriber's group come opt_groups apart */
    if (k > s->last_k + opt_groups) gaps += (k - s->last_k) / opt_groups - 1;
    s->last_k = k;
    struct write_rec *w = &wr[k];
    double t = now_ms();
    w->recv++;
    if (w->recv == 1) w->t_first = t;
    if (w->recv == (w->expected + 1) / 2) w->t_half = t;
    if (w->recv == w->expected) w->t_all = t;
    w->t_last = t;
}

static void frame_end(struct sub *s) {
    if ((s->f_data || s->f_comment) && !s->ready) {
        s->ready = 1;
        ready_count++;
        alive_ready++;
    }
    if (s->fmark >= 0) record_event(s, s->fmark);
    else if (phase_writes && s->f_data && strcmp(s->event, "ping") == 0) pings++;
    s->event[0] = 0;
    s->f_data = s->f_comment = 0;
    s->fmark = -1;
    s->mstate = 0;
}

static void line_end(struct sub *s) {
    unsigned n = s->linelen < sizeof s->line ? s->linelen : sizeof s->line;
    if (s->linelen == 0) { frame_end(s); return; }
    if (s->line[0] == ':') s->f_comment = 1;
    else if (n >= 4 && memcmp(s->line, "data", 4) == 0 && (s->linelen == 4 || s->line[4] == ':')) s->f_data = 1;
    else if (n >= 6 && memcmp(s->line, "event:", 6) == 0) {
        unsigned i = 6, j = 0;
        if (i < n && s->line[i] == ' ') i++;
        while (i < n && j < sizeof s->event - 1) s->event[j++] = s->line[i++];
        s->event[j] = 0;
    }
    s->linelen = 0;
    s->mstate = 0;
}

static const char MARK[] = "@@K=";

static inline void marker_byte(struct sub *s, char c) {
    switch (s->mstate) {
    case 0: case 1: case 2: case 3:
        if (c == MARK[s->mstate]) {
            s->mstate++;
            if (s->mstate == 4) s->mnum = -1;
        } else {
            s->mstate = (c == '@') ? (s->mstate == 2 ? 2 : 1) : 0;
        }
        break;
    case 4:
        if (c >= '0' && c <= '9' && s->mnum < 100000000) s->mnum = (s->mnum < 0 ? 0 : s->mnum * 10) + (c - '0');
        else if (c == '@' && s->mnum >= 0) s->mstate = 5;
        else s->mstate = (c == '@') ? 1 : 0;
        break;
    case 5:
        if (c == '@') { s->fmark = s->mnum; s->mstate = 0; }
        else s->mstate = 0;
        break;
    }
}

static void sse_bytes(struct sub *s, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\n') { line_end(s); continue; }
        if (c == '\r') continue;
        if (s->linelen < sizeof s->line) s->line[s->linelen] = c;
        if (s->linelen < UINT16_MAX) s->linelen++;
        marker_byte(s, c);
    }
}

/* Body bytes (after the headers): de-chunk if needed, then SSE. 0 = go on, -1 = stream ended. */
static int body_bytes(struct sub *s, const char *p, size_t n) {
    if (!s->chunked) { sse_bytes(s, p, n); return 0; }
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        switch (s->cstate) {
        case CS_SIZE:
            if (isxdigit((unsigned char)c)) {
                s->cremain = s->cremain * 16 + (isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
            } else if (c == '\n') {
                if (s->cremain == 0) { s->cstate = CS_END; return -1; }
                s->cstate = CS_DATA;
            } else {
                s->cstate = CS_SIZE_EXT;
            }
            i++;
            break;
        case CS_SIZE_EXT:
            if (c == '\n') {
                if (s->cremain == 0) { s->cstate = CS_END; return -1; }
                s->cstate = CS_DATA;
            }
            i++;
            break;
        case CS_DATA: {
            size_t take = n - i < s->cremain ? n - i : s->cremain;
            sse_bytes(s, p + i, take);
            i += take;
            s->cremain -= take;
            if (s->cremain == 0) s->cstate = CS_DATA_END;
            break;
        }
        case CS_DATA_END:
            if (c == '\n') { s->cstate = CS_SIZE; s->cremain = 0; }
            i++;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

#define HDR_MAX 4096

/* Headers: returns bytes consumed from p once complete (>=0 and sets state), or -1 to wait, -2 on failure. */
static int header_bytes(struct sub *s, const char *p, size_t n, size_t *used) {
    if (!s->hdr) { s->hdr = malloc(HDR_MAX + 1); s->hdrlen = 0; }
    size_t take = n < (size_t)(HDR_MAX - s->hdrlen) ? n : (size_t)(HDR_MAX - s->hdrlen);
    memcpy(s->hdr + s->hdrlen, p, take);
    size_t old = s->hdrlen;
    s->hdrlen += take;
    s->hdr[s->hdrlen] = 0;
    char *end = strstr(s->hdr, "\r\n\r\n");
    if (!end) {
        if (s->hdrlen >= HDR_MAX) return -2;
        *used = take;
        return -1;
    }
    size_t hlen = (size_t)(end - s->hdr) + 4;
    *used = hlen - old;
    int status = 0;
    if (sscanf(s->hdr, "HTTP/1.%*d %d", &status) != 1) status = 0;
    if (status != 200) {
        if (status > 0 && status < 600) fail_status[status]++;
        else fail_status_other++;
        return -3;
    }
    /* header lookups, case-insensitive, on the header block only */
    end[2] = 0;
    int sse = 0;
    s->chunked = 0;
    for (char *line = strstr(s->hdr, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        char *h = line + 2;
        if (strncasecmp(h, "content-type:", 13) == 0 && strcasestr(h, "text/event-stream") && strcasestr(h, "text/event-stream") < strstr(h, "\r\n")) sse = 1;
        if (strncasecmp(h, "transfer-encoding:", 18) == 0) {
            char *e = strstr(h, "\r\n");
            char *c = strcasestr(h, "chunked");
            if (c && c < e) s->chunked = 1;
        }
    }
    if (!sse) return -4;
    free(s->hdr);
    s->hdr = NULL;
    s->state = S_BODY;
    s->cstate = CS_SIZE;
    s->cremain = 0;
    s->fmark = -1;
    return 0;
}

static char sub_request[8192];
static size_t sub_request_len;

/* The request of subscriber idx: the common one, or with its --sub-lines line. */
static size_t sub_request_for(int idx) {
    if (!n_sub_lines) return sub_request_len;
    const char *line = sub_lines[idx % n_sub_lines];
    int query = line[0] == '?' || line[0] == '&';
    int n = snprintf(sub_request, sizeof sub_request,
                     "GET %s%s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n%s%s\r\n",
                     opt_sub_path, query ? line : "", opt_host, opt_port, query ? "" : line, query ? "" : "\r\n");
    if (n <= 0 || (size_t)n >= sizeof sub_request) die("the request of subscriber %d is too long", idx);
    return (size_t)n;
}

static void sub_start(int idx) {
    struct sub *s = &subs[idx];
    memset(s, 0, sizeof *s);
    s->fmark = -1;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    started++;
    if (s->fd < 0) { say("socket: %s", strerror(errno)); s->state = S_CONNECTING; sub_fail(s, &fail_connect); return; }
    int r = connect(s->fd, (struct sockaddr *)&server_addr, sizeof server_addr);
    if (r < 0 && errno != EINPROGRESS) { s->state = S_CONNECTING; sub_fail(s, &fail_connect); return; }
    s->state = S_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)idx};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

static char rbuf[1 << 16];

static void sub_event(int idx, uint32_t events) {
    struct sub *s = &subs[idx];
    if (s->state == S_CLOSED || s->fd < 0) return;
    if (s->state == S_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) { sub_fail(s, &fail_connect); return; }
        if (!(events & EPOLLOUT)) return;
        size_t reqlen = sub_request_for(idx);
        ssize_t w = send(s->fd, sub_request, reqlen, MSG_NOSIGNAL);
        if (w != (ssize_t)reqlen) { sub_fail(s, &fail_reset); return; }
        s->state = S_SENT;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
        epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
        return;
    }
    ssize_t n = recv(s->fd, rbuf, sizeof rbuf, 0);
    if (n == 0) {
        if (s->ready) dropped_eof++;
        sub_fail(s, &fail_eof);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        if (s->ready) dropped_error++;
        sub_fail(s, &fail_reset);
        return;
    }
    const char *p = rbuf;
    size_t left = (size_t)n;
    if (s->state == S_SENT) {
        size_t used = 0;
        int r = header_bytes(s, p, left, &used);
        if (r == -1) return;
        if (r == -2 || r == -4) { sub_fail(s, &fail_not_sse); return; }
        if (r == -3) { sub_fail(s, NULL); return; }
        p += used;
        left -= used;
    }
    if (left && body_bytes(s, p, left) < 0) {
        if (s->ready) dropped_end++;
        sub_fail(s, &fail_eof);
    }
}

/* ------------------------------------------------------------------ publisher */
/* The publisher runs on a thread of its own, with a blocking socket: a write's round
 * trip is the server's, not the time this client took to get through the events that
 * arrive on the subscribers' sockets while the response is on its way.
 *
 * It runs SCHED_FIFO (--pub-priority fifo, the default; normal when not permitted), for
 * two reasons seen in scheduler traces on a 2-core machine. (1) The write's fan-out
 * starts once its response is sent, and this client's own reader thread then takes in
 * thousands of events: a normal-priority publisher woken by the response could wait
 * milliseconds for a core behind it, a delay of the client, not of the server.
 * (2) A normal-priority publisher that sleeps on a core draws the server thread it wakes
 * to that same core; the twin, which never fans out, stays there write after write and
 * is woken without an inter-processor interrupt, while the server under test, whose
 * threads moved to the other core for the fan-out, pays one (~50 us in this VM) on the
 * request and one on the response. A real writer is another machine: its requests wake
 * the server from a network interrupt wherever the server thread last ran. A FIFO
 * publisher keeps its core, so both servers are woken on the other one, alike. */
/* A server that takes the writes: the one under test, or its twin (--twin-port): the
 * same server with no subscriber, written to between the measured writes, so that the
 * round trip "with no subscriber" is measured in the same seconds as the one with N. */
struct publisher {
    struct sockaddr_in addr;
    int port;
    int fd;
};
static struct publisher target_pub = {.fd = -1}, twin_pub = {.fd = -1};
static struct publisher *pub = &target_pub; /* where the write in flight goes */
static char pub_buf[1 << 16];
static size_t pub_len;
static atomic_int pub_waiting;
static int pub_reconnects, pub_errors, pub_closes;
static pthread_t pub_thread;

static void pub_connect(void) {
    pub->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (pub->fd < 0) die("socket: %s", strerror(errno));
    if (connect(pub->fd, (struct sockaddr *)&pub->addr, sizeof pub->addr) < 0)
        die("publisher cannot connect to %s:%d: %s", opt_host, pub->port, strerror(errno));
    int one = 1;
    setsockopt(pub->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = opt_event_timeout_ms / 1000, .tv_usec = (opt_event_timeout_ms % 1000) * 1000};
    setsockopt(pub->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pub_reconnects++;
}

static void pub_close(void) {
    if (pub->fd >= 0) {
        close(pub->fd);
        pub->fd = -1;
    }
}

/* A complete response in pub_buf? Returns 1 and fills status / keep-alive when it is. */
static int pub_parse(int *status, int *keep) {
    pub_buf[pub_len] = 0;
    char *end = strstr(pub_buf, "\r\n\r\n");
    if (!end) return 0;
    size_t hlen = (size_t)(end - pub_buf) + 4;
    *status = 0;
    sscanf(pub_buf, "HTTP/1.%*d %d", status);
    long clen = -1;
    int chunked = 0;
    *keep = 1;
    for (char *h = strstr(pub_buf, "\r\n") + 2; h < end; h = strstr(h, "\r\n") + 2) {
        if (strncasecmp(h, "content-length:", 15) == 0) clen = strtol(h + 15, NULL, 10);
        else if (strncasecmp(h, "transfer-encoding:", 18) == 0 && strncasecmp(h + 18 + strspn(h + 18, " "), "chunked", 7) == 0) chunked = 1;
        else if (strncasecmp(h, "connection:", 11) == 0 && strncasecmp(h + 11 + strspn(h + 11, " "), "close", 5) == 0) *keep = 0;
    }
    if (chunked) {
        size_t i = hlen;
        for (;;) {
            char *nl = memmem(pub_buf + i, pub_len - i, "\r\n", 2);
            if (!nl) return 0;
            long sz = strtol(pub_buf + i, NULL, 16);
            i = (size_t)(nl - pub_buf) + 2;
            if (sz == 0) return memmem(pub_buf + i, pub_len - i, "\r\n", 2) != NULL;
            if (pub_len < i + (size_t)sz + 2) return 0;
            i += (size_t)sz + 2;
        }
    }
    if (clen < 0) { *keep = 0; return 0; } /* close-delimited: complete at EOF */
    return pub_len >= hlen + (size_t)clen;
}

static void pub_done(int status, int keep) {
    cur->t_resp = now_ms();
    cur->status = status;
    cur->ok = status >= 200 && status < 300;
    if (!cur->ok) pub_errors++;
    pub_len = 0;
    if (!keep) { pub_closes++; pub_close(); }
}

/* Reads until the response is complete, the server closes, or the receive timeout. */
static void pub_receive(void) {
    for (;;) {
        if (pub_len >= sizeof pub_buf - 1) pub_len = 0; /* a body this large is not expected: drop it */
        ssize_t n = recv(pub->fd, pub_buf + pub_len, sizeof pub_buf - 1 - pub_len, 0);
        if (n > 0) {
            pub_len += (size_t)n;
            int status, keep;
            if (pub_parse(&status, &keep)) { pub_done(status, keep); return; }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        /* EOF, error or timeout */
        int status = 0, keep;
        pub_parse(&status, &keep);
        if (status) pub_done(status, 0);
        else { cur->t_resp = 0; cur->ok = 0; pub_errors++; pub_len = 0; }
        pub_closes++;
        pub_close();
        return;
    }
}

static char pub_request[8192];
static int pub_request_len;

static void *pub_main(void *arg) {
    struct write_rec *w = arg;
    if (pub->fd < 0) pub_connect();
    pub_len = 0;
    w->t_send = now_ms();
    ssize_t sent = 0;
    while (sent < pub_request_len) {
        ssize_t r = send(pub->fd, pub_request + sent, (size_t)(pub_request_len - sent), MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { /* the keep-alive connection died under us: once more on a new one */
            pub_close();
            pub_connect();
            sent = 0;
            w->t_send = now_ms();
            continue;
        }
        sent += r;
    }
    pub_receive();
    atomic_store(&pub_waiting, 0);
    return NULL;
}

static void pub_send(struct write_rec *w, const char *marker_prefix, int k) {
    char body[128];
    int blen;
    if (opt_pub_json) blen = snprintf(body, sizeof body, "{\"title\":\"%s%d@@\"}", marker_prefix, k);
    else blen = snprintf(body, sizeof body, "%s%d@@", marker_prefix, k);
    const char *extra = n_pub_lines ? pub_lines[k % n_pub_lines] : "";
    pub_request_len = snprintf(pub_request, sizeof pub_request,
                               "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n%s",
                               opt_pub_path, opt_host, pub->port, opt_pub_json ? "application/json" : "text/plain", blen,
                               extra, n_pub_lines ? "\r\n" : "", body);
    if (pub_request_len <= 0 || pub_request_len >= (int)sizeof pub_request) die("a write's request is too long");
    cur = w;
    w->t_send = now_ms(); /* the thread sets it again just before sending */
    atomic_store(&pub_waiting, 1);
    int err = EPERM;
    if (opt_pub_fifo) {
        pthread_attr_t attr;
        struct sched_param param = {.sched_priority = 1};
        pthread_attr_init(&attr);
        pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
        pthread_attr_setschedparam(&attr, &param);
        err = pthread_create(&pub_thread, &attr, pub_main, w);
        pthread_attr_destroy(&attr);
        if (err == EPERM) {
            say("SCHED_FIFO not permitted: the publisher runs at normal priority");
            opt_pub_fifo = 0;
        }
    }
    if (err == EPERM) err = pthread_create(&pub_thread, NULL, pub_main, w);
    if (err) die("pthread_create: %s", strerror(err));
}

/* ------------------------------------------------------------------ loop */
static struct epoll_event evs[1024];

static void poll_once(int timeout_ms) {
    int n = epoll_wait(epfd, evs, 1024, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return;
        die("epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        sub_event((int)evs[i].data.u32, evs[i].events);
    }
}

static void poll_for(double ms) {
    double end = now_ms() + ms;
    for (double t = now_ms(); t < end; t = now_ms()) {
        int to = (int)(end - t);
        poll_once(to < 1 ? 1 : to);
    }
}

/* One write: send, then service everything until its response is in and (with
 * subscribers) every expected subscriber has it, or the timeout. */
static void do_write_to(struct publisher *p, struct write_rec *w, const char *prefix, int k, int expected) {
    memset(w, 0, sizeof *w);
    w->expected = expected;
    pub = p;
    pub_send(w, prefix, k);
    double deadline = w->t_send + opt_event_timeout_ms;
    for (;;) {
        int events_done = w->recv >= w->expected;
        if (!atomic_load(&pub_waiting) && events_done) break;
        double t = now_ms();
        if (t >= deadline) break;
        int to = (int)(deadline - t);
        poll_once(to < 1 ? 1 : (to > 100 ? 100 : to));
    }
    if (atomic_load(&pub_waiting)) { /* no answer in time: unblock the publisher */
        if (pub->fd >= 0) shutdown(pub->fd, SHUT_RDWR);
    }
    pthread_join(pub_thread, NULL);
    w->complete = w->recv >= w->expected;
    pub = &target_pub;
}

static void do_write(struct write_rec *w, const char *prefix, int k, int expected) {
    do_write_to(&target_pub, w, prefix, k, expected);
}

static double self_cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p) { /* nearest rank */
    if (n <= 0) return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int r = (int)(p * n + 0.999999);
    if (r < 1) r = 1;
    if (r > n) r = n;
    return v[r - 1];
}

static void out(const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s=", key);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* The non-empty lines of a file, without their line ends. */
static char **read_lines(const char *path, int *count) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read %s: %s", path, strerror(errno));
    char **lines = NULL, *line = NULL;
    size_t cap = 0;
    int n = 0, room = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (n == room) { room = room ? room * 2 : 1024; lines = realloc(lines, sizeof *lines * (size_t)room); }
        lines[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (!n) die("%s has no line", path);
    *count = n;
    return lines;
}

static void usage(void) {
    fprintf(stderr, "usage: sse_load --port P [--host H] --sub-path PATH --pub-path PATH --pub-kind json|text -n N [-m M]\n"
                    "       [--baseline-writes B] [--warmup-writes W] [--interval-ms MS] [--settle-ms MS]\n"
                    "       [--event-timeout-ms MS] [--open-timeout-s S] [--max-pending P] [--expect-event NAME] [--pid PID]...\n"
                    "       [--twin-port P2] [--pub-port P3] [--pub-priority fifo|normal]\n"
                    "       [--sub-lines FILE] [--pub-lines FILE] [--groups G]\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (OPT("--host")) opt_host = v;
        else if (OPT("--port")) opt_port = atoi(v);
        else if (OPT("--twin-port")) opt_twin_port = atoi(v);
        else if (OPT("--pub-port")) opt_pub_port = atoi(v);
        else if (OPT("--pub-priority")) {
            if (strcmp(v, "fifo") == 0) opt_pub_fifo = 1;
            else if (strcmp(v, "normal") == 0) opt_pub_fifo = 0;
            else usage();
        }
        else if (OPT("--sub-path")) opt_sub_path = v;
        else if (OPT("--pub-path")) opt_pub_path = v;
        else if (OPT("--pub-kind")) opt_pub_json = strcmp(v, "json") == 0;
        else if (OPT("-n")) opt_n = atoi(v);
        else if (OPT("-m")) opt_m = atoi(v);
        else if (OPT("--baseline-writes")) opt_baseline = atoi(v);
        else if (OPT("--warmup-writes")) opt_warmup = atoi(v);
        else if (OPT("--interval-ms")) opt_interval_ms = atoi(v);
        else if (OPT("--settle-ms")) opt_settle_ms = atoi(v);
        else if (OPT("--event-timeout-ms")) opt_event_timeout_ms = atoi(v);
        else if (OPT("--open-timeout-s")) opt_open_timeout_s = atoi(v);
        else if (OPT("--max-pending")) opt_max_pending = atoi(v);
        else if (OPT("--expect-event")) opt_expect_event = v;
        else if (OPT("--pid")) { if (opt_npids < 16) opt_pids[opt_npids++] = atoi(v); }
        else if (OPT("--sub-lines")) sub_lines = read_lines(v, &n_sub_lines);
        else if (OPT("--pub-lines")) pub_lines = read_lines(v, &n_pub_lines);
        else if (OPT("--groups")) opt_groups = atoi(v);
        else usage();
#undef OPT
    }
    if (opt_port <= 0 || opt_n < 0 || opt_m < 1 || opt_m > 100000 || opt_baseline < 0 || opt_max_pending < 1 || opt_groups < 1) usage();
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((long)rl.rlim_cur < (long)opt_n + 16)
        die("open-file limit %ld is too low for %d subscribers", (long)rl.rlim_cur, opt_n);
    out("nofile_limit", "%ld", (long)rl.rlim_cur);

    memset(&server_addr, 0, sizeof server_addr);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt_port);
    if (inet_pton(AF_INET, opt_host, &server_addr.sin_addr) != 1) die("bad --host %s", opt_host);
    target_pub.addr = server_addr;
    target_pub.port = opt_port;
    if (opt_pub_port > 0) {
        target_pub.addr.sin_port = htons((uint16_t)opt_pub_port);
        target_pub.port = opt_pub_port;
    }
    twin_pub.addr = server_addr;
    twin_pub.addr.sin_port = htons((uint16_t)opt_twin_port);
    twin_pub.port = opt_twin_port;
    sub_request_len = (size_t)snprintf(sub_request, sizeof sub_request,
                                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
                                       opt_sub_path, opt_host, opt_port);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    subs = calloc((size_t)(opt_n > 0 ? opt_n : 1), sizeof *subs);
    wr = calloc((size_t)opt_m + 1, sizeof *wr);
    base = calloc((size_t)(opt_baseline > 0 ? opt_baseline : 1), sizeof *base);
    twin = calloc((size_t)opt_m + 1, sizeof *twin);
    struct write_rec warm;
    long hz = sysconf(_SC_CLK_TCK);

    /* 1. warm-up and writes with no subscriber */
    for (int i = 0; i < opt_warmup; i++) { do_write(&warm, "@@W=", i + 1, 0); poll_for(20); }
    if (opt_twin_port > 0)
        for (int i = 0; i < opt_warmup; i++) { do_write_to(&twin_pub, &warm, "@@V=", i + 1, 0); poll_for(20); }
    say("%d writes with no subscriber", opt_baseline);
    long bticks0 = cpu_ticks();
    for (int i = 0; i < opt_baseline; i++) {
        do_write(&base[i], "@@B=", i + 1, 0);
        poll_for(opt_interval_ms);
    }
    long bticks1 = cpu_ticks();
    if (opt_baseline > 0 && bticks0 >= 0 && bticks1 >= 0)
        out("server_cpu_ms_per_base_write", "%.2f", (bticks1 - bticks0) * 1000.0 / hz / opt_baseline);

    /* 2. subscribers and memory */
    poll_for(500);
    long rss0 = rss_kb();
    out("rss_before_kb", "%ld", rss0);
    for (int i = 0; i < opt_npids; i++) printf("rss_before_kb_pid%d=%ld\n", opt_pids[i], rss_kb_of(opt_pids[i]));
    say("opening %d subscribers (%d connecting at most at once)", opt_n, opt_max_pending);
    double t_open0 = now_ms(), deadline = t_open0 + opt_open_timeout_s * 1000.0, next_report = t_open0 + 5000;
    while (ready_count + failed_count < opt_n && now_ms() < deadline) {
        while (started < opt_n && started - ready_count - failed_count < opt_max_pending) sub_start(started);
        poll_once(20);
        if (now_ms() >= next_report) {
            say("  %d held, %d failed, %d connecting", ready_count, failed_count, started - ready_count - failed_count);
            next_report += 5000;
        }
    }
    double t_open1 = now_ms();
    for (int i = 0; i < started; i++)
        if (!subs[i].ready && subs[i].state != S_CLOSED) sub_fail(&subs[i], &fail_timeout);
    fail_timeout += opt_n - started;
    failed_count += opt_n - started;
    say("held %d of %d subscribers in %.1f s (%d failed)", ready_count, opt_n, (t_open1 - t_open0) / 1000, failed_count);
    out("n", "%d", opt_n);
    out("held", "%d", ready_count);
    out("open_s", "%.2f", (t_open1 - t_open0) / 1000);
    out("failed", "%d", failed_count);
    out("fail_connect", "%d", fail_connect);
    out("fail_reset", "%d", fail_reset);
    out("fail_eof", "%d", fail_eof);
    out("fail_timeout", "%d", fail_timeout);
    out("fail_not_sse", "%d", fail_not_sse);
    out("fail_status_other", "%d", fail_status_other);
    for (int c = 0; c < 600; c++)
        if (fail_status[c]) printf("fail_status_%d=%d\n", c, fail_status[c]);

    long ticks0 = cpu_ticks();
    double t_settle0 = now_ms();
    poll_for(opt_settle_ms);
    long ticks1 = cpu_ticks();
    double t_settle1 = now_ms();
    long rss1 = rss_kb();
    out("rss_after_kb", "%ld", rss1);
    for (int i = 0; i < opt_npids; i++) printf("rss_after_kb_pid%d=%ld\n", opt_pids[i], rss_kb_of(opt_pids[i]));
    if (rss0 > 0 && rss1 > 0 && ready_count > 0) out("rss_per_sub_kib", "%.2f", (double)(rss1 - rss0) / ready_count);
    if (ticks0 >= 0 && ticks1 >= 0)
        out("idle_cpu_pct", "%.1f", (ticks1 - ticks0) * 100.0 / hz / ((t_settle1 - t_settle0) / 1000));
    out("held_after_settle", "%d", alive_ready);

    /* 3. writes with the subscribers */
    say("%d writes to %d subscribers", opt_m, alive_ready);
    phase_writes = 1;
    long wticks0 = cpu_ticks();
    double wt0 = now_ms(), wcpu0 = self_cpu_ms();
    for (int k = 1; k <= opt_m; k++) {
        struct write_rec *w = &wr[k];
        if (opt_twin_port > 0) { /* the twin's write first, then a pause as long as the others */
            do_write_to(&twin_pub, &twin[k], "@@T=", k, 0);
            poll_for(opt_interval_ms);
        }
        long pings0 = pings;
        int expected = alive_ready;
        if (opt_groups > 1) { /* the held subscribers of write k's group */
            expected = 0;
            for (int i = k % opt_groups; i < started; i += opt_groups)
                if (subs[i].ready && subs[i].state != S_CLOSED) expected++;
        }
        do_write(w, "@@K=", k, expected);
        /* pings: heartbeat events read while this write was in flight (a heartbeat fan-out overlapped it) */
        printf("write k=%d expected=%d received=%d pings=%ld status=%d twin_post_ms=%.3f post_ms=%.3f first_ms=%.3f half_ms=%.3f all_ms=%.3f\n", k,
               w->expected, w->recv, pings - pings0, w->status,
               opt_twin_port > 0 && twin[k].ok ? twin[k].t_resp - twin[k].t_send : -1, w->t_resp > 0 ? w->t_resp - w->t_send : -1,
               w->recv ? w->t_first - w->t_send : -1, w->t_half > 0 ? w->t_half - w->t_send : -1,
               w->complete && w->expected ? w->t_all - w->t_send : -1);
        poll_for(opt_interval_ms);
    }
    poll_for(500); /* late events still count as delivered (not on time) */
    phase_writes = 0;
    long wticks1 = cpu_ticks();
    double wt1 = now_ms(), wcpu1 = self_cpu_ms();
    /* CPU per write: less sensitive to a busy machine than wall time. The server's
     * figure has its idle CPU rate (measured while settling) taken off. */
    out("client_cpu_ms_per_write", "%.2f", (wcpu1 - wcpu0) / opt_m);
    if (ticks0 >= 0 && ticks1 >= 0 && wticks0 >= 0 && wticks1 >= 0) {
        double idle_rate = (ticks1 - ticks0) * 1000.0 / hz / (t_settle1 - t_settle0); /* ms of CPU per ms */
        double used = (wticks1 - wticks0) * 1000.0 / hz - idle_rate * (wt1 - wt0);
        out("server_cpu_ms_per_write", "%.2f", (used < 0 ? 0 : used) / opt_m);
    }
    long rss2 = rss_kb();
    out("rss_after_writes_kb", "%ld", rss2);
    out("held_after_writes", "%d", alive_ready);
    out("dropped_eof", "%d", dropped_eof);
    out("dropped_error", "%d", dropped_error);
    out("dropped_end", "%d", dropped_end);

    /* summary */
    double *v = calloc((size_t)(opt_m + opt_baseline + 1), sizeof *v);
    int nv = 0, incomplete = 0;
    long expected_total = 0, received_total = 0;
    for (int k = 1; k <= opt_m; k++) {
        expected_total += wr[k].expected;
        received_total += wr[k].recv < wr[k].expected ? wr[k].recv : wr[k].expected;
        if (!wr[k].complete) incomplete++;
    }
    /* time-to-all; a write some subscriber never got counts as the timeout */
    nv = 0;
    for (int k = 1; k <= opt_m; k++) v[nv++] = wr[k].complete ? wr[k].t_all - wr[k].t_send : opt_event_timeout_ms;
    if (alive_ready > 0 || expected_total > 0) {
        out("tta_median_ms", "%.3f", pct(v, nv, 0.5));
        out("tta_p90_ms", "%.3f", pct(v, nv, 0.9));
        out("tta_max_ms", "%.3f", v[nv - 1]);
        nv = 0;
        for (int k = 1; k <= opt_m; k++) if (wr[k].recv) v[nv++] = wr[k].t_first - wr[k].t_send;
        if (nv) out("first_median_ms", "%.3f", pct(v, nv, 0.5));
        nv = 0;
        for (int k = 1; k <= opt_m; k++) if (wr[k].t_half > 0) v[nv++] = wr[k].t_half - wr[k].t_send;
        if (nv) out("half_median_ms", "%.3f", pct(v, nv, 0.5));
    }
    nv = 0;
    for (int k = 1; k <= opt_m; k++) if (wr[k].ok) v[nv++] = wr[k].t_resp - wr[k].t_send;
    if (nv) { out("post_median_ms", "%.3f", pct(v, nv, 0.5)); out("post_p90_ms", "%.3f", pct(v, nv, 0.9)); }
    int post_ok = nv;
    nv = 0;
    for (int i = 0; i < opt_baseline; i++) if (base[i].ok) v[nv++] = base[i].t_resp - base[i].t_send;
    if (nv) { out("base_post_median_ms", "%.3f", pct(v, nv, 0.5)); out("base_post_p90_ms", "%.3f", pct(v, nv, 0.9)); }
    int base_ok = nv;
    nv = 0;
    if (opt_twin_port > 0)
        for (int k = 1; k <= opt_m; k++) if (twin[k].ok) v[nv++] = twin[k].t_resp - twin[k].t_send;
    if (nv) { out("twin_post_median_ms", "%.3f", pct(v, nv, 0.5)); out("twin_post_p90_ms", "%.3f", pct(v, nv, 0.9)); }
    out("twin_writes_ok", "%d", nv);
    nv = base_ok;
    out("writes", "%d", opt_m);
    out("pub_priority", "%s", opt_pub_fifo ? "fifo" : "normal");
    out("writes_ok", "%d", post_ok);
    out("base_writes_ok", "%d", nv);
    out("writes_incomplete", "%d", incomplete);
    out("events_expected", "%ld", expected_total);
    out("events_missing", "%ld", expected_total - received_total);
    out("events_duplicate", "%ld", dups);
    out("events_gaps", "%ld", gaps);
    out("events_wrong_type", "%ld", wrong_type);
    out("events_unknown", "%ld", unknown_marker);
    out("events_foreign", "%ld", foreign);
    out("groups", "%d", opt_groups);
    out("pings", "%ld", pings);
    out("pub_errors", "%d", pub_errors);
    out("pub_connections", "%d", pub_reconnects);
    say("done: %d writes, %d incomplete, %ld of %ld events missing", opt_m, incomplete, expected_total - received_total, expected_total);
    return 0;
}
