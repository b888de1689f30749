-- The reader path under wrk (Debian's `wrk`, LuaJIT): what a page carrying the bar asks of
-- the origin, as distinct readers. Run as
--   wrk -t2 -c8 -d10s -s bench/wrk/reader_path.lua http://HOST:PORT -- SEQUENCE ARTICLES TAG
-- SEQUENCE is one of
--   page        a page view as widget.js makes it now: POST /api/v1/views (its answer is the bar)
--   page-2      a page view as widget.js made it before: GET …/reactions?reader_id=…, then POST
--               /api/v1/views (two requests per page view)
--   counts      GET …/reactions without a reader: the public, cacheable counts
--   counts-mine GET …/reactions?reader_id=…: one reader's bar
--   tap         POST /api/v1/reactions by a new reader
-- ARTICLES is a file of article ids, one per line; TAG keeps runs from sharing readers.
-- `done` prints one JSON line that bench/reader_path.py reads.

local sequence, articles, tag = "page", {}, "run"
local counter = 0
thread_no = 0  -- a global: setup() gives each thread its own number through thread:set
local kinds = { "like", "love", "angry", "sad", "wow" }
local threads = {}

function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  sequence = args[1] or sequence
  tag = args[3] or tag
  for line in io.lines(args[2]) do
    if #line > 0 then table.insert(articles, line) end
  end
end

local function escaped(text)
  return (text:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function get_counts(article, reader)
  local path = "/api/v1/articles/" .. escaped(article) .. "/reactions"
  if reader then path = path .. "?reader_id=" .. escaped(reader) end
  return wrk.format("GET", path)
end

-- widget.js sends its JSON as text/plain (a "simple" request: no CORS preflight)
local function post(path, body, content_type)
  return wrk.format("POST", path, { ["Content-Type"] = content_type or "application/json" }, body)
end

function request()
  counter = counter + 1
  -- a page view is one reader on one article; "page-2" spends two requests on it
  local view_no = sequence == "page-2" and math.floor((counter + 1) / 2) or counter
  local reader = string.format("wrk-%s-%d-%d", tag, thread_no, view_no)
  local article = articles[(view_no * 31 + thread_no) % #articles + 1]
  if sequence == "counts" then
    return get_counts(article, nil)
  elseif sequence == "counts-mine" then
    return get_counts(article, reader)
  elseif sequence == "tap" then
    local kind = kinds[counter % #kinds + 1]
    return post("/api/v1/reactions", string.format(
      '{"article_id":"%s","kind":"%s","reader_id":"%s"}', article, kind, reader))
  elseif sequence == "page-2" and counter % 2 == 1 then
    return get_counts(article, reader)
  end
  -- widget.js now sends text/plain; before, application/json (which older servers need)
  return post("/api/v1/views", string.format('{"article_id":"%s","reader_id":"%s"}', article,
    reader), sequence == "page" and "text/plain" or "application/json")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, ' ..
    '"socket_errors": %d, "bad_status": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
