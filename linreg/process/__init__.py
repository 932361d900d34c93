"""What the command's process does around its runs: a stop asked by a signal (stopping.py),
a console that may be gone (console.py), and the state kept between runs (state.py)."""
