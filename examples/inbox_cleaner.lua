-- Recipe: an inbox cleaner.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" lua5.4 examples/inbox_cleaner.lua [YYYY-MM-DD]
-- Marks the messages from Roblox itself read, and archives every read
-- message older than the given day (default 2026-06-01).  Times are ISO
-- 8601 strings in UTC, so comparing them as strings compares the times.
local robloxsocial = require "robloxsocial"

local cutoff = (arg[1] or "2026-06-01") .. "T00:00:00.000Z"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
}

-- Collect the ids first: archiving while paging by page number would
-- shift the later pages of the inbox.
local system, old = {}, {}
local ok, err = pcall(function()
  for m in client:each_message{ tab = "Inbox" } do
    if m.isSystemMessage and not m.isRead then system[#system + 1] = m.id end
    if (m.isRead or m.isSystemMessage) and m.created < cutoff then old[#old + 1] = m.id end
  end
end)
if not ok then
  io.stderr:write("could not read the inbox: ", tostring(err), "\n")
  os.exit(1)
end

-- A batch method sends 20 ids at a time.  It answers { failedMessages }
-- (an empty list when every id was done); when a batch fails it returns
-- nil and an error whose `done` counts the ids handled before it and
-- whose `partial` holds their merged answer.
local function run(what, method, ids)
  local answer, batch_err = method(client, ids)
  if not answer then
    io.stderr:write(("%s: %d of %d done, then %s\n"):format(what, batch_err.done or 0, #ids, tostring(batch_err)))
    os.exit(1)
  end
  for _, f in ipairs(answer.failedMessages) do
    io.stderr:write(("%s: message %d: %s\n"):format(what, f.messageId, f.errorMessage))
  end
  print(("%s: %d of %d"):format(what, #ids - #answer.failedMessages, #ids))
end

run("marked read", client.mark_messages_read, system)
run("archived", client.archive_messages, old)

local unread, unread_err = client:unread_messages_count()
if not unread then
  io.stderr:write(tostring(unread_err), "\n")
  os.exit(1)
end
print(("%d unread left in the inbox"):format(unread.count))
