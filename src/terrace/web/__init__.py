"""The web UI under /interface: server-rendered pages over the platform's use cases."""
