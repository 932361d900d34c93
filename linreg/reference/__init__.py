"""Reference answers for linear regression, computed carefully in float64.

linreg trains y ~ X w + b with SGD; this module says where SGD should end up: the exact least
squares (or ridge) answer, its standard errors, R^2 and residual standard deviation, and the
maths of full-batch gradient descent on the mean squared error (`diagnostics`). It stands alone
(numpy and scipy.linalg only) and takes float64 numpy arrays: give it the data's own float64
values, whatever dtype training uses.

The method, and why each step is there:

1. Centre and scale. With an intercept, subtracting each column's mean and dividing by the
   centred column's norm is only a change of variables (the fit is the same), but it removes
   what makes most designs ill-conditioned: columns of wildly different sizes (x and x^5) and
   columns that are nearly constant (a year column, 1947..1962). Longley's design has
   condition number 5e9; scaled, 4e4; centred and scaled, 110. A column whose values differ
   only in their last bits (2^55 + 8 j) is beyond float64 unless it is centred.
2. QR, never A^T A. Householder QR of the centred, scaled design solves least squares with an
   error proportional to its condition number kappa. Forming A^T A squares kappa (Longley:
   2e19, beyond float64), which is why inverting it loses every digit.
3. Iterative refinement (Bjorck's, on the augmented system r + A theta = y, A^T r = 0): compute
   how far the current (theta, r) is from satisfying those equations, in the ORIGINAL
   coordinates and in twice float64's precision (error-free transformations: each product and
   sum is kept as a float64 plus its exact rounding error), then solve for a correction with
   the same QR. Each step multiplies the error by about kappa * 2^-53, so two or three steps
   reach the exact least squares answer for the float64 data, rounded to float64, however the
   centring and scaling rounded: this, not step 1, is what the digits rest on (kappa up to
   about 3e13; a degree-10 polynomial on Filip's range has 3e9). The residual vector r is
   refined with theta, so rss is the minimum's even where rounding theta moves A theta. The
   standard errors are refined the same way when kappa > 1e4: diag((A^T A)^-1) solves the
   same augmented system with the right-hand side (0, e_j).

What float64 data cannot give: when a dataset's decimals are not binary fractions (Filip's x),
its float64 values are a slightly different problem. For a degree-10 polynomial on Filip's
range (tests/test_reference.py's Filip-like case), moving each x by a relative 2^-53 changes
the exact coefficients in their 8th or 9th digit: expect 7 or 8 digits, not 15, against
Filip's certified values (not measured: Filip.dat is not among the shipped files).

Rank-deficient designs (a constant column, duplicated columns, fewer rows than parameters) do
not raise: `least_squares` returns the minimum-norm solution (the point full-batch gradient
descent reaches from theta = 0), its `rank` says so, and its standard errors are NaN (a
coefficient that the data do not determine has none). Bad input (wrong shapes, NaN or inf,
values beyond 1e150) raises ValueError.
"""

from linreg.reference.diagnostics import diagnostics
from linreg.reference.least_squares import (
    Fit,
    least_squares,
    polynomial,
    ridge,
    weight_decay_penalty,
)

__all__ = ["Fit", "least_squares", "ridge", "weight_decay_penalty", "diagnostics", "polynomial"]
