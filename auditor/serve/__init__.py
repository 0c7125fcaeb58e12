"""`auditor serve`: a local web page over the same API as the command line, for agents who never open a
terminal. Loopback only, a secret token, a private temporary folder per session (see docs/serve.md)."""
