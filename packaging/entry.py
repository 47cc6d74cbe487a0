"""The bundle's program: the same entry point as the installed ``galileio-desktop`` command."""

import sys

from galileio_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
