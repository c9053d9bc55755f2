"""census: the national data-centre census and inventory pipeline (README.md)."""

import atexit
import gc

# A process that loads census imports hundreds of thousands of objects (Dagster, pandas,
# polars) that live as long as it does. Python's default collector thresholds walk them
# again and again as they are imported (five full collections, 0.8 s), and once more as
# the process exits (about 1.5 s). Collections are made rarer, and the objects are frozen
# at exit, left to the operating system: census closes its files and connections itself,
# not through the collector. Registered first, the freeze runs after every other exit
# handler.
gc.set_threshold(50_000, 20, 20)
atexit.register(gc.freeze)
