"""A module whose import fails: a ref to it must say so, with the error."""

raise RuntimeError("cannot connect to the license server")
