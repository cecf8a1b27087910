"""The reliability scenarios, one module each, every one with ``run(context)``."""

#: scenario name -> module under bench.soak.scenarios, in the order a soak runs them
SCENARIOS = {
    "load": "load",
    "chain-killed": "chain_killed",
    "chain-reset": "chain_reset",
    "node-killed": "node_killed",
    "peer-gateway": "peer_gateway",
    "disk-full": "disk_full",
    "signer-killed": "signer_killed",
    "partition": "partition",
    "member-hosts": "member_hosts",
}

#: scenarios whose smallest run is a test of its own in `make test` (not run again by
#: tests/e2e/soak/): the network's member-host faults share one network there
SMOKE_ELSEWHERE = {"member-hosts": "tests/e2e/network/test_faults_member_hosts.py"}
