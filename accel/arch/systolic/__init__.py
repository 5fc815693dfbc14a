"""A dense/N:M systolic array in the SCALE-Sim mould (ws, os, is dataflows); reads SCALE-Sim's inputs."""
