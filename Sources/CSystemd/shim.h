// libsystemd's sd_notify(3), loaded only under systemd (when NOTIFY_SOCKET is set).
//
// Linked in, libsystemd and what it pulls (libgcrypt, liblzma, libzstd, liblz4, libcap)
// cost every server about 1.2 MB of resident memory, systemd or not; so it is opened
// with dlopen the first time a notification is due, and a server started any other way
// never loads it. Called from the main thread only (start, SIGHUP, stop).
#ifndef CSYSTEMD_SHIM_H
#define CSYSTEMD_SHIM_H

#include <dlfcn.h>
#include <stdlib.h>

// 0: not under systemd (nothing sent); > 0: sent; < 0: libsystemd missing, or
// sd_notify's negative errno.
static inline int CSD_notify(const char *state) {
    static int (*notify)(int, const char *) = 0;
    static int opened = 0;
    if (getenv("NOTIFY_SOCKET") == 0) return 0;
    if (!opened) {
        opened = 1;
        void *library = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (library) notify = (int (*)(int, const char *))dlsym(library, "sd_notify");
    }
    return notify ? notify(0, state) : -1;
}

#endif
