-- Seeds TOTAL documents with client-chosen ids seed000000 .. seed<TOTAL-1>, by
-- PUT /todos/{id} over every connection wrk keeps open.
-- Args: TOTAL NTHREADS MARKER_DIR [TOKENS_FILE]
-- With TOKENS_FILE (one bearer token a line, bench/auth/creds.py), document i is PUT
-- with the token on line i % lines + 1, so its owner is that token's user.
-- Thread k of n creates the ids i with i % n == k. When all its PUTs are answered it
-- writes MARKER_DIR/seed-<k> ("<created> <errors>") and stops; run.sh waits for every
-- marker and then ends wrk with SIGINT (wrk otherwise runs its whole -d).
-- While its last PUTs are in flight, a connection with nothing left to create sends
-- GET /healthz (200); a create is 201, so any other status is a failed PUT.
-- wrk calls request() once on thread 0 before the run, to check the script, and
-- throws that request away (script_verify_request): the first call there does not
-- advance, or seed000000 would never be sent. Were it sent twice, the second PUT
-- answers 200 (replaced), which is not counted: the quota still completes.

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local total, nthreads, markers
local nexti, quota, answered, created, errors, finished = 0, 0, 0, 0, 0, false
local headers = { ["Content-Type"] = "application/json" }
local byline = nil -- with TOKENS_FILE: the headers of each of its lines
local filler
local verified = false

function init(args)
  total = tonumber(args[1])
  nthreads = tonumber(args[2])
  markers = args[3]
  nexti = tid
  quota = 0
  for i = tid, total - 1, nthreads do quota = quota + 1 end
  filler = wrk.format("GET", "/healthz")
  if args[4] then
    byline = {}
    for line in io.lines(args[4]) do
      if #line > 0 then
        byline[#byline + 1] = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. line }
      end
    end
  end
end

local pad = string.rep("abcdefghij", 12)

function request()
  if nexti < total then
    local i = nexti
    if tid == 0 and not verified then
      verified = true
    else
      nexti = nexti + nthreads
    end
    local body = string.format(
      '{"title":"seeded todo %06d %s","done":%s,"priority":%d}',
      i, pad, (i % 2 == 0) and "false" or "true", i % 5)
    local h = byline and byline[i % #byline + 1] or headers
    return wrk.format("PUT", string.format("/todos/seed%06d", i), h, body)
  end
  return filler
end

function response(status, hdrs, body)
  if status == 200 then return end          -- filler
  answered = answered + 1
  if status == 201 then created = created + 1 else errors = errors + 1 end
  if answered >= quota and not finished then
    finished = true
    local f = io.open(markers .. "/seed-" .. tid, "w")
    f:write(created .. " " .. errors .. "\n")
    f:close()
    wrk.thread:stop()
  end
end
