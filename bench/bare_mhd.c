/* A bare libmicrohttpd server: the ceiling the real server's request path is
 * measured against. Same daemon settings as BackboneSSE (Sources/CMicroHTTPD/shim.h):
 * epoll, internal polling thread pool of one thread per core, suspend/resume,
 * connection limit 16000. Every request gets the same 200-byte JSON.
 *
 * The response is queued on the second access-handler call, never the first:
 * libmicrohttpd 0.9.75 answers an "early" response (queued right after the headers)
 * with Connection: close, which would make every request pay a new TCP connection.
 *
 * With --hand-off, each request is answered the way BackboneSSE answers a write: its
 * connection is suspended, handed to one worker thread, and resumed from there (the
 * worker takes whatever has queued, as the store's writer takes a batch, but does no
 * work). The difference from the plain run is what suspending and resuming around a
 * commit costs, before any JSON or SQLite.
 *
 * Usage: bare_mhd PORT [--hand-off]   (runs until SIGINT/SIGTERM)
 * Build: gcc -O2 bare_mhd.c $(pkg-config --cflags --libs libmicrohttpd) -o bare_mhd
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct MHD_Response *fixed;
static int context_marker;
static int handed_off_marker;

/* --hand-off: suspended connections waiting for the worker to resume them. */
static int hand_off;
static struct MHD_Connection **waiting, **taken;
static size_t waiting_count;
static pthread_mutex_t waiting_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t waiting_signal = PTHREAD_COND_INITIALIZER;
enum { max_waiting = 16000 };  /* the connection limit */

static void *resume_worker(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&waiting_lock);
        while (waiting_count == 0) pthread_cond_wait(&waiting_signal, &waiting_lock);
        size_t n = waiting_count;
        memcpy(taken, waiting, n * sizeof *taken);
        waiting_count = 0;
        pthread_mutex_unlock(&waiting_lock);
        for (size_t i = 0; i < n; i++) MHD_resume_connection(taken[i]);
    }
    return NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data;
    if (*con_cls == NULL) {            /* first call: headers only; never answer here */
        *con_cls = &context_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {      /* drain a body, if any */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (hand_off && *con_cls != &handed_off_marker) {  /* answered once resumed */
        *con_cls = &handed_off_marker;
        MHD_suspend_connection(connection);
        pthread_mutex_lock(&waiting_lock);
        waiting[waiting_count++] = connection;
        if (waiting_count == 1) pthread_cond_signal(&waiting_signal);
        pthread_mutex_unlock(&waiting_lock);
        return MHD_YES;
    }
    return MHD_queue_response(connection, MHD_HTTP_OK, fixed);
}

int main(int argc, char **argv) {
    if (argc < 2 || (argc > 2 && strcmp(argv[2], "--hand-off") != 0)) {
        fprintf(stderr, "usage: %s PORT [--hand-off]\n", argv[0]);
        return 2;
    }
    hand_off = argc > 2;
    int port = atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "bare_mhd: bad port %s\n", argv[1]);
        return 2;
    }
    /* Room for the connection limit (the hard limit may be lower: take what there is). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    /* 200 bytes of JSON, exactly. */
    static char body[201];
    const char *head = "{\"id\":\"65f0a1b2c3d4e5f601234567\",\"_v\":1,\"title\":\"bare libmicrohttpd\","
                       "\"done\":false,\"priority\":2,\"created\":\"2024-03-12T10:00:00Z\",\"pad\":\"";
    size_t n = strlen(head);
    memcpy(body, head, n);
    while (n < 198) body[n++] = 'x';
    body[n++] = '"';
    body[n++] = '}';
    body[n] = 0;
    fixed = MHD_create_response_from_buffer(200, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(fixed, "Content-Type", "application/json");

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);   /* the pool threads inherit the mask */
    if (hand_off) {
        pthread_t worker;
        waiting = calloc(max_waiting, sizeof *waiting);
        taken = calloc(max_waiting, sizeof *taken);
        if (waiting == NULL || taken == NULL || pthread_create(&worker, NULL, resume_worker, NULL) != 0) {
            fprintf(stderr, "bare_mhd: cannot start the hand-off worker\n");
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);

    /* Loopback only, like the server's default --host 127.0.0.1. */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cores,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16000,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)4096,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare_mhd: cannot start on port %d\n", port);
        return 1;
    }
    fprintf(stderr, "bare_mhd: listening on 127.0.0.1:%d, %ld threads%s\n", port, cores,
            hand_off ? ", answers handed off" : "");
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(fixed);
    return 0;
}
