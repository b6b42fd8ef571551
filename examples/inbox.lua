-- Archives every read message of the inbox; archive_messages() sends the
-- ids 20 at a time, as the service requires.
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),
}

local read = {}
for message in client:each_message{ tab = "Inbox" } do
  if message.isRead then read[#read + 1] = message.id end
end

local answer, err = client:archive_messages(read)
if not answer then
  -- err.done says how many ids were archived before the failure.
  io.stderr:write(("archived %d of %d, then: %s\n"):format(err.done, #read, tostring(err)))
  os.exit(1)
end
print(("archived %d read messages (%d failed); %d unread remain in the inbox"):format(
  #read - #answer.failedMessages, #answer.failedMessages,
  assert(client:messages{ tab = "Inbox" }).totalCollectionSize))
