"""Signer killed: one of four geth Clique signers ``kill -9``-ed while batches are anchored.

Four signers (:mod:`bench.soak.clique`, one second a block), a ``docex run`` node
anchoring through the first signer's RPC (``--chain rpc``: its batcher, transaction
manager, journal, event index and anchor keeper, the node's own ledger path). Each trial
kills another signer by its PID with documents in flight and issues more while it is
down: three of four signers still make every block (Clique needs floor(4/2)+1). The
killed signer is then started again on its data directory: it must sync what it missed
(the same head hash as the others) and seal again. At the end every accepted document is
anchored exactly once, counted against the chain's own logs, on a survivor's RPC and on
the restarted signer's own.
"""

from __future__ import annotations

import time

import httpx

from bench.soak.chain_audit import audit_anchors
from bench.soak.clique import CliqueChain
from bench.soak.issuing import SMALL_BATCHES, issue
from bench.soak.processes import NodeProcess
from bench.soak.results import ScenarioResult, SoakContext

TITLE = "Signer killed (kill -9 of one of four Clique signers, then restarted)"
REQUESTS_PER_TRIAL = 4
DOCUMENTS_PER_REQUEST = 20


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("signer-killed", TITLE)
    started = time.monotonic()
    trials = context.trials(6, 3)
    home = context.workdir / "signer-killed"
    chain = CliqueChain(home / "chain")
    node: NodeProcess | None = None
    accepted: list[str] = []
    sealed_while_down: list[int] = []
    anchored_while_down = 0
    catch_up: list[float] = []
    sealed_again = 0
    trials_not_anchored = 0
    flagged = found_again = 0
    same_head = True
    try:
        chain.start()
        context.log(f"4 signers on {', '.join(map(str, chain.hosts))}")
        data_dir = home / "vn"
        node = NodeProcess(
            data_dir, ["--chain", "rpc", "--rpc-url", chain.nodes[0].rpc_url], SMALL_BATCHES
        )
        token = node.sample_token()  # once the dev consortium is deployed on the chain
        with httpx.Client(base_url=node.base, timeout=60) as client:
            for trial in range(trials):
                victim = 1 + trial % (len(chain.nodes) - 1)  # never the node's own signer
                for _ in range(REQUESTS_PER_TRIAL // 2):
                    accepted += _issue(client, token, result, trial)
                before_kill = node.outbox_states().get("anchored", 0)
                killed_head = chain.head(0).number
                chain.kill(victim)
                for _ in range(REQUESTS_PER_TRIAL - REQUESTS_PER_TRIAL // 2):
                    accepted += _issue(client, token, result, trial)
                if node.wait_all_anchored(len(accepted), timeout=120) is None:
                    result.notes.append(f"trial {trial + 1}: not all anchored in 120 s")
                    trials_not_anchored += 1
                anchored_while_down += node.outbox_states().get("anchored", 0) - before_kill
                sealed_while_down.append(chain.head(0).number - killed_head)
                restarted_at = time.monotonic()
                chain.restart(victim)
                head = _wait_caught_up(chain, victim)
                if head is None:
                    same_head = False
                    result.notes.append(f"trial {trial + 1}: signer {victim} did not catch up")
                else:
                    catch_up.append(time.monotonic() - restarted_at)
                sealed_again += _seals_again(chain, victim)
                context.log(
                    f"trial {trial + 1}/{trials}: signer {victim} killed, "
                    f"{sealed_while_down[-1]} blocks sealed without it; back in step in "
                    f"{catch_up[-1] if catch_up else float('nan'):.1f} s"
                )
        final = chain.wait_same_head()
        survivor = audit_anchors(chain.nodes[0].rpc_url, data_dir, accepted)
        restarted = audit_anchors(chain.nodes[1].rpc_url, data_dir, accepted)
        flagged, found_again = node.log_count("anchor lost"), node.log_count("anchor found again")
    finally:
        if node is not None:
            node.interrupt()
        chain.stop()
    result.figures = {
        "signers": len(chain.nodes),
        "block_period_seconds": chain.block_period,
        "signer_kills": trials,
        **survivor.figures(),
        "anchored_after_the_kill": anchored_while_down,
        "trials_not_all_anchored_in_120s": trials_not_anchored,
        # a block holding anchors replaced by a competing one: flagged, then mined again
        "batches_flagged_anchor_lost_meanwhile": flagged,
        "batches_found_again": found_again,
        "blocks_sealed_while_down_min": min(sealed_while_down, default=0),
        "catch_up_seconds_max": round(max(catch_up, default=0.0), 2),
        "restarted_signers_sealing_again": sealed_again,
        "same_head_on_every_signer": same_head,
        "final_head": final.number,
        "restarted_signer_log_audit_agrees": restarted == survivor,
        "closed_network_violations": len(chain.violations),
        "chain_starts_abandoned_stalled": chain.restarts_at_start,
    }
    result.notes += chain.violations
    holds = (
        survivor.holds
        and trials_not_anchored == 0
        and restarted == survivor
        and same_head
        and sealed_again == trials
        and len(catch_up) == trials
        and min(sealed_while_down, default=0) > 0
        and not chain.violations
    )
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result


def _issue(client: httpx.Client, token: str, result: ScenarioResult, trial: int) -> list[str]:
    status, ids = issue(client, token, DOCUMENTS_PER_REQUEST)
    if status != 202:
        result.notes.append(f"trial {trial + 1}: an issue request got {status}")
    return ids


def _wait_caught_up(chain: CliqueChain, victim: int, timeout: float = 90.0) -> int | None:
    """The block at which the restarted signer holds the same block as the first signer."""
    deadline = time.monotonic() + timeout
    target = chain.head(0).number
    while time.monotonic() < deadline:
        mine = chain.block(victim, target)
        theirs = chain.block(0, target)
        if mine is not None and theirs is not None and mine["hash"] == theirs["hash"]:
            return target
        time.sleep(0.1)
    return None


def _seals_again(chain: CliqueChain, victim: int, timeout: float = 30.0) -> int:
    """1 when the restarted signer seals a block of the common chain within ``timeout``."""
    start = chain.head(0).number
    deadline = time.monotonic() + timeout
    signer = chain.signer(victim)
    checked = start
    while time.monotonic() < deadline:
        head = chain.head(0).number
        for number in range(checked + 1, head + 1):
            if chain.sealer(0, number) == signer:
                return 1
        checked = head
        time.sleep(0.2)
    return 0
