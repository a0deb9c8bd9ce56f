"""An open implementation of the maize.PLUS Open API."""

__version__ = "0.1.0"
