"""pydatahike's module of low-level functions (generated there, hand-written here): the same
functions as datahike.lowlevel."""

from .lowlevel import *  # noqa: F401,F403
from .lowlevel import __all__  # noqa: F401
