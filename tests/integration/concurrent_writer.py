"""One of the concurrent writers of tests/integration/test_concurrency.py (run as a script).

    python concurrent_writer.py URI ENV MODEL OTHER SEED OPERATIONS

Does OPERATIONS random operations (promote, set, rollback, check --fix) on ENV, waiting for the lease, and
prints one line per operation: ``ok <op>``, or ``refused <op> <error class>`` for an expected refusal.
"""

from __future__ import annotations

import random
import sys

from mlflow_allowance import AllowanceClient, NoEligibleCandidateError
from mlflow_allowance.errors import EnvironmentBusyError, RollbackRefusedError

ALLOWANCES = ("<=1.0", "<=2.0", "==2.0", ">=1.0")
WAIT_S = 120.0


def main(uri: str, env: str, model: str, other: str, seed: int, operations: int) -> None:
    client = AllowanceClient(uri, uri)
    chance = random.Random(seed)
    for _ in range(operations):
        operation = chance.choice(("promote", "promote", "set", "rollback", "check"))
        try:
            if operation == "promote":
                client.promote(env, [model, other], metric="F1", wait=WAIT_S)
            elif operation == "set":
                client.set_allowance(env, chance.choice(ALLOWANCES), wait=WAIT_S)
            elif operation == "rollback":
                client.rollback(env, chance.choice((model, other)), wait=WAIT_S)
            else:
                client.check(env, fix=True, wait=WAIT_S)
        except (NoEligibleCandidateError, RollbackRefusedError, EnvironmentBusyError) as exc:
            print(f"refused {operation} {type(exc).__name__}", flush=True)
        else:
            print(f"ok {operation}", flush=True)


if __name__ == "__main__":
    uri, env, model, other, seed, operations = sys.argv[1:7]
    main(uri, env, model, other, int(seed), int(operations))
