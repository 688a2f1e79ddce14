"""A deliberately plain reference for `tracelab show --query`: Honeycomb's
Query Specification over OTLP/JSON lines, written from the definitions in
src/query/mod.rs's header, with none of its code. It reads every event into
a dict and recomputes everything per group, so it is slow and obvious.

Usage: python3 query_reference.py SPANS.jsonl SPEC.json  ->  {"results": [...]}
"""

import functools
import json
import math
import sys

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
PERCENTILES = {"P001": 0.1, "P01": 1, "P05": 5, "P10": 10, "P20": 20, "P25": 25,
               "P50": 50, "P75": 75, "P90": 90, "P95": 95, "P99": 99, "P999": 99.9}
BUCKETS = 20


def any_value(v):
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    return None


def attributes(pairs):
    out = {}
    for kv in pairs or []:
        value = any_value(kv.get("value", {}))
        if value is not None and kv["key"] not in out:
            out[kv["key"]] = value
    return out


def load(path):
    events = []
    for line in open(path):
        if not line.strip():
            continue
        for rs in json.loads(line).get("resourceSpans", []):
            resource = attributes(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                scope = ss.get("scope", {})
                for sp in ss.get("spans", []):
                    events.append(event(sp, resource, scope))
    return events


def event(sp, resource, scope):
    start, end = int(sp.get("startTimeUnixNano", 0)), int(sp.get("endTimeUnixNano", 0))
    e = dict(resource)
    e.update(attributes(sp.get("attributes")))
    status = sp.get("status") or {}
    code = int(status.get("code", 0))
    parent = sp.get("parentSpanId", "")
    e.update({
        "duration_ms": max(end - start, 0) / 1e6,
        "name": sp.get("name", ""),
        "service.name": resource.get("service.name", "unknown_service"),
        "trace.trace_id": sp["traceId"].lower().rjust(32, "0"),
        "trace.span_id": sp["spanId"].lower(),
        "span.kind": KINDS.get(int(sp.get("kind", 0)), "unspecified"),
        "status_code": code,
        "span.num_events": len(sp.get("events", [])),
        "span.num_links": len(sp.get("links", [])),
        "meta.signal_type": "trace",
    })
    e.pop("trace.parent_id", None)
    if parent and set(parent) != {"0"}:
        e["trace.parent_id"] = parent.lower()
    e.pop("status_message", None)
    if status.get("message"):
        e["status_message"] = status["message"]
    if code == 2:
        e["error"] = True
    if scope.get("name"):
        e["library.name"] = scope["name"]
    e["_start"], e["_end"] = start, end
    return e


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v)


def parse_number(s):
    try:
        return float(s.strip())
    except ValueError:
        return None


def equal(v, g):
    if is_number(v) and is_number(g):
        return float(v) == float(g)
    if is_number(v) and isinstance(g, str):
        return parse_number(g) == float(v)
    if isinstance(v, str) and (is_number(g) or isinstance(g, bool)):
        return v == text(g)
    if isinstance(v, bool) and isinstance(g, str):
        return g.lower() == text(v)
    return type(v) is type(g) and v == g


def compare(v, g):
    if is_number(v) and is_number(g):
        a, b = float(v), float(g)
    elif is_number(v) and isinstance(g, str):
        a, b = float(v), parse_number(g)
        if b is None:
            return None
    elif isinstance(v, str) and isinstance(g, str):
        a, b = v, g
    else:
        return None
    return (a > b) - (a < b)


def positive(op, v, g):
    if v is None:
        return False
    if op == "exists":
        return True
    if op == "=":
        return equal(v, g)
    if op in (">", ">=", "<", "<="):
        c = compare(v, g)
        return c is not None and {">": c > 0, ">=": c >= 0, "<": c < 0, "<=": c <= 0}[op]
    if op == "starts-with":
        return text(v).startswith(text(g))
    if op == "contains":
        return text(g) in text(v)
    if op == "in":
        return any(equal(v, x) for x in g)
    raise ValueError(op)


NEGATIONS = {"!=": "=", "does-not-start-with": "starts-with", "does-not-contain": "contains",
             "does-not-exist": "exists", "not-in": "in"}


def matches(op, v, g):
    if op in NEGATIONS:
        return not positive(NEGATIONS[op], v, g)
    return positive(op, v, g)


def numbers(events, column):
    return [float(e[column]) for e in events if is_number(e.get(column))]


def calculate(op, column, events, rng):
    if op == "COUNT":
        return len(events)
    if op == "CONCURRENCY":
        best = 0
        for e in events:  # at each start, the spans in progress
            t = e["_start"]
            best = max(best, sum(1 for o in events if o["_start"] <= t < max(o["_end"], o["_start"] + 1)))
        return best
    if op == "COUNT_DISTINCT":
        return len({(type(e[column]).__name__, e[column]) for e in events if column in e})
    if op.startswith("RATE_"):
        return None  # a time series: no value for the whole group
    if op == "HEATMAP":
        if rng is None:
            return []
        lo, hi = rng
        n = BUCKETS if hi > lo else 1
        width = (hi - lo) / n
        buckets = [{"min": lo + i * width, "max": hi if i == n - 1 else lo + (i + 1) * width, "count": 0}
                   for i in range(n)]
        for v in numbers(events, column):
            i = 0 if hi <= lo else min(int(math.floor((v - lo) / width)), n - 1)
            buckets[i]["count"] += 1
        return buckets
    values = numbers(events, column)
    if not values:
        return None
    if op == "SUM":
        return sum(values)
    if op == "AVG":
        return sum(values) / len(values)
    if op == "MIN":
        return min(values)
    if op == "MAX":
        return max(values)
    tenths = round(PERCENTILES[op] * 10)
    rank = max(-(-tenths * len(values) // 1000), 1)
    return sorted(values)[rank - 1]


def key(c):
    return f"{c['op']}({c['column']})" if c.get("column") else c["op"]


def group_text(group):
    return json.dumps(group, separators=(",", ":"), ensure_ascii=False)


def run(events, spec):
    newest = max((e["_start"] for e in events), default=0) // 10**9 + 1
    rng = spec.get("time_range")
    start, end = spec.get("start_time"), spec.get("end_time")
    if start is not None and end is not None:
        pass
    elif start is not None:
        end = start + rng if rng else max(newest, start + 1)
    elif end is not None:
        start = end - (rng or 7200)
    else:
        start, end = newest - (rng or 7200), newest
    filters = spec.get("filters") or []
    combine = all if spec.get("filter_combination", "AND") != "OR" else any
    kept = [e for e in events if start * 10**9 <= e["_start"] < end * 10**9
            and (not filters or combine(matches(f["op"], e.get(f["column"]), f.get("value")) for f in filters))]
    breakdowns = spec.get("breakdowns") or []
    calcs = spec.get("calculations") or [{"op": "COUNT"}]
    ranges = {}
    for c in calcs:
        if c["op"] == "HEATMAP":
            values = numbers(kept, c["column"])
            ranges[key(c)] = (min(values), max(values)) if values else None
    groups = {}
    for e in kept:
        g = [e.get(b) for b in breakdowns]
        groups.setdefault(group_text(g), (g, []))[1].append(e)
    rows = []
    for g, members in groups.values():
        row = {"_group": g}
        for b, v in zip(breakdowns, g):
            row[b] = v
        for c in calcs:
            row[key(c)] = calculate(c["op"], c.get("column"), members, ranges.get(key(c)))
        rows.append(row)
    for h in spec.get("havings") or []:
        k = f"{h['calculate_op']}({h['column']})" if h.get("column") else h["calculate_op"]
        rows = [r for r in rows if r[k] is not None and matches(h["op"], float(r[k]), h["value"])]
    orders = spec.get("orders") or []
    if not orders:
        first = next((c for c in calcs if c["op"] != "HEATMAP" and not c["op"].startswith("RATE_")), None)
        orders = [{"op": first["op"], "column": first.get("column"), "order": "descending"}] if first else []

    def by(a, b, descending, numeric):
        if a is None and b is None:
            return 0
        if a is None:
            return 1
        if b is None:
            return -1
        if numeric or (is_number(a) and is_number(b)):
            c = (a > b) - (a < b)
        elif isinstance(a, str) and isinstance(b, str):
            c = (a > b) - (a < b)
        else:
            ta, tb = json.dumps(a), json.dumps(b)
            c = (ta > tb) - (ta < tb)
        return -c if descending else c

    def cmp(x, y):
        for o in orders:
            descending = o.get("order") == "descending"
            if o.get("op"):
                k = f"{o['op']}({o['column']})" if o.get("column") else o["op"]
                c = by(x[k], y[k], descending, True)
            else:
                c = by(x[o["column"]], y[o["column"]], descending, False)
            if c:
                return c
        tx, ty = group_text(x["_group"]), group_text(y["_group"])
        return (tx > ty) - (tx < ty)

    rows.sort(key=functools.cmp_to_key(cmp))
    rows = rows[: spec.get("limit", 100)]
    for r in rows:
        del r["_group"]
    return rows


if __name__ == "__main__":
    events = load(sys.argv[1])
    spec = json.load(open(sys.argv[2]))
    print(json.dumps({"results": run(events, spec)}))
