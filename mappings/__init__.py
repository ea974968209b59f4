"""Mapping files: what research-package items become in STIX 2.1 (data, not code).

This is a package only so that the mapping files install with atlas-taxii (a wheel
carries them beside ``converters``); ``converters.spec`` finds them here.  The
language is described in ``README.md`` beside this file.
"""
