import sys

from blindpairs.cli import main

sys.exit(main())
