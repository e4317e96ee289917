-- wrk script: one consent per request, random v4 subject ids, alternating accept/refuse.
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local n = 0
local start_ms = os.time() * 1000
local hex = "0123456789abcdef"
local function h(k)
  local t = {}
  for i = 1, k do local r = math.random(1, 16); t[i] = hex:sub(r, r) end
  return table.concat(t)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local action = (n % 2 == 0) and "accept_all" or "reject_all"
  local subject
  if os.getenv("ASSENT_BENCH_SUBJECTS") == "v4" then
    subject = h(8) .. "-" .. h(4) .. "-4" .. h(3) .. "-a" .. h(3) .. "-" .. h(12)
  else
    -- UUIDv7 as the banner makes them: 48-bit millisecond time of the first visit, then
    -- random bits. Lua here has no millisecond clock: a counter stands in for the time, so
    -- subjects arrive in time order as new visitors do.
    local t = string.format("%012x", start_ms + math.floor(n / 8))
    subject = t:sub(1, 8) .. "-" .. t:sub(9, 12) .. "-7" .. h(3) .. "-a" .. h(3) .. "-" .. h(12)
  end
  local body = '{"subject":"' .. subject .. '","policy_version":1,"action":"' .. action .. '","language":"fr"}'
  return wrk.format(nil, "/v1/sites/" .. (os.getenv("SITE") or "callkom") .. "/consents", nil, body)
end
response = function(status, headers, body)
  if status ~= 201 then errors_seen = (errors_seen or 0) + 1 end
end
