"""Function-level tests: each entry point through its function.json and Microsoft's worker,
with Azurite and the loopback stand-ins, as a user of the app sees it."""
