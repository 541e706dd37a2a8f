from sms_activation_mcp.cli import main

raise SystemExit(main())
