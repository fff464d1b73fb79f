-- wrk script for bench/feed/soak.sh: every request picks one of the paths given after "--" (cached packuments in both
-- forms, cached tarballs, names the upstream does not have), and the answers are counted by class at the end.
-- Every request sends the Accept-Encoding npm sends (minipass-fetch's "gzip,deflate"); pnpm and yarn ask for gzip too.
-- Without it, the 10 MB typescript packument would be sent uncompressed, which no package manager asks for.
local paths = {}
local abbreviated = "application/vnd.npm.install-v1+json"
local encoding = "gzip,deflate"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, a in ipairs(args) do paths[i] = a end
  ok, notmodified, notfound, servererror, other = 0, 0, 0, 0, 0
  math.randomseed(os.time() + #threads)
end

function request()
  local p = paths[math.random(#paths)]
  if p:sub(1, 2) == "A:" then
    return wrk.format("GET", p:sub(3), { ["Accept"] = abbreviated, ["Accept-Encoding"] = encoding })
  end
  if p:find("MISS") then
    p = p:gsub("MISS", tostring(math.random(1, 100000)))
  end
  return wrk.format("GET", p, { ["Accept-Encoding"] = encoding })
end

function response(status)
  if status == 200 then ok = ok + 1
  elseif status == 304 then notmodified = notmodified + 1
  elseif status == 404 then notfound = notfound + 1
  elseif status >= 500 then servererror = servererror + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t = { ok = 0, notmodified = 0, notfound = 0, servererror = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  io.write(string.format("answers 200=%d 304=%d 404=%d 5xx=%d other=%d\n", t.ok, t.notmodified, t.notfound, t.servererror, t.other))
end
