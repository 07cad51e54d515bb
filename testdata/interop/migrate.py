#!/usr/bin/env python3
"""Run the unmodified sqlalchemy-migrate command-line tool on Python >= 3.11.

migrate.versioning.shell calls inspect.getargspec, which Python 3.11 removed. This wrapper
restores it as the first four fields of inspect.getfullargspec (args, varargs, varkw,
defaults) and then hands over to migrate.versioning.shell.main(), so the tool behaves exactly
as /usr/bin/migrate does on older Pythons.

Usage: python3 migrate.py COMMAND [ARGS...]   (the same arguments as `migrate`)
"""

import collections
import inspect
import os
import sys

# This file is itself named migrate.py: drop its directory from the import path so that
# "import migrate" finds the sqlalchemy-migrate package and not this script.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

if not hasattr(inspect, "getargspec"):
    ArgSpec = collections.namedtuple("ArgSpec", "args varargs keywords defaults")

    def getargspec(func):
        spec = inspect.getfullargspec(func)
        return ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)

    inspect.getargspec = getargspec

from migrate.versioning.shell import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
