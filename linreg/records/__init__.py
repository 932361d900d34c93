"""What a run leaves behind to be read: metrics.json (metrics.py), TensorBoard's events
(events.py), and a finished run read back from its folder (runs.py)."""
