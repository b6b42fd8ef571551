-- The answer models (lua/robloxsocial/models.lua) against the sandbox:
-- every endpoint's answer, and every item of every iterator, has exactly
-- the fields of its model, of the model's types.  With the README's
-- "What is in an answer" and types.lua generated from the same table, the
-- models, the sandbox and the documentation cannot drift apart.

local robloxsocial = require "robloxsocial"
local models = require "robloxsocial.models"
local support = require "spec.support"

local null = robloxsocial.null
local sb, ME = support.main()
local SIDEKICK = 4398046511104
local UNKNOWN = 99999999999
local CONTACT = "c-1001"
local TOKEN, TOKEN_SENDER = "ft-alpha-0001", 7000000065

local client

before_each(function() client = support.fresh_client() end)

after_each(function() client:close() end)

local function first_request_id()
  return assert(client:friend_requests()).data[1].id
end

local function friend_ids()
  local ids = {}
  for i, f in ipairs(assert(client:friends(ME)).data) do ids[i] = f.id end
  return ids
end

local function message_ids(tab)
  local ids = {}
  for i, m in ipairs(assert(client:messages{ tab = tab }).collection) do ids[i] = m.id end
  return ids
end

-- One or more calls of each method that succeed; each answer is checked.
-- A call is a function of no arguments returning the answer, err.
local CALLS = {
  request_contact_friendship = { function() return client:request_contact_friendship(CONTACT) end },
  friends_metadata = { function() return client:friends_metadata() end,
                       function() return client:friends_metadata(SIDEKICK) end },
  my_friends_count = { function() return client:my_friends_count() end },
  refresh_qr_session = { function() return client:refresh_qr_session() end },
  friend_requests = { function() return client:friend_requests{ limit = 100 } end,
                      function() return client:friend_requests{ limit = 10, sort = 0 } end },
  check_qr_session = { function() return client:check_qr_session(ME) end },
  clear_new_friend_requests = { function() return client:clear_new_friend_requests() end },
  new_friend_requests_count = { function() return client:new_friend_requests_count() end },
  friend_requests_count = { function() return client:friend_requests_count() end },
  decline_all_friend_requests = { function() return client:decline_all_friend_requests() end },
  multiget_are_friends = { function() return client:multiget_are_friends(ME, { SIDEKICK, friend_ids()[1] }) end },
  accept_friend_request = { function() return client:accept_friend_request(first_request_id()) end },
  decline_friend_request = { function() return client:decline_friend_request(first_request_id()) end },
  accept_friend_request_with_token = { function() return client:accept_friend_request_with_token(TOKEN_SENDER, TOKEN) end },
  request_friendship = { function() return client:request_friendship(SIDEKICK, { nickname = "Side" }) end },
  unfriend = { function() return client:unfriend(friend_ids()[1]) end },
  friends = { function() return client:friends(ME) end,
              function() return client:friends(ME, { sort = "StatusFrequents" }) end,
              function() return client:friends(SIDEKICK) end },
  friends_count = { function() return client:friends_count(ME) end },
  find_friends = { function() return client:find_friends(ME) end,
                   function() return client:find_friends(ME, { limit = 50, sort = 1 }) end },
  inactive_friends = { function() return client:inactive_friends(ME) end },
  online_friends = { function() return client:online_friends(ME) end },
  search_friends = { function() return client:search_friends(ME, "bob") end,
                     function() return client:search_friends(ME, "zzzz") end },
  friend_statuses = { function() return client:friend_statuses(ME, { SIDEKICK, friend_ids()[1], first_request_id() }) end },
  presence = { function()
    local ids = friend_ids()
    ids[#ids + 1], ids[#ids + 2] = ME, UNKNOWN
    return client:presence(ids)
  end },
  friends_group_roles = { function() return client:friends_group_roles(ME) end },
  validate_tag = { function() return client:validate_tag("Cousin") end,
                   function() return client:validate_tag(("x"):rep(101)) end,
                   function() return client:validate_tag("badword") end },
  user_tags = { function() return client:user_tags(friend_ids()) end },
  set_user_tag = { function() return client:set_user_tag(SIDEKICK, "Sidekick") end,
                   function() return client:set_user_tag(SIDEKICK, "badword") end },
  announcements = { function() return client:announcements() end },
  announcements_metadata = { function() return client:announcements_metadata() end },
  messages = { function() return client:messages() end,
               function() return client:messages{ tab = "Sent" } end,
               function() return client:messages{ tab = "Archive" } end },
  message = { function() return client:message(message_ids("Inbox")[1]) end,
              function() return client:message(message_ids("Sent")[1]) end },
  unread_messages_count = { function() return client:unread_messages_count() end },
  archive_messages = { function() return client:archive_messages{ message_ids("Inbox")[1], 12345 } end },
  unarchive_messages = { function() return client:unarchive_messages(message_ids("Archive")) end },
  mark_messages_read = { function() return client:mark_messages_read{ message_ids("Inbox")[2], message_ids("Sent")[1] } end },
  mark_messages_unread = { function() return client:mark_messages_unread(message_ids("Inbox")) end },
}

-- Every field is checked, those the services added after the API
-- documents (models.lua's `since`) included: the sandbox sends them all.
local function fits(answer, model, where)
  assert.same({}, models.check(answer, model, where))
end

describe("the answer models", function()
  it("name a model for every method of the client, and every model is used", function()
    local missing, used = {}, {}
    local function use(t)
      local base = models.parse_type(t)
      if used[base] or not models.by_name[base] then return end
      used[base] = true
      for _, f in ipairs(models.by_name[base].fields) do use(f[2]) end
    end
    for _, row in ipairs(robloxsocial.endpoints) do
      if not models.answers[row.name] then missing[#missing + 1] = row.name else use(models.answers[row.name]) end
      if not CALLS[row.name] then missing[#missing + 1] = "a call of " .. row.name end
    end
    assert.same({}, missing)
    assert.equal(37, #robloxsocial.endpoints)
    local unused = {}
    for _, c in ipairs(models.classes) do
      if not used[c[1]] then unused[#unused + 1] = c[1] end
    end
    assert.same({}, unused)
  end)

  it("find what does not fit: a missing field, an extra one, a wrong type, a null, a value", function()
    local item = { id = 1, hasVerifiedBadge = false }
    assert.same({}, models.check(item, "FriendItem"))
    assert.same({ "answer.hasVerifiedBadge: missing" }, models.check({ id = 1 }, "FriendItem"))
    assert.same({ "answer.name: not in the model FriendItem" },
                models.check({ id = 1, hasVerifiedBadge = true, name = "x" }, "FriendItem"))
    assert.same({ "answer.id: integer expected, got float" }, models.check({ id = 1.5, hasVerifiedBadge = true }, "FriendItem"))
    assert.same({ "answer.id: null, but the model says integer" },
                models.check({ id = null, hasVerifiedBadge = true }, "FriendItem"))
    assert.same({ "answer[2]: FriendItem (an object) expected, got string" }, models.check({ item, "x" }, "FriendItem[]"))
    assert.same({ "answer.status: Maybe is not one of its values" }, models.check({ status = "Maybe" }, "TagSet"))
    assert.same({}, models.check({ targetUserId = 5, targetUserTag = null }, "UserTag"))
  end)

  it("let an optional field be absent, and take any object for the type object", function()
    local role = { id = 1, name = "Member", rank = 1, color = 0 }
    assert.same({}, models.check(role, "GroupRole"))
    role.isBase = true
    assert.same({}, models.check(role, "GroupRole"))
    role.isBase = 1
    assert.same({ "answer.isBase: boolean expected, got integer" }, models.check(role, "GroupRole"))
    role.isBase, role.color = nil, 17
    assert.same({ "answer.color: 17 is not one of its values" }, models.check(role, "GroupRole"))
    local owner = { buildersClubMembershipType = 0, hasVerifiedBadge = false, userId = 2, username = "a",
                    displayName = "a" }
    local group = { id = 7, name = "g", description = "", owner = owner, shout = null, memberCount = 1,
                    isBuildersClubOnly = false, publicEntryAllowed = true, isLocked = null,
                    hasVerifiedBadge = false, hasSocialModules = true }
    assert.same({}, models.check(group, "Group"))
    group.communityTier = { currentTier = 3 }
    assert.same({}, models.check(group, "Group"))
    group.communityTier = "3"
    assert.same({ "answer.communityTier: object expected, got string" }, models.check(group, "Group"))
  end)
end)

describe("every sandbox answer fits the model of its endpoint", function()
  for _, row in ipairs(robloxsocial.endpoints) do
    it(row.name .. "() answers " .. tostring(models.answers[row.name]), function()
      assert.is_table(CALLS[row.name], "no call of " .. row.name)
      for i, call in ipairs(CALLS[row.name]) do
        local answer, err = call()
        assert.is_nil(err)
        fits(answer, models.answers[row.name], ("%s#%d"):format(row.name, i))
      end
    end)
  end

  it("and so does every item of every iterator", function()
    local iterators = {
      each_friend = { client.each_friend, ME, { limit = 50 } },
      each_friend_search = { client.each_friend_search, ME, "bob" },
      each_friend_request = { client.each_friend_request, { limit = 10 } },
      each_message = { client.each_message, { tab = "Inbox" } },
    }
    local checked = 0
    for _, row in ipairs(robloxsocial.endpoints) do
      if row.paging then
        local spec = assert(iterators[row.paging.iterator], row.paging.iterator)
        local model = models.item_type(row.name, row.paging.items)
        local n = 0
        for item in spec[1](client, table.unpack(spec, 2)) do
          n = n + 1
          fits(item, model, ("%s[%d]"):format(row.paging.iterator, n))
        end
        assert.is_true(n > 10, row.paging.iterator)
        checked = checked + 1
      end
    end
    assert.equal(4, checked)
  end)

  it("and the models cover the nullable and optional parts too", function()
    -- a group with a shout and an owner, one without a shout; a primary group
    -- a communityTier that is an object, one null and one left out; a base role
    local roles = assert(client:friends_group_roles(ME)).data
    local seen = {}
    for _, entry in ipairs(roles) do
      for _, m in ipairs(entry.groups) do
        seen[m.group.shout == null and "no shout" or "shout"] = true
        if m.isPrimaryGroup == true then seen.primary = true end
        if m.role.color ~= 0 then seen.colored = true end
        if m.role.isBase == true then seen.base = true end
        local tier = m.group.communityTier
        seen[tier == nil and "no tier" or tier == null and "null tier" or "tier"] = true
      end
    end
    assert.same({ shout = true, ["no shout"] = true, primary = true, colored = true, base = true,
                  tier = true, ["null tier"] = true, ["no tier"] = true }, seen)
    -- a game presence with every id set, and an unknown user's, all null
    local p = assert(client:presence{ UNKNOWN }).userPresences[1]
    assert.same({ null, null, null, null }, { p.placeId, p.rootPlaceId, p.gameId, p.universeId })
  end)
end)

describe("README.md's \"What is in an answer\"", function()
  local gen = dofile("scripts/gen_models.lua")

  it("is exactly what scripts/gen_models.lua makes of models.lua", function()
    local f = assert(io.open("README.md"))
    local readme = f:read("a")
    f:close()
    local first = readme:find(gen.BEGIN, 1, true)
    local _, last = readme:find(gen.END, 1, true)
    assert.is_number(first, "README.md has no models block")
    assert.equal(gen.render(), readme:sub(first, last))
  end)
end)
