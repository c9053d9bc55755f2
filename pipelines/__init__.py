"""census: the national data-centre census and inventory pipeline (README.md)."""

import atexit
import gc

# A process that loads census holds over a million objects from its imports (Dagster,
# pandas, polars). The collection Python makes as it exits walks them all: about 1.5 s of
# every `census` command and every Dagster process that loads the definitions. Frozen at
# exit, they are left to the operating system; census closes its files and connections
# itself, not through the collector. Registered first, this runs after every other
# exit handler.
atexit.register(gc.freeze)
