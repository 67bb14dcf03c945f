"""Encryption of everything DuraChat writes to Temporal: the key and the payload codec."""
