"""Redis keys and scripts shared by the coordinator and the workers for one Celery stage of a run (a "batch":
the units of one ``runner.map`` call).

    geode:batch:<id>:state      open | cancelled | closed: a worker skips units of a batch that is not open
    geode:batch:<id>:results    a list: each finished unit's outcome, pushed by its worker, read by the coordinator
    geode:batch:<id>:taken      outcomes the coordinator took but has not yet written to the run history: a
                                coordinator killed in between leaves them for `geode runs resume` to collect
    geode:batch:<id>:finished   a set of unit indices with an outcome: a late duplicate of one of them is skipped
    geode:batch:<id>:running    a hash: Celery task id -> "<unit> <worker> <pid>", while the unit runs
    geode:lease:<task id>       the holder's lease: refreshed every few seconds, expires [jobs] lease_timeout after
                                the holder stopped (a vanished host); the coordinator then sends the unit again
    geode:deliveries:<task id>  how often Celery delivered this message (a unit that kills every worker stops)

Each side touches them in one round trip per step (Lua scripts), so the bookkeeping costs two round trips per
unit on the worker, about what Celery's own result backend would have cost.
"""

from __future__ import annotations

from .settings import KEY_PREFIX

BATCH_HEADER = "geode_batch"  # message headers: the batch id, the unit's index in it and its run-history key
UNIT_HEADER = "geode_unit"
KEY_HEADER = "geode_key"


def batch_key(batch: str, what: str) -> str:
    return f"{KEY_PREFIX}batch:{batch}:{what}"


LEASE_PREFIX = f"{KEY_PREFIX}lease:"


def lease_key(task_id: str) -> str:
    return f"{LEASE_PREFIX}{task_id}"


def delivery_key(task_id: str) -> str:
    return f"{KEY_PREFIX}deliveries:{task_id}"


# KEYS: deliveries, state, finished, running, lease   ARGV: task id, unit, holder, lease ttl, key ttl
START = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local state = redis.call('GET', KEYS[2])
if state == 'cancelled' or state == 'closed' then return {n, 'closed'} end
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then return {n, 'finished'} end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[4], ARGV[5])
redis.call('SET', KEYS[5], ARGV[3], 'EX', ARGV[4])
return {n, 'run'}
"""

# KEYS: results, finished, running, lease   ARGV: outcome, unit, task id, key ttl
FINISH = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('DEL', KEYS[4])
return 1
"""

# KEYS: lease, running, finished   ARGV: task id, holder, lease ttl, key ttl, unit
# (re-registers after a broker restart; never after the unit finished)
BEAT = """
if redis.call('SISMEMBER', KEYS[3], ARGV[5]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

# KEYS: running   ARGV: lease key prefix  -> [task id, holder, ...] of holders whose lease expired.
# Atomic with FINISH (which drops the entry and the lease together), so a unit that just finished is never
# taken for one whose holder vanished.
EXPIRED = """
local out = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if redis.call('EXISTS', ARGV[1] .. entries[i]) == 0 then
    out[#out + 1] = entries[i]
    out[#out + 1] = entries[i + 1]
  end
end
return out
"""


# KEYS: results, taken   ARGV: how many, key ttl  -> the outcomes moved (oldest first)
TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return items
"""


def key_ttl(settings) -> int:
    """How long batch keys live: past the visibility timeout, so a copy Redis redelivers late is still skipped."""
    from .settings import visibility_timeout

    return visibility_timeout(settings) * 2
