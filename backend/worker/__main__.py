from backend.worker.main import main

raise SystemExit(main())
