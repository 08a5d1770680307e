// Package plot draws nabla's figures: activation functions beside their
// derivatives, decision boundaries of 2-D classifiers, a run's learning
// curves, gradient flow per layer and activation histograms (from the
// metrics.jsonl and records.jsonl of a run folder), and sweep results. It is the only package of
// the module that imports gonum.org/v1/plot (internal/archtest checks this),
// and it stays pure Go: PNG through vgimg, SVG through vgsvg, no cgo.
//
// # Files
//
// Save writes one *plot.Plot, SaveGrid a grid of them as panels of one
// figure. The file's extension picks the format: ".png" or ".svg"; anything
// else is an error. Files are written atomically (a temporary file in the
// same folder, then a rename), so a reader never sees half a figure.
//
// # Numbers behind the figures
//
// Every figure is drawn from a value that can be inspected and tested
// without looking at pixels: Activations returns the sampled curves and a
// Stats row per activation (the derivative comes from package ag's reverse
// mode, not from a formula); Boundary returns the grid of predicted classes.
//
// # Errors
//
// Bad input from outside (an unknown activation name, an empty or reversed
// range, a model of the wrong width, an unwritable path) returns an error.
// Nothing here prints or exits.
//
// # Concurrency
//
// Functions here share no state; separate figures may be built on separate
// goroutines (but see ag.NoGrad, which Boundary uses, for its process-wide
// switch).
package plot
