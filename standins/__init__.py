"""Loopback stand-ins for what the app talks to in Azure, for tests and the local cycle.

Graph, the managed-identity endpoint (App Service protocol, as azure-identity speaks it), the
Teams webhook, Azurite (the real one, started on a free port), and the Functions host (which
runs each function through its function.json). They listen on 127.0.0.1 only. Not deployed
(.funcignore).
"""
