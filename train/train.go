package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// LossFunc scores a batch of logits against class labels as a scalar.
type LossFunc = loss.Func

// Config holds the loop's settings. Zero values are usable defaults where
// noted.
type Config struct {
	Epochs   int     // number of passes over the training set (required)
	Batch    int     // mini-batch size; default 64
	DropLast bool    // drop the last partial batch of each epoch
	ClipNorm float64 // clip the global gradient norm to this; 0: no clipping
	L1, L2   float64 // penalty strengths λ on the weights (parameters with ≥ 2 dimensions)
	Patience int     // stop after this many epochs without a better validation loss; 0: never
	// Dir is the run folder for metrics and checkpoints; "" writes nothing.
	Dir string
	// Metadata is stored in checkpoints and the final model file: the
	// architecture, so that the model can be rebuilt from the file alone.
	Metadata map[string]string
	// Log receives one line per epoch (or a progress bar, with Progress).
	Log      io.Writer
	Progress bool // redraw a progress bar during each epoch (for terminals)
	// Record, when set, is called after every backward pass, before the
	// optimiser step, with the step number: a hook to read gradients.
	Record func(step int)
}

// Trainer trains Model on Train with Opt. Build it with its exported
// fields, then call Run; Resume restores a checkpoint first.
type Trainer struct {
	Model    nn.Module
	Loss     LossFunc
	Opt      optim.Optimizer
	Schedule optim.Schedule // learning rate by optimiser step; nil keeps Opt's rate
	Train    data.Dataset
	Val      data.Dataset // may be nil
	Config   Config
	// RNG names the generators whose state a checkpoint must save. "shuffle"
	// orders the training set each epoch and is required; add the one the
	// model's Dropout layers draw from, under any other name.
	RNG map[string]*rand.PCG

	epoch, step int     // completed epochs and optimiser steps
	best        float64 // best validation loss so far
	bad         int     // epochs since it improved
	history     []Metrics
	loader      *data.Loader
}

// Metrics is one epoch's line in metrics.jsonl.
type Metrics struct {
	Epoch         int      `json:"epoch"`
	Step          int      `json:"step"`
	TrainLoss     float64  `json:"train_loss"`
	TrainAcc      float64  `json:"train_acc"`
	ValLoss       *float64 `json:"val_loss,omitempty"`
	ValAcc        *float64 `json:"val_acc,omitempty"`
	LR            float64  `json:"lr"`
	SamplesPerSec float64  `json:"samples_per_sec"` // training examples per second, validation excluded
	Seconds       float64  `json:"seconds"`         // the whole epoch, validation included
}

// Result summarises a finished run.
type Result struct {
	History []Metrics // every epoch, including those before a resume
	Stopped string    // why the run ended early, or ""
}

// Last is the final epoch's metrics.
func (r Result) Last() Metrics {
	if len(r.History) == 0 {
		return Metrics{}
	}
	return r.History[len(r.History)-1]
}

// NonFiniteError reports a loss that became NaN or infinite.
type NonFiniteError struct {
	Epoch, Step int
	Loss        float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("loss became %v at epoch %d, step %d; lower the learning rate or clip gradients (the last checkpoint is kept)", e.Loss, e.Epoch, e.Step)
}

func (t *Trainer) check() error {
	switch {
	case t.Model == nil || t.Loss == nil || t.Opt == nil || t.Train == nil:
		return errors.New("train: Model, Loss, Opt and Train are required")
	case t.Config.Epochs <= 0:
		return fmt.Errorf("train: epochs must be positive, not %d", t.Config.Epochs)
	case t.Config.Batch < 0:
		return fmt.Errorf("train: batch size must be positive, not %d", t.Config.Batch)
	case t.RNG["shuffle"] == nil:
		return errors.New(`train: RNG["shuffle"] is required`)
	case t.Train.Len() == 0:
		return errors.New("train: the training set is empty")
	}
	return nil
}

// Run trains until Config.Epochs epochs are done (counting those restored
// by Resume), early stopping fires, or ctx is cancelled (then it returns
// ctx's error after the epoch in progress is abandoned; the last checkpoint
// stays).
func (t *Trainer) Run(ctx context.Context) (Result, error) {
	if err := t.check(); err != nil {
		return Result{}, err
	}
	if t.Config.Batch == 0 {
		t.Config.Batch = 64
	}
	if t.epoch == 0 {
		t.best = math.Inf(1)
	}
	if t.Config.Dir != "" {
		if err := os.MkdirAll(t.Config.Dir, 0o755); err != nil {
			return Result{}, fmt.Errorf("train: %w", err)
		}
	}
	t.loader = data.NewLoader(t.Train, t.Config.Batch, true, t.Config.DropLast, rand.New(t.RNG["shuffle"]))
	res := Result{}
	for t.epoch < t.Config.Epochs {
		m, err := t.runEpoch(ctx)
		if err != nil {
			res.History = t.history
			return res, err
		}
		t.history = append(t.history, m)
		if err := t.endEpoch(m); err != nil {
			res.History = t.history
			return res, err
		}
		if t.Config.Patience > 0 && t.bad >= t.Config.Patience {
			res.Stopped = fmt.Sprintf("early stopping: validation loss did not improve for %d epochs", t.bad)
			break
		}
	}
	res.History = t.history
	if t.Config.Dir != "" {
		if err := SaveModel(filepath.Join(t.Config.Dir, "model.safetensors"), t.Model, t.Config.Metadata); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (t *Trainer) runEpoch(ctx context.Context) (Metrics, error) {
	epoch := t.epoch + 1
	start := time.Now()
	nn.SetTraining(t.Model, true)
	var weights []*ag.Node
	params := t.Model.Params()
	for _, p := range params {
		if p.Node.Value().Dims() >= 2 {
			weights = append(weights, p.Node)
		}
	}
	nodes := make([]*ag.Node, len(params))
	for i, p := range params {
		nodes[i] = p.Node
	}
	var sumLoss float64
	var correct, seen int
	var lastDraw time.Time
	nb := t.loader.NumBatches()
	t.loader.Reset()
	for b := 0; ; b++ {
		if err := ctx.Err(); err != nil {
			return Metrics{}, err
		}
		x, y, ok := t.loader.Next()
		if !ok {
			break
		}
		if t.Schedule != nil {
			t.Opt.SetLR(t.Schedule.LR(t.step))
		}
		logits := t.Model.Forward(ag.Const(x))
		l := t.Loss(logits, y)
		if v := l.Item(); math.IsNaN(v) || math.IsInf(v, 0) {
			return Metrics{}, &NonFiniteError{Epoch: epoch, Step: t.step + 1, Loss: v}
		}
		sumLoss += l.Item() * float64(len(y))
		correct += countCorrect(logits.Value(), y)
		seen += len(y)
		if t.Config.L1 > 0 {
			l = ag.Add(l, loss.L1(weights, t.Config.L1))
		}
		if t.Config.L2 > 0 {
			l = ag.Add(l, loss.L2(weights, t.Config.L2))
		}
		t.Opt.ZeroGrad()
		ag.Backward(l)
		if t.Config.Record != nil {
			t.Config.Record(t.step + 1)
		}
		if t.Config.ClipNorm > 0 {
			optim.ClipGradNorm(nodes, t.Config.ClipNorm)
		}
		t.Opt.Step()
		t.step++
		if t.Config.Progress && t.Config.Log != nil && time.Since(lastDraw) >= 100*time.Millisecond {
			drawBar(t.Config.Log, epoch, t.Config.Epochs, b+1, nb, sumLoss/float64(seen))
			lastDraw = time.Now()
		}
	}
	m := Metrics{
		Epoch: epoch, Step: t.step, LR: t.Opt.LR(),
		TrainLoss: sumLoss / float64(max(seen, 1)), TrainAcc: float64(correct) / float64(max(seen, 1)),
		// Training throughput, before the validation pass below.
		SamplesPerSec: float64(seen) / max(time.Since(start).Seconds(), 1e-9),
	}
	if t.Val != nil && t.Val.Len() > 0 {
		ev := Evaluate(t.Model, t.Loss, t.Val, max(t.Config.Batch, 256))
		m.ValLoss, m.ValAcc = &ev.Loss, &ev.Accuracy
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}

// endEpoch updates the early-stopping and plateau state, logs, and writes
// the metrics line and the checkpoint.
func (t *Trainer) endEpoch(m Metrics) error {
	t.epoch = m.Epoch
	monitor := m.TrainLoss
	if m.ValLoss != nil {
		monitor = *m.ValLoss
	}
	if monitor < t.best {
		t.best, t.bad = monitor, 0
	} else {
		t.bad++
	}
	if p, ok := t.Schedule.(interface{ Report(float64) }); ok {
		p.Report(monitor)
	}
	if t.Config.Log != nil {
		if t.Config.Progress {
			fmt.Fprint(t.Config.Log, "\r\033[K")
		}
		fmt.Fprintln(t.Config.Log, formatMetrics(m, t.Config.Epochs))
	}
	if t.Config.Dir == "" {
		return nil
	}
	line, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(t.Config.Dir, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("train: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return t.saveCheckpoint(filepath.Join(t.Config.Dir, CheckpointFile))
}

func formatMetrics(m Metrics, epochs int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "epoch %*d/%d  loss %.4f  acc %6.2f%%", len(fmt.Sprint(epochs)), m.Epoch, epochs, m.TrainLoss, 100*m.TrainAcc)
	if m.ValLoss != nil {
		fmt.Fprintf(&sb, "  val_loss %.4f  val_acc %6.2f%%", *m.ValLoss, 100**m.ValAcc)
	}
	fmt.Fprintf(&sb, "  lr %.3g  %.0f samples/s", m.LR, m.SamplesPerSec)
	return sb.String()
}

func drawBar(w io.Writer, epoch, epochs, done, total int, loss float64) {
	const width = 30
	if total == 0 {
		return
	}
	fill := done * width / total
	fmt.Fprintf(w, "\r\033[Kepoch %d/%d [%s%s] %3d%%  loss %.4f", epoch, epochs,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*done/total, loss)
}

func countCorrect(logits *tensor.Tensor, y []int) int {
	pred := tensor.ArgMax(logits, 1)
	n := 0
	for i, p := range pred {
		if p == y[i] {
			n++
		}
	}
	return n
}

// EvalResult is a model's score on a data set.
type EvalResult struct {
	Loss, Accuracy float64
	Confusion      [][]int // Confusion[true][predicted]
	N              int
}

// Evaluate runs model on ds in evaluation mode (no dropout) in batches and
// returns the mean loss, the accuracy and the confusion matrix. The inputs
// are ag.Untracked, so no graph is recorded, and evaluating on one
// goroutine while another trains the same model is safe; the model's
// training mode is restored afterwards.
func Evaluate(model nn.Module, lossFn LossFunc, ds data.Dataset, batch int) EvalResult {
	was := nn.IsTraining(model)
	nn.SetTraining(model, false)
	defer nn.SetTraining(model, was)
	c := ds.Classes()
	res := EvalResult{Confusion: make([][]int, c)}
	for i := range res.Confusion {
		res.Confusion[i] = make([]int, c)
	}
	loader := data.NewLoader(ds, batch, false, false, nil)
	var sum float64
	for {
		x, y, ok := loader.Next()
		if !ok {
			break
		}
		logits := model.Forward(ag.Untracked(x))
		sum += lossFn(logits, y).Item() * float64(len(y))
		for i, p := range tensor.ArgMax(logits.Value(), 1) {
			if y[i] >= 0 && y[i] < c && p < c {
				res.Confusion[y[i]][p]++
			}
			if p == y[i] {
				res.Accuracy++
			}
		}
		res.N += len(y)
	}
	res.Loss = sum / float64(max(res.N, 1))
	res.Accuracy /= float64(max(res.N, 1))
	return res
}
