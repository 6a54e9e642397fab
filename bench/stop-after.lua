-- stop-after.lua: a wrk script for a fixed number of requests (wrk only
-- knows durations). Each wrk thread stops after BENCH_PER_THREAD
-- responses and then creates the file BENCH_DONE_DIR/<thread number>;
-- bench/run.sh waits for one file per thread and then ends wrk with
-- SIGINT (wrk's main thread would otherwise sleep the whole -d).
local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end

local limit = tonumber(os.getenv("BENCH_PER_THREAD"))
local n = 0

function response(status, headers, body)
	n = n + 1
	if n == limit then
		local f = io.open(os.getenv("BENCH_DONE_DIR") .. "/" .. id, "w")
		f:close()
		wrk.thread:stop()
	end
end
