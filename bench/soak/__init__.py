"""``make soak``: the reliability scenarios of issue 7 against real ``docex run`` processes.

Run with ``python -m bench.soak`` (``--quick`` for fewer trials and a shorter load;
``--only NAME`` for one scenario). Each scenario starts its own anvil and nodes in a
scratch directory, attacks them (load, ``kill -9`` of the chain or of the node, a chain
reset, a down or hostile peer gateway, a full disk), checks the outcome against the
chain itself, and reports pass/fail with its figures. The results go to
``bench/results/reliability.json`` and the generated table ``docs/reliability.md``; the
command exits non-zero when a scenario fails.
"""
