-- POST /todos as one of several users (bench/auth/run.sh): post.lua's body, each
-- request with a token drawn at random from TOKENS_FILE (one a line).
-- Args: TOKENS_FILE MODE
--   MODE bearer: `Authorization: Bearer <token>`; none: the same draw, no header;
--        owner: no header, and the body names the owner the server with auth would set
--        (line j's user, bench-user-<j-1>: creds.py's tokens of as many users as lines),
--        so that a server without auth stores the same documents.
-- The requests are formatted once, in init: a request costs wrk the same either way.
local body = '{"title":"posted by wrk: a todo of typical size, with a title long enough to make the stored document about three hundred bytes","done":false,"priority":3}'
local reqs = {}

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  local mode = args[2] or "bearer"
  for line in io.lines(args[1]) do
    if #line > 0 then
      local headers = { ["Content-Type"] = "application/json" }
      local b = body
      if mode == "bearer" then headers["Authorization"] = "Bearer " .. line end
      if mode == "owner" then b = body:sub(1, -2) .. string.format(',"owner":"bench-user-%d"}', #reqs) end
      reqs[#reqs + 1] = wrk.format("POST", "/todos", headers, b)
    end
  end
  math.randomseed(os.time() + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
end

function request()
  return reqs[math.random(1, #reqs)]
end
