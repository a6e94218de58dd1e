// Linux's event interfaces, which Glibc's Swift module leaves out: epoll(7) and
// eventfd(2), for the loop that watches streams taken over from libmicrohttpd
// (HTTPServer/StreamSocketLoop.swift), and send(2)'s Linux flags.
#ifndef CLINUXEVENTS_SHIM_H
#define CLINUXEVENTS_SHIM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// send(2) flags as plain constants: glibc declares them in an enum that Swift's
// importer does not always surface.
static const int CLE_MSG_NOSIGNAL = MSG_NOSIGNAL;
static const int CLE_MSG_DONTWAIT = MSG_DONTWAIT;

#endif
