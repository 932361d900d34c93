"""The figures: fit.png, loss.png, trajectory.png (a run's) and summary.png (a sweep's).

One module per figure (fit.py, loss_curves.py, trajectory.py, summary.py), drawn from plain
numbers with the shared style (style.py); pictures.py computes a run's from its tensors, the
only module here that imports torch. drawing.py sends them to the drawing process
(drawing_process.py), which draws each request (requests.py) while the run goes on.
"""
