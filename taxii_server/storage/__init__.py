"""Stores behind one small interface (see :mod:`taxii_server.storage.base`)."""
