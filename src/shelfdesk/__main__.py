import sys

from shelfdesk.cli import main

sys.exit(main())
