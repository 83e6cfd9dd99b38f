"""Schemathesis hooks for `cargo xtask contract`: a check that another caller can neither read, change nor delete a
secret it does not own.

After every secret a create answers (201), the secret's id is sent by the other caller to get, update and delete:
each must answer the same 404 `not_found_error` as an unknown id, and the owner must then still read the secret
unchanged. `object_level_authorization` (schemathesis's own, with the WFC `peers`) replays reads only; this adds
the writes. Tokens and the server's URL come from `CONTRACT_TOKENS` (`name=token,...`) and `CONTRACT_URL`.
"""

import os
import uuid

import requests
import schemathesis
from hypothesis.internal import lambda_sources

_describe_lambda = lambda_sources._lambda_description


def _described_or_unknown(f, *args, **kwargs):
    # Hypothesis describes lambdas by parsing their source file; on CPython 3.11 parsing schemathesis's largest
    # module can fail with "SystemError: AST constructor recursion depth mismatch" (a CPython bug), which turned
    # the coverage phase of path parameters into a runtime error. A description is cosmetic: fall back to none.
    try:
        return _describe_lambda(f, *args, **kwargs)
    except (SystemError, RecursionError):
        return "lambda: <unknown>"


lambda_sources._lambda_description = _described_or_unknown

TOKENS = dict(pair.split("=", 1) for pair in os.environ["CONTRACT_TOKENS"].split(","))
URL = os.environ["CONTRACT_URL"]
CREATES = {("POST", "/api/v1/user/secrets"), ("POST", "/api/v1/user/secrets/preset")}
# Never shown to anyone: a peer's update sends it, and no answer may carry it.
CANARY = "sk-peer-overwrite-canary-7d1e"
PROBED = "probed-by-other-callers.txt"


def _send(method, secret_id, token, body=None):
    return requests.request(
        method,
        f"{URL}/api/v1/user/secrets/{secret_id}",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
        timeout=30,
    )


def _envelope(response):
    return response.status_code, response.headers.get("content-type"), response.text


@schemathesis.check
def other_callers_get_404(ctx, response, case):
    if (case.method.upper(), case.operation.path) not in CREATES or response.status_code != 201:
        return None
    owner = case.auth_identity
    if owner not in TOKENS:
        return None
    secret_id = response.json()["id"]
    unknown = _envelope(_send("GET", uuid.uuid4(), TOKENS[owner]))
    assert unknown[0] == 404, f"an unknown id answered {unknown[0]}"
    for peer, token in TOKENS.items():
        if peer == owner:
            continue
        for method, body in (("GET", None), ("PUT", {"value": CANARY}), ("DELETE", None)):
            got = _send(method, secret_id, token, body)
            assert _envelope(got) == unknown, (
                f"{peer} sent {method} to {owner}'s secret {secret_id} and got {got.status_code} {got.text}, "
                f"not the 404 an unknown id gets"
            )
            assert CANARY not in got.text, f"{method} echoed the submitted value"
    # One line per secret probed: `cargo xtask contract` counts them, and fails if the check never ran.
    with open(PROBED, "a", encoding="utf-8") as log:
        log.write(f"{owner} {secret_id}\n")
    mine = _send("GET", secret_id, TOKENS[owner])
    assert mine.status_code == 200, f"{owner} lost its secret {secret_id} to another caller: {mine.status_code}"
    assert mine.json()["updated_at"] == response.json()["updated_at"], f"another caller changed {secret_id}"
    return True
