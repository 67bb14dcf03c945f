from backend.demo_model.cli import main

raise SystemExit(main())
