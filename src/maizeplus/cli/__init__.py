"""The operator command line, ``maizeplus``."""
