from atsoc.scripts.cli import main

raise SystemExit(main())
