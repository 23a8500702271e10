"""The composition root: the `klaxon` command, which knows every service and runs them.

It sits above the services; the services and their shared kernel never import it.
"""
