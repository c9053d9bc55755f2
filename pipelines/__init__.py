"""census: the national data-centre census and inventory pipeline (README.md)."""

import atexit
import gc

# A process that loads census imports hundreds of thousands of objects (Dagster, pandas,
# polars) that live as long as it does. The collection Python makes as the process exits
# walks them all: about 1.5 s of every `census` command and every Dagster process that
# loads the definitions. Frozen at exit, they are left to the operating system: census
# closes its files and connections itself, not through the collector. Registered first,
# the freeze runs after every other exit handler.
atexit.register(gc.freeze)
