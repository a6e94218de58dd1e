#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
// hiredis 0.14 (Debian's libhiredis-dev). Included from the default search path, not
// through pkg-config: hiredis.pc's cflags carry -D_FILE_OFFSET_BITS=64, which SwiftPM
// drops with a "prohibited flag" warning on every build. The define changes nothing on
// 64-bit Linux (off_t is 64 bits already) and hiredis's structs hold no off_t.
// redisCommand and redisAppendCommand are variadic and not imported: Swift calls the
// Argv forms (Sources/RedisPubSub/RedisConnection.swift).
#include <hiredis/hiredis.h>

#endif
