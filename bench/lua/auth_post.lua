-- POST /todos as one of several users (bench/auth/run.sh): post.lua's body, each
-- request with a token drawn at random from TOKENS_FILE (one a line).
-- Args: TOKENS_FILE MODE
--   MODE bearer: `Authorization: Bearer <token>`; none: the same draw, no header.
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
      if mode ~= "none" then headers["Authorization"] = "Bearer " .. line end
      reqs[#reqs + 1] = wrk.format("POST", "/todos", headers, body)
    end
  end
  math.randomseed(os.time() + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
end

function request()
  return reqs[math.random(1, #reqs)]
end
