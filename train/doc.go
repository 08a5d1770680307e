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
// killed at any moment leaves the last complete checkpoint. The trainer
// holds the folder's lock (.lock, naming its process id) while it trains,
// so a second process is refused; it checks that the folder can be
// written before the first step; and it writes each epoch's checkpoint
// before its metrics line. Resume rewrites metrics.jsonl from the
// checkpoint's history and Start removes temporary files a killed write
// left, so metrics and checkpoint always agree after a resume.
//
// # Model files
//
// SaveModel writes the parameters and buffers under PyTorch's state_dict
// names, with the model's nn.Spec (MetaArch) and what it needs to read its
// inputs (MetaInput: one example's shape, the class count, pixel scaling,
// the normaliser). LoadModel rebuilds a model from such a file alone, from
// a checkpoint, from a run folder, from a file of nabla before specs
// (MetaMLP) or from a PyTorch file of Linear layers, widening F16/BF16.
//
// # Stepping from outside
//
// Run is Start, RunEpoch until Done, and Finish. A live view or a notebook
// calls those itself, or Start and Step on its own batches, with the
// OnStep and OnEpoch hooks: the bits are those of Run.
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
// A loss that becomes NaN or ±Inf stops the run with a *NonFiniteError
// naming the epoch and step, and the checkpoint kept from before it (or
// saying that none was saved, in the first epoch). A loss that grows by
// orders of magnitude, or an accuracy still at chance after a quarter of
// the run, adds a warning to the Result (and the log).
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
