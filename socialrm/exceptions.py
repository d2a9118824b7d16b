"""Exceptions raised by socialrm beyond the built-in ones."""


class NotFittedError(ValueError, AttributeError):
    """Raised when a method that needs a fitted estimator is called before ``fit``.

    Subclasses both ``ValueError`` and ``AttributeError``, as scikit-learn's does, so code written
    for scikit-learn estimators catches it.
    """
