"""census: the national data-centre census and inventory pipeline (README.md)."""

import atexit
import gc

# A process that loads census imports hundreds of thousands of objects (Dagster, pandas,
# polars) that live as long as it does. The collection Python makes as the process exits
# walks them all: about 1.5 s of every `census` command and every Dagster process that
# loads the definitions. Frozen at exit, they are left to the operating system: census
# closes its files and connections itself, not through the collector. A `census` command
# imports this first, so the freeze runs after every other exit handler; where Dagster is
# imported first (a run worker), its handlers run after the freeze and still work: the
# freeze only keeps the collector off the objects there are then.
atexit.register(gc.freeze)
