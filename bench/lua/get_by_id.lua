-- GET /todos/{id} for ids drawn at random from the seeded set seed000000 .. seed<N-1>.
-- Args: N
local n = 100000
function init(args)
  if args[1] then n = tonumber(args[1]) end
  math.randomseed(os.time() + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
end
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function request()
  return wrk.format("GET", string.format("/todos/seed%06d", math.random(0, n - 1)))
end
