"""The shared kernel: only what two or more services really share."""

import warnings

# Nameko 2 runs on eventlet, which announces on import that it is in maintenance mode;
# every Klaxon process imports it, and the banner says nothing an operator can act on.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
