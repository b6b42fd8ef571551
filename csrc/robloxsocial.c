/*
 * robloxsocial.c: the entry point of robloxsocial.core.  It only builds the
 * module table and lets each part register itself.
 */
#define _GNU_SOURCE             /* dladdr */
#include <dlfcn.h>
#include <pthread.h>

#include <curl/curl.h>

#include "rs.h"
#include "host.h"
#include "sched.h"

#if defined(__GNUC__)
#define RS_EXPORT __attribute__((visibility("default")))
#else
#define RS_EXPORT
#endif

RS_EXPORT int luaopen_robloxsocial_core(lua_State *L);

/* curl_global_init is not thread-safe before libcurl 7.84 and must run
 * once per process, even when states on several threads open the module at
 * the same moment: pthread_once runs it once and makes the others wait for
 * it.  It is never undone, because another Lua state in the same process
 * may still be using libcurl. */
static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;
static CURLcode global_init_rc = CURLE_FAILED_INIT;

/* Keeps this module, and libcurl with it, loaded for the life of the
 * process.  Lua unloads C modules when a state closes; unloading libcurl
 * after curl_global_init (and while a resolver thread may still be
 * finishing) is unsafe, and another state may load us again.  Failing to
 * pin is harmless: the module works the same. */
static void pin_module(void)
{
    Dl_info self;
    if (dladdr(&global_init_rc, &self) && self.dli_fname != NULL)
        (void)dlopen(self.dli_fname, RTLD_NOW | RTLD_NODELETE);
}

static void global_init(void)
{
    global_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (global_init_rc == CURLE_OK)
        pin_module();
}

int luaopen_robloxsocial_core(lua_State *L)
{
    if (pthread_once(&global_init_once, global_init) != 0 || global_init_rc != CURLE_OK)
        return luaL_error(L, "robloxsocial: libcurl initialisation failed: %s",
                          curl_easy_strerror(global_init_rc));
    lua_newtable(L);
    lua_pushliteral(L, RS_VERSION);
    lua_setfield(L, -2, "VERSION");
    lua_pushstring(L, curl_version());
    lua_setfield(L, -2, "curl_version");
    rs_json_open(L);
    rs_ids_open(L);
    rs_error_open(L);
    rs_loop_open(L);
    rs_sched_open(L);
    rs_host_open(L);
    rs_client_open(L);
    rs_testing_open(L);
    return 1;
}
