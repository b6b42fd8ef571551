/*
 * hooks.h: calling a client's hooks for a finished transfer.
 */
#ifndef RS_HOOKS_H
#define RS_HOOKS_H

#include "transfer.h"

/* The hooks of t's client (the table at stack index hooks, or none when
 * 0), called after the exchange is over, outside libcurl.  Leaves the
 * first error a hook raised (or a memory error) on the stack and returns
 * 1, or returns 0. */
int rs_hooks_call(lua_State *L, const rs_transfer *t, int hooks);

#endif
