rockspec_format = "3.0"
package = "robloxsocial"
version = "scm-1"
source = {
  url = "git+file:///dev/null",   -- replaced by the release process; `luarocks make` builds the checkout
}
description = {
  summary = "The Roblox social web APIs (friends, presence, contacts, private messages) for Lua 5.4",
  detailed = [[
A Lua 5.4 module with a C core on libcurl: every endpoint of the Roblox
friends, presence, groups (friends' roles), contacts and private-messages
APIs as client methods, exact 64-bit ids, CSRF handling, retries, batching
of long id lists and lazy iterators over paged results.  Ships a local
sandbox server (robloxsocial-sandbox) that stands in for the services in
tests.
]],
  license = "MIT",
  labels = { "roblox", "http", "api", "curl" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
  "luasocket >= 3.0",     -- the sandbox server and its launcher
}
-- By the library only: Debian keeps curl/curl.h in the multiarch include
-- directory, where LuaRocks does not look for headers; CMake's FindCURL
-- finds it there.
external_dependencies = {
  CURL = { library = "curl" },
  CRYPTO = { library = "crypto" },      -- OpenSSL's libcrypto: the fleet key's SHA-256
  HIREDIS = { library = "hiredis" },    -- shared_limits's Redis connection
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_C_FLAGS = "$(CFLAGS)",
    CMAKE_MODULE_LINKER_FLAGS = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LIBDIR = "$(LIBDIR)",
    LUADIR = "$(LUADIR)",
  },
  install = {
    bin = { ["robloxsocial-sandbox"] = "bin/robloxsocial-sandbox" },
  },
  -- Into the rock's directory (luarocks show robloxsocial): the recipes
  -- and examples.  The sandbox's README.md installs beside its modules.
  copy_directories = { "examples" },
}
