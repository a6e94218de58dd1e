#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H
// Why this shim exists: libmicrohttpd's start and info calls are variadic and Swift
// does not import variadic C functions; its logger takes a va_list. These static
// inline wrappers give Swift fixed signatures. Every symbol is prefixed CMHD_.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Receives libmicrohttpd's error messages, already formatted.
typedef void (*CMHD_LogSink)(void *cls, const char *message);

typedef void *(*CMHD_URILogCallback)(void *cls, const char *uri, struct MHD_Connection *connection);

/// Everything the daemon is started with, filled in by Swift.
typedef struct CMHD_Config {
    unsigned int flags;
    const char *host;            // numeric IPv4 or IPv6 address
    uint16_t port;               // 0: an ephemeral port
    unsigned int threads;        // MHD_OPTION_THREAD_POOL_SIZE
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit;  // connections from one address; 0: no cap
    unsigned int connection_timeout;  // seconds an idle connection is kept
    size_t connection_memory_limit;   // per-connection pool (headers, buffers)
    unsigned int listen_backlog;
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_AcceptPolicyCallback accept_policy;  // NULL: every connection accepted
    void *accept_policy_cls;
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
    CMHD_URILogCallback uri_log;
    void *uri_log_cls;
    MHD_NotifyConnectionCallback notify_connection;  // NULL: not called
    void *notify_connection_cls;
    CMHD_LogSink log_sink;
    void *log_cls;
} CMHD_Config;

typedef struct CMHD_LogTarget {
    CMHD_LogSink sink;
    void *cls;
} CMHD_LogTarget;

static void CMHD_format_log(void *cls, const char *fmt, va_list ap) {
    CMHD_LogTarget *target = (CMHD_LogTarget *)cls;
    char buffer[512];
    vsnprintf(buffer, sizeof buffer, fmt, ap);
    size_t n = strlen(buffer);
    while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == '\r')) buffer[--n] = 0;
    if (target && target->sink) target->sink(target->cls, buffer);
}

/// Starts a daemon; `log_target` must outlive it. Returns NULL on failure
/// (bad address, port taken: the reason goes to the log sink).
static inline struct MHD_Daemon *CMHD_start(const CMHD_Config *c, CMHD_LogTarget *log_target) {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    const struct sockaddr *addr = NULL;
    unsigned int flags = c->flags;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, c->host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(c->port);
        addr = (const struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, c->host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(c->port);
        addr = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        return NULL;
    }
    log_target->sink = c->log_sink;
    log_target->cls = c->log_cls;
    // The logger comes first so that errors in the options after it reach it.
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)CMHD_format_log, log_target},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)addr},
        {MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, c->connection_limit, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip_connection_limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, c->connection_timeout, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)c->connection_memory_limit, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, c->listen_backlog, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)c->completed, c->completed_cls},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)c->uri_log, c->uri_log_cls},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (c->notify_connection) {
        size_t end = sizeof options / sizeof options[0] - 2;
        options[end] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)c->notify_connection,
                                               c->notify_connection_cls};
    }
    return MHD_start_daemon(flags, c->port, c->accept_policy, c->accept_policy_cls, c->handler, c->handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// The port the daemon listens on (the ephemeral one when started with port 0).
static inline uint16_t CMHD_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

/// The socket of a connection, for the dead-client sweep of suspended streams.
static inline int CMHD_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

/// The pointer the connection-notify callback stored for this connection's socket.
static inline void *CMHD_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/// An address as text (IPv4 or IPv6) into `out`; empty when it is neither.
static inline void CMHD_format_address(const struct sockaddr *address, char *out, socklen_t size) {
    out[0] = 0;
    if (!address) return;
    if (address->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)address)->sin_addr, out, size);
    } else if (address->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)address)->sin6_addr, out, size);
    }
}

/// The client's address as text (IPv4 or IPv6) into `out`, for per-address rate
/// limits; empty when unknown.
static inline void CMHD_client_address(struct MHD_Connection *connection, char *out, socklen_t size) {
    out[0] = 0;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info) CMHD_format_address(info->client_addr, out, size);
}

#endif
