// Package plot draws nabla's figures: activation functions beside their
// derivatives, decision boundaries of 2-D classifiers, a run's learning
// curves, gradient flow per layer and activation histograms (from the
// metrics.jsonl and records.jsonl of a run folder), and sweep results. It is the only package of
// the module that imports gonum.org/v1/plot (internal/archtest checks this),
// and it stays pure Go: PNG through vgimg, SVG through vgsvg, no cgo.
//
// # Files
//
// Save writes one *plot.Plot, inside a blank border of Margin; SaveGrid a
// grid of them as panels of one figure. The file's extension picks the
// format: ".png" or ".svg"; anything else is an error. Files are written
// atomically (internal/fsutil.WriteFile: a temporary file in the same
// folder, then a rename), so a reader never sees half a figure.
//
// # Numbers behind the figures
//
// Every figure is drawn from a value that can be inspected and tested
// without looking at pixels: Activations returns the sampled curves and a
// Stats row per activation (the derivative comes from package ag's reverse
// mode, not from a formula); Boundary returns the grid of predicted
// classes; CurveSeries, SweepSeries and HistBars return what the curves,
// sweep and histogram figures draw. Accuracies are drawn in percent, as
// the tables print them; histogram panels show the x range their data
// occupy, with the values outside the recorded range as grey bars at its
// ends.
//
// # Errors
//
// Bad input from outside (an unknown activation name, an empty or reversed
// range, a model of the wrong width, an unwritable path) returns an error
// whose message starts with "plot: " once; callers add no second "plot:".
// Nothing here prints or exits.
//
// # Concurrency
//
// Functions here share no state; separate figures may be built on separate
// goroutines. Predict and Boundary run the model on ag.Untracked inputs
// (no graph is recorded) but switch it to evaluation mode while they run,
// so the same model must not be trained meanwhile.
package plot
