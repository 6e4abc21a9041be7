import sys

from statsgraph.cli import main

sys.exit(main())
