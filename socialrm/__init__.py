"""socialrm: social-choice reward modeling for RLHF.

Learn each rater's preferences in a latent space, estimate the rater population, simulate voters,
aggregate their rankings with a rule you choose, and train a social reward model on the result.
"""

from ._native import _core  # noqa: F401  (loads the C core and its OpenBLAS)
from .exceptions import NotFittedError

__version__ = "0.1.0"

__all__ = ["NotFittedError", "__version__"]

# --- social choice (issue 2) ---

# --- neural-network core (issue 3) ---

# --- density estimation (issue 4) ---
