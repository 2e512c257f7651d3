"""What the installed ``packaging`` can do, for the tests that compare the package with it.

The package keeps packaging 26's PEP 440 rules on every supported packaging (22.0 and later): ``===`` judges
each item by its own text and a clause naming a pre-release opts pre-releases in. Tests whose oracle is the
installed packaging's own answer hold only where packaging follows those rules; on older packaging
(MLflow 2.x caps it below 24 or 25) they are skipped, and the package's own answers are still tested by the
examples that spell the expected result out.
"""

from __future__ import annotations

import packaging
import pytest
from packaging.version import Version

import mlflow_allowance.allowance as allowance_module

#: The ``filter`` code paths to exercise: packaging's own loop (needs ``filter(key=...)``, packaging 26.1+)
#: and the package's fallback loop.
FILTER_PATHS: tuple[bool, ...] = (True, False) if allowance_module._FILTER_TAKES_KEY else (False,)

#: Skips a test whose oracle is packaging's answer, on a packaging that predates the rules the package keeps.
packaging_oracle = pytest.mark.skipif(
    Version(packaging.__version__) < Version("26.0"),
    reason=f"packaging {packaging.__version__} answers by older PEP 440 rules than the package keeps",
)
