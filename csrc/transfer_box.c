/*
 * transfer_box.c: where the loop's transfers come from.  The loop keeps
 * those let go of for the next ones (a free list): a task's own transfer
 * and the transfer of a core.start come from it and go back to it.  Lua
 * holds the latter in a userdata that only boxes its pointer, as luv
 * does with handles; the box's __gc (loop_lua.c) releases it and gives it
 * back.
 */
#include <stdlib.h>
#include <string.h>

#include "loop.h"

/* Transfers kept on the free list at most (about 330 bytes each). */
#define RS_FREE_TRANSFERS 256

rs_transfer *rs_loop_take_transfer(rs_loop *lp)
{
    rs_transfer *t = lp->free_head;
    if (t) {
        lp->free_head = t->next_free;
        lp->free_count--;
    } else if ((t = malloc(sizeof *t)) == NULL)
        return NULL;
    memset(t, 0, sizeof *t);
    t->ref = LUA_NOREF;
    t->state = RS_T_SPENT;
    return t;
}

void rs_loop_give_transfer(rs_loop *lp, rs_transfer *t)
{
    /* once the loop is released (the state closing) nothing is kept */
    if (lp == NULL || lp->multi == NULL || lp->free_count >= RS_FREE_TRANSFERS) {
        free(t);
        return;
    }
    t->next_free = lp->free_head;
    lp->free_head = t;
    lp->free_count++;
}

rs_transfer *rs_loop_new_transfer(lua_State *L, rs_loop *lp, int mt)
{
    rs_transfer **box;
    mt = lua_absindex(L, mt);
    box = lua_newuserdatauv(L, sizeof *box, 1);
    *box = NULL;                /* its __gc then has nothing to let go of */
    lua_pushvalue(L, mt);
    lua_setmetatable(L, -2);
    lp->transfers++;
    *box = rs_loop_take_transfer(lp);
    if (*box == NULL)
        luaL_error(L, "robloxsocial: not enough memory");
    return *box;
}

rs_transfer *rs_loop_check_transfer(lua_State *L, int idx)
{
    rs_transfer *t = *(rs_transfer **)luaL_checkudata(L, idx, RS_TRANSFER_MT);
    luaL_argcheck(L, t != NULL, idx, "a transfer expected");     /* its making failed */
    return t;
}

void rs_loop_free_kept(rs_loop *lp)
{
    while (lp->free_head) {
        rs_transfer *t = lp->free_head;
        lp->free_head = t->next_free;
        free(t);
    }
    lp->free_count = 0;
}
