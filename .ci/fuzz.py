"""Helpers of .ci/fuzz.

    fuzz.py seed BASE KEY BASE_CONFIG OUT   seeds a program, members, orders and segments through the API and
                                           writes OUT: BASE_CONFIG plus dictionaries of their ids, so that
                                           generated requests name existing resources as often as not
    fuzz.py share BEFORE AFTER             writes per status between two /metrics snapshots, and the share
                                           that reached the engine
"""
import json
import re
import sys
import urllib.request


def call(base, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def seed(base, key, base_config, out):
    program = call(base, key, "POST", "/v1/programs", {
        "name": "Fuzz rewards", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order",
        "expiry": {"type": "after_months", "months": 12, "round_to": "month"}})["id"]
    customers, orders, members = [], [], []
    for name in ("alice", "bob", "carol"):
        order = call(base, key, "POST", "/v1/orders", {
            "source_id": f"order-{name}", "status": "PAID", "customer": {"source_id": name, "email": f"{name}@example.com"},
            "items": [{"product_id": "mug", "quantity": 2, "price": 1200}, {"product_id": "tea", "quantity": 1, "price": 800}]})
        orders += [order["source_id"], order["id"]]
        customers += [name, order["customer_id"]]
        member = call(base, key, "GET", f"/v1/customers/{name}/memberships")["data"][0]
        members += [member["id"], member["card_code"]]
        call(base, key, "POST", f"/v1/programs/{program}/members/{member['id']}/points/add",
             {"points": 1_000_000, "reason": "seed"})
    static = call(base, key, "POST", "/v1/segments", {"name": "Fuzz static", "type": "static"})["id"]
    dynamic = call(base, key, "POST", "/v1/segments",
                   {"name": "Fuzz spenders", "type": "dynamic", "rule": "spent(lifetime) > 10.00"})["id"]
    call(base, key, "POST", f"/v1/segments/{static}/members", {"add": [{"source_id": "alice"}]})
    # Rules that parse (a generated string almost never does), for the rule and segment endpoints.
    rules = [
        'order.amount >= 50.00 and customer.address.country in ["AT", "DE"] and spent(last_calendar_year) > 1000.00',
        'any(item.collections contains "shoes" and item.price >= 20.00) or events("review.written", last_30_days) >= 2',
        'day_of_week() in ["saturday", "sunday"]',
        "spent(lifetime) > 10.00",
        "customer.metadata.vip",
        f'balance("{program}") >= 500',
        f'in_segment("{static}")',
    ]
    sources, ids = customers[0::2], customers[1::2]
    dictionaries = {"programs": [program], "members": members, "customers": customers, "customer_ids": ids,
                    "customer_sources": sources, "orders": orders, "segments": [static, dynamic], "rules": rules}
    bindings = {"path.program": "programs", "path.member": "members", "path.customer": "customers",
                "path.order": "orders", "path.segment": "segments", "query.customer": "customers",
                "body.to": "members", "body.rule": "rules"}
    for body in ("customer", "events[*].customer", "add[*]", "remove[*]"):
        bindings[f"body.{body}.id"] = "customer_ids"
        bindings[f"body.{body}.source_id"] = "customer_sources"
    lines = [open(base_config).read(), ""]
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, dictionary in bindings.items():
        lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.8 }}')
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


LINE = re.compile(r'^fidelis_http_request_duration_seconds_count\{(.*)\} (\S+)$')


def counts(path):
    found = {}
    for text in open(path):
        m = LINE.match(text.strip())
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            found[(labels.get("method"), labels.get("route"), labels.get("status"))] = float(m.group(2))
    return found


def share(before_path, after_path):
    before, after = counts(before_path), counts(after_path)
    by_status = {}
    for (method, route, status), n in after.items():
        n -= before.get((method, route, status), 0)
        if method in ("POST", "PUT", "PATCH", "DELETE") and n > 0:
            by_status[status] = by_status.get(status, 0) + n
    print("valid writes by status:", ", ".join(f"{s}: {int(n)}" for s, n in sorted(by_status.items())))
    # 401: requests sent without a key (the ignored_auth check); 405: methods a path does not have
    # (unsupported_method). Neither is a write of a documented operation.
    counted = {s: n for s, n in by_status.items() if s not in ("401", "405")}
    total = sum(counted.values())
    reached = sum(n for s, n in counted.items() if s.startswith("2") or s in ("404", "409", "422"))
    if total:
        print(f"valid writes that reached the engine: {int(reached)} of {int(total)} ({100 * reached / total:.0f}%)")
        served = sum(n for s, n in counted.items() if s.startswith("2"))
        print(f"valid writes answered 2xx: {int(served)} of {int(total)} ({100 * served / total:.0f}%)")


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(*sys.argv[2:6])
    else:
        share(*sys.argv[2:4])
