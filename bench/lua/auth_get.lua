-- GET /todos/{id} as one of several users (bench/auth/run.sh): each request draws a
-- user u, then one of u's documents at random. Seeded document i (seed%06d, seed.lua
-- with a tokens file) is owned by user i % USERS, and line j of TOKENS_FILE is user
-- j % USERS's token.
-- Args: N TOKENS_FILE MODE USERS NTHREADS
--   MODE bearer: a token of u drawn from the file, as `Authorization: Bearer`;
--        none:   the same draws, no header (the server without an auth block);
--        cycle:  each request the thread's next token in the file (thread t of
--                NTHREADS takes lines t, t + NTHREADS, ...), u its user: with more
--                distinct tokens than the server caches, each is verified anew.
-- wrk's Lua has no notion of connections: the tokens go to requests, not connections
-- (the server's cache is by token, whichever connection brings it).
local n, mode, users, nthreads = 100000, "bearer", 16, 1
local tokens = {}
local byuser = {} -- user -> list of token indexes
local nexttok

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  n = tonumber(args[1])
  mode = args[3] or "bearer"
  users = tonumber(args[4] or "16")
  nthreads = tonumber(args[5] or "1")
  for line in io.lines(args[2]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  for j = 1, #tokens do
    local u = (j - 1) % users
    byuser[u] = byuser[u] or {}
    table.insert(byuser[u], j)
  end
  nexttok = (tid or 0) + 1
  math.randomseed(os.time() + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
end

local function doc_of(u)
  -- ids u, u + users, u + 2 users, ... below n
  local count = math.floor((n - 1 - u) / users) + 1
  return u + users * math.random(0, count - 1)
end

function request()
  local u, j
  if mode == "cycle" then
    j = nexttok
    nexttok = nexttok + nthreads
    if nexttok > #tokens then nexttok = (tid or 0) + 1 end
    u = (j - 1) % users
  else
    u = math.random(0, users - 1)
    local list = byuser[u]
    j = list[math.random(1, #list)]
  end
  local path = string.format("/todos/seed%06d", doc_of(u))
  if mode == "none" then return wrk.format("GET", path) end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[j] })
end
