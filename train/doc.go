// Package train runs the training loop: epochs of mini-batches, validation,
// metrics, learning-rate schedules, early stopping and checkpoints that
// resume a killed run to the same bits.
//
// # Run folders
//
// A run with Config.Dir set writes, in that folder:
//
//	config.json             the run's settings (written by the caller, e.g. the CLI)
//	metrics.jsonl           one JSON object per epoch (loss, accuracy, lr, samples/s, …)
//	checkpoint.safetensors  weights, optimiser state, schedule, RNG states, epoch and step
//	model.safetensors       the final weights, with the architecture in the metadata
//	records.jsonl           per-layer gradient norms and activation statistics (with a Recorder)
//
// Files are written atomically (temporary file, fsync, rename), so a run
// killed at any moment leaves the last complete checkpoint.
//
// # Reproducibility
//
// All randomness (shuffling, dropout) comes from PCG generators owned by the
// Trainer and saved in every checkpoint. Resume restores them with the
// weights and the optimiser state, so a run interrupted after epoch k and
// resumed gives the same final weights, bit for bit, as one never stopped.
//
// # Errors
//
// A loss that becomes NaN or ±Inf stops the run with an error naming the
// epoch and step; the last checkpoint (from the previous epoch) is kept.
//
// # Concurrency
//
// A Trainer and its model belong to one goroutine while Run runs.
// Evaluate feeds the model ag.Untracked inputs and never switches graph
// recording off, so another goroutine may evaluate (or plot.Predict) a
// model while this one trains a different one; the optimisers recycle
// gradient buffers in ZeroGrad, so read gradients in Config.Record, not
// later.
package train
