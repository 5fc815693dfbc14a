"""`accel design build`: from a sweep design (or a preset) to a checked build folder."""
