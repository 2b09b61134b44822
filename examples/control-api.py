#!/usr/bin/env python3
"""Call the shic control API from Python with the standard library only (urllib, json).

Start a daemon first, e.g. `shic tiny-model examples/models/tiny-llama.gguf && shic up examples/shic.yaml`, then:

    SHIC_STATE_DIR=examples/.shic-state python3 examples/control-api.py tiny-llama

The daemon writes its address to <stateDir>/control.json and its bearer token to <stateDir>/control.token
(both mode 0600). This script ensures an endpoint of a deployment (starting it if needed), sends one chat
completion to it, renews and releases the lease. Exit code 0 on success, 1 on any error.
"""

import json
import os
import sys
import urllib.error
import urllib.request


def state_dir() -> str:
    """Same lookup as the CLI: $SHIC_STATE_DIR, else $XDG_STATE_HOME/shic, else ~/.local/state/shic."""
    if os.environ.get("SHIC_STATE_DIR"):
        return os.environ["SHIC_STATE_DIR"]
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "shic")


def request(method: str, url: str, token: str | None = None, body: dict | None = None, headers=None) -> dict:
    """Sends JSON, returns parsed JSON; raises RuntimeError with the API's error code on a non-2xx answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token is not None:
        req.add_header("authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        payload = json.loads(error.read() or b"{}")
        err = payload.get("error", {})
        # Control API errors are { error: { code, message, details } } with a stable code.
        raise RuntimeError(f"{method} {url} -> HTTP {error.code} {err.get('code')}: {err.get('message')}") from None


def main() -> int:
    deployment = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
    directory = state_dir()
    with open(os.path.join(directory, "control.json"), encoding="utf-8") as f:
        control = json.load(f)["url"]
    with open(os.path.join(directory, "control.token"), encoding="utf-8") as f:
        token = f.read().strip()

    print("daemon", request("GET", f"{control}/healthz")["status"])  # the only route without a token
    names = [d["name"] for d in request("GET", f"{control}/v1/deployments", token)["deployments"]]
    print("deployments", ", ".join(names))

    ensured = request(
        "POST",
        f"{control}/v1/endpoints/ensure",
        token,
        {"deployment": deployment, "ownerRef": "python-example", "ttlMs": 60000},
    )
    endpoint, lease = ensured["endpoint"], ensured["lease"]
    print("endpoint", endpoint["baseUrl"], "model", endpoint["modelIdentity"])
    print("lease", lease["leaseRef"])

    try:
        # The ensure response carries the endpoint's real auth header (e.g. a generated llama-server key).
        completion = request(
            "POST",
            f"{endpoint['baseUrl']}/chat/completions",
            body={
                "model": endpoint["modelIdentity"],
                "messages": [{"role": "user", "content": "Say hello."}],
                "max_tokens": 8,
            },
            headers=endpoint["headers"],
        )
        print("completion finish_reason", completion["choices"][0]["finish_reason"])

        renewed = request("POST", f"{control}/v1/leases/{lease['leaseRef']}/renew", token, {"ttlMs": 120000})
        print("renewed ttlMs", renewed["lease"]["ttlMs"])
        instance = request("GET", f"{control}/v1/instances/{endpoint['healthRef']}", token)["instance"]
        print("instance", instance["instanceId"], instance["state"], "leases", instance["leaseCount"])
    finally:
        released = request("DELETE", f"{control}/v1/leases/{lease['leaseRef']}", token)
        print("released", released["released"])

    try:
        request("POST", f"{control}/v1/leases/{lease['leaseRef']}/renew", token, {})
    except RuntimeError as error:
        print("renew after release:", str(error).split(" -> ")[1])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # noqa: BLE001 - an example reports any failure and exits 1
        print(f"control-api.py failed: {error}", file=sys.stderr)
        sys.exit(1)
