"""`python -m ember` is the same program as `ember-server`."""

from ember.server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
