"""The demo district: a fictional district shaped like the seed's, built deterministically."""
