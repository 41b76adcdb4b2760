"""Errors raised by the classifiers package.

    ModelError            a model or weight file cannot be loaded or is inconsistent
"""


class ModelError(Exception):
    """A model could not be loaded or used; the message says which file and what to do."""
