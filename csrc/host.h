/*
 * host.h: what a host's own event loop sees of the library (README
 * "Inside a host's event loop"): core.pollfd and core.strict.
 */
#ifndef RS_HOST_H
#define RS_HOST_H

#include "loop.h"

/* Raises when strict mode is on: what (a call outside a task, a sleep, a
 * wait) would block the host's loop.  Call it before anything is sent. */
void rs_host_check_strict(lua_State *L, rs_loop *lp, const char *what);

/* Adds pollfd, strict and check_strict to the module table on top. */
void rs_host_open(lua_State *L);

#endif
