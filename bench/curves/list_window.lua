-- GET /todos?where={"created":{"$gte":A,"$lt":A+W s}}&limit=20 with A drawn at random,
-- to the millisecond, for each request, so that no answer comes from the server's list
-- cache (even with 10,000 documents there are millions of windows). The documents of
-- bench/curves/make_docs.py are one second apart from 2026-01-01T00:00:00.000Z, so a
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
local function stamp(t, ms) -- the URL-encoded "YYYY-MM-DDTHH:MM:SS.mmmZ"
  return os.date("!%Y-%m-%dT%H%%3A%M%%3A%S", t) .. string.format(".%03dZ", ms)
end
function request()
  local k = math.random(0, math.max(n - w - 1, 0))
  local ms = math.random(0, 999)
  return wrk.format("GET", "/todos?where=%7B%22created%22%3A%7B%22%24gte%22%3A%22" .. stamp(base + k, ms) ..
    "%22%2C%22%24lt%22%3A%22" .. stamp(base + k + w, ms) .. "%22%7D%7D&limit=20")
end
