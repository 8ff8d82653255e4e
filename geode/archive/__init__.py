"""The RINEX archive: layout from rinex_tank_struct + keys, scanning into ``rinex`` rows, ingest from the
repository (data_in) with crash-safe moves, all dispatched per batch of files through ``geode.jobs``."""
