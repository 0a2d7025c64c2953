"""``python -m portable_nn``: the command line (see :mod:`portable_nn.tools.cli`)."""

from portable_nn.tools.cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m portable_nn"))
