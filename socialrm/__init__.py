"""socialrm: social-choice reward modeling for RLHF.

Learn each rater's preferences in a latent space, estimate the rater population, simulate voters,
aggregate their rankings with a rule you choose, and train a social reward model on the result.

Each area's public names are listed in its module's ``__all__`` and re-exported here.
"""

from ._native import _core  # noqa: F401  (loads the C core and its OpenBLAS)
from .exceptions import NotFittedError

__version__ = "0.1.0"

__all__ = ["NotFittedError", "__version__"]

from . import choice as _choice  # noqa: E402
from . import criteria as _criteria  # noqa: E402
from . import data as _data  # noqa: E402
from . import density as _density  # noqa: E402
from . import examples  # noqa: E402,F401
from . import io as _io  # noqa: E402
from . import models as _models  # noqa: E402
from . import pipeline as _pipeline  # noqa: E402
from . import reward as _reward  # noqa: E402


def _reexport(*modules) -> None:
    for module in modules:
        for name in module.__all__:
            globals()[name] = getattr(module, name)
            __all__.append(name)


_reexport(_choice, _criteria, _data, _density, _io, _models, _pipeline, _reward)
__all__.append("examples")
