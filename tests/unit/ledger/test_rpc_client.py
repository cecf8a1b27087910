"""The JSON-RPC client: retries an unreachable endpoint, reports errors typed."""

from __future__ import annotations

import json

import httpx
import pytest

from ledger.errors import RpcError, RpcUnreachable
from ledger.rpc import JsonRpcClient, RetryPolicy


def client(handler: httpx.MockTransport, waits: list[float], attempts: int = 4) -> JsonRpcClient:
    return JsonRpcClient(
        "http://node.test",
        retry=RetryPolicy(attempts=attempts, first_delay=0.1, max_delay=0.25),
        sleep=waits.append,
        transport=handler,
    )


def answer(request: httpx.Request, result: object) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})


def test_connection_failures_are_retried_with_growing_waits_until_the_node_answers() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectError("refused")
        return answer(request, "0x10")

    waits: list[float] = []
    assert client(httpx.MockTransport(handler), waits).request("eth_blockNumber") == "0x10"
    assert waits == [0.1, 0.2]


def test_an_endpoint_that_never_answers_is_reported_after_every_attempt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    waits: list[float] = []
    with pytest.raises(RpcUnreachable) as raised:
        client(httpx.MockTransport(handler), waits).request("eth_blockNumber")

    assert raised.value.attempts == 4
    assert waits == [0.1, 0.2, 0.25]


def test_overloaded_gateway_status_is_retried() -> None:
    statuses = iter([503, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return answer(request, "0x1") if status == 200 else httpx.Response(status)

    assert client(httpx.MockTransport(handler), []).request("eth_chainId") == "0x1"


def test_json_rpc_error_object_becomes_rpc_error_with_its_data() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={
                "jsonrpc": "2.0",
                "id": body["id"],
                "error": {"code": 3, "message": "execution reverted", "data": "0xdeadbeef"},
            },
        )

    with pytest.raises(RpcError) as raised:
        client(httpx.MockTransport(handler), []).request("eth_call", [{}])

    assert (raised.value.rpc_code, raised.value.data) == (3, "0xdeadbeef")


def test_batch_results_come_back_in_call_order_whatever_the_answer_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        answers = [{"jsonrpc": "2.0", "id": c["id"], "result": c["method"]} for c in calls]
        return httpx.Response(200, json=list(reversed(answers)))

    results = client(httpx.MockTransport(handler), []).batch(
        [("eth_chainId", []), ("eth_blockNumber", []), ("eth_gasPrice", [])]
    )

    assert results == ["eth_chainId", "eth_blockNumber", "eth_gasPrice"]
