-- GET /todos?where={"created":{"$gte":A,"$lt":B}}&limit=20 with a window [A, B) drawn at
-- random for each request, so that no answer comes from the server's list cache.
-- The documents of bench/curves/make_docs.py are one second apart from 2026-01-01, so a
-- window of W seconds holds W documents: 20 are sent, X-Total-Count counts W.
-- Args: N [W] (documents seeded, window; W defaults to 100)
local n, w = 100000, 100
local base = 1767225600 -- 2026-01-01T00:00:00Z
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  if args[1] then n = tonumber(args[1]) end
  if args[2] then w = tonumber(args[2]) end
  math.randomseed(os.time() + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
end
local function stamp(t) -- the URL-encoded "YYYY-MM-DDTHH:MM:SS.000Z"
  return (os.date("!%Y-%m-%dT%H%%3A%M%%3A%S.000Z", t))
end
function request()
  local k = math.random(0, math.max(n - w, 0))
  return wrk.format("GET", "/todos?where=%7B%22created%22%3A%7B%22%24gte%22%3A%22" .. stamp(base + k) ..
    "%22%2C%22%24lt%22%3A%22" .. stamp(base + k + w) .. "%22%7D%7D&limit=20")
end
