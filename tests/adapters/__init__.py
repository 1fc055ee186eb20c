"""Adapters against loopback stand-ins and Microsoft's renderer: one outside party each."""
