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
	"github.com/nabla-go/nabla/internal/fsutil"
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
	// OnStep, when set, is called after every optimiser step with its
	// result (a live view's hook); OnEpoch after every epoch, once its
	// metrics line and checkpoint are written. Neither changes the
	// training: a run with hooks gives the same bits as one without.
	OnStep  func(StepResult)
	OnEpoch func(Metrics)
	// Augment, when set, transforms each training batch in place before
	// the forward pass (random crops and flips: data.RandomCrop,
	// data.RandomHFlip). It must draw only from a generator listed in
	// Trainer.RNG, so that a checkpoint saves its state and a resumed run
	// gives the same bits. Evaluation batches are never augmented.
	Augment func(x *tensor.Tensor)
}

// StepResult is what one optimiser step reports.
type StepResult struct {
	Epoch   int     // the epoch the step belongs to (from 1)
	Step    int     // the optimiser step, counted over the whole run (from 1)
	Loss    float64 // the batch's mean loss, before penalties
	Correct int     // examples of the batch classified right
	N       int     // examples in the batch
	LR      float64 // the learning rate the step used
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
	// Test, when set, is scored after every epoch too (for the learning
	// curves only: it never steers early stopping or a schedule).
	Test   data.Dataset
	Config Config
	// RNG names the generators whose state a checkpoint must save. "shuffle"
	// orders the training set each epoch and is required; add the one the
	// model's Dropout layers draw from, under any other name.
	RNG map[string]*rand.PCG

	epoch, step int     // completed epochs and optimiser steps
	best        float64 // best validation loss so far
	bad         int     // epochs since it improved
	history     []Metrics
	loader      *data.Loader
	started     bool
	release     func() error // the run folder's lock, when held
	saved       bool         // a checkpoint exists in Dir (written or resumed)
	warned      map[string]bool
	warnings    []string
	weights     []*ag.Node // parameters with ≥ 2 dimensions (penalised)
	nodes       []*ag.Node // every parameter
	dtype       tensor.DType
	x64         []float64 // a float32 batch converted for a float64 model (see convert)
}

// Metrics is one epoch's line in metrics.jsonl.
type Metrics struct {
	Epoch         int      `json:"epoch"`
	Step          int      `json:"step"`
	TrainLoss     float64  `json:"train_loss"`
	TrainAcc      float64  `json:"train_acc"`
	ValLoss       *float64 `json:"val_loss,omitempty"`
	ValAcc        *float64 `json:"val_acc,omitempty"`
	TestLoss      *float64 `json:"test_loss,omitempty"` // with Trainer.Test
	TestAcc       *float64 `json:"test_acc,omitempty"`
	LR            float64  `json:"lr"`
	SamplesPerSec float64  `json:"samples_per_sec"` // training examples per second, validation excluded
	Seconds       float64  `json:"seconds"`         // the whole epoch, validation included
}

// Result summarises a finished run.
type Result struct {
	History []Metrics // every epoch, including those before a resume
	Stopped string    // why the run ended early, or ""
	// Warnings are signs that the run did not learn: a loss that grew by
	// orders of magnitude, an accuracy that stayed at chance.
	Warnings []string
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
	// Checkpoint is the checkpoint kept from before the failure ("" when
	// none was written: the run failed in its first epoch, or has no run
	// folder), and CheckpointEpoch its epoch.
	Checkpoint      string
	CheckpointEpoch int
}

func (e *NonFiniteError) Error() string {
	msg := fmt.Sprintf("loss became %v at epoch %d, step %d; lower the learning rate or clip gradients", e.Loss, e.Epoch, e.Step)
	if e.Checkpoint == "" {
		return msg + " (no checkpoint was saved before it)"
	}
	return fmt.Sprintf("%s (the checkpoint of epoch %d is kept: %s)", msg, e.CheckpointEpoch, e.Checkpoint)
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
// stays). With a run folder it holds the folder's lock (Lock) while it
// runs and writes the final model file (ModelFile) at the end.
//
// Run is Start, then RunEpoch until Done, then Finish; a caller that
// wants to step from outside (a live view, a notebook) calls those, or
// Start and Step, itself: the bits are the same.
func (t *Trainer) Run(ctx context.Context) (Result, error) {
	if err := t.Start(); err != nil {
		return Result{}, err
	}
	defer t.Unlock()
	res := Result{}
	for !t.Done() {
		if _, err := t.RunEpoch(ctx); err != nil {
			res.History, res.Warnings = t.history, t.warnings
			return res, err
		}
		if t.Config.Patience > 0 && t.bad >= t.Config.Patience {
			res.Stopped = fmt.Sprintf("early stopping: validation loss did not improve for %d epochs", t.bad)
			break
		}
	}
	res.History = t.history
	err := t.Finish()
	res.Warnings = t.warnings
	return res, err
}

// Lock takes the run folder's lock (a file .lock naming this process),
// creating the folder if needed, so that no second process trains in it
// at the same time; a folder another process holds is an error naming
// that process. It does nothing without a run folder or when the lock is
// held already. Run and Resume take it; Unlock (or the end of Run) lets
// go of it.
func (t *Trainer) Lock() error {
	if t.Config.Dir == "" || t.release != nil {
		return nil
	}
	if err := os.MkdirAll(t.Config.Dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	rel, err := fsutil.Lock(t.Config.Dir)
	if err != nil {
		return err
	}
	t.release = rel
	return nil
}

// Unlock lets go of the run folder's lock, if held.
func (t *Trainer) Unlock() {
	if t.release != nil {
		t.release()
		t.release = nil
	}
}

// Start checks the trainer, takes the run folder's lock, removes temporary
// files a killed run left there, checks that the folder can be written
// (before any training, not after an epoch) and sets up the loader. Run
// calls it; call it yourself before Step or RunEpoch. It may be called
// again (it does nothing then).
func (t *Trainer) Start() error {
	if t.started {
		return nil
	}
	if err := t.check(); err != nil {
		return err
	}
	if t.Config.Batch == 0 {
		t.Config.Batch = 64
	}
	if t.epoch == 0 {
		t.best = math.Inf(1)
	}
	if t.Config.Dir != "" {
		if err := t.Lock(); err != nil {
			return err
		}
		if _, err := fsutil.CleanTemps(t.Config.Dir); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if err := fsutil.CheckWritable(t.Config.Dir, MetricsFile); err != nil {
			return fmt.Errorf("train: the run folder cannot be written: %w", err)
		}
	}
	params := t.Model.Params()
	t.nodes = make([]*ag.Node, len(params))
	for i, p := range params {
		t.nodes[i] = p.Node
		if p.Node.Value().Dims() >= 2 {
			t.weights = append(t.weights, p.Node)
		}
	}
	t.dtype = nn.DTypeOf(t.Model)
	// Step keeps nothing of a batch, so the loader gathers every batch
	// into the same buffer.
	t.loader = data.NewLoader(t.Train, t.Config.Batch, true, t.Config.DropLast, rand.New(t.RNG["shuffle"])).ReuseBuffers()
	t.started = true
	return nil
}

// Done reports whether the run has trained Config.Epochs epochs.
func (t *Trainer) Done() bool { return t.epoch >= t.Config.Epochs }

// Finish writes the final model file (with a run folder).
func (t *Trainer) Finish() error {
	if t.Config.Dir == "" {
		return nil
	}
	return SaveModel(filepath.Join(t.Config.Dir, ModelFile), t.Model, t.Config.Metadata)
}

// Step runs one optimiser step on the batch x, y: forward, loss (plus the
// penalties), backward, the Record hook, clipping, the step, the release
// of the step's graph (ag.Release: its activations are recycled for the
// next step, so a Record hook copies what it keeps), and OnStep.
// x is converted to the model's dtype. A loss that is NaN or infinite is
// a *NonFiniteError, and nothing is updated then. Start must have been
// called. Step keeps nothing of x and y once it returns, so the caller may
// overwrite them (Run passes the batches of a loader that reuses one
// buffer, data.Loader.ReuseBuffers).
func (t *Trainer) Step(x *tensor.Tensor, y []int) (StepResult, error) {
	if !t.started {
		return StepResult{}, errors.New("train: Step before Start")
	}
	if t.Config.Augment != nil {
		t.Config.Augment(x) // in place: the loader refills its buffer for the next batch
	}
	if x.DType() != t.dtype {
		x = t.convert(x)
	}
	if t.Schedule != nil {
		// The rate (per parameter group) and, for schedules that cycle it
		// (one-cycle), the momentum, as PyTorch's schedulers set them.
		optim.ApplySchedule(t.Opt, t.Schedule, t.step)
	}
	logits := t.Model.Forward(ag.Const(x))
	l := t.Loss(logits, y)
	v := l.Item()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e := &NonFiniteError{Epoch: t.epoch + 1, Step: t.step + 1, Loss: v}
		if t.saved {
			e.Checkpoint, e.CheckpointEpoch = filepath.Join(t.Config.Dir, CheckpointFile), t.epoch
		}
		return StepResult{}, e
	}
	res := StepResult{Epoch: t.epoch + 1, Step: t.step + 1, Loss: v, Correct: countCorrect(logits.Value(), y), N: len(y), LR: t.Opt.LR()}
	if t.Config.L1 > 0 {
		l = ag.Add(l, loss.L1(t.weights, t.Config.L1))
	}
	if t.Config.L2 > 0 {
		l = ag.Add(l, loss.L2(t.weights, t.Config.L2))
	}
	t.Opt.ZeroGrad()
	ag.Backward(l)
	if t.Config.Record != nil {
		t.Config.Record(t.step + 1)
	}
	if t.Config.ClipNorm > 0 {
		optim.ClipGradNorm(t.nodes, t.Config.ClipNorm)
	}
	t.Opt.Step()
	// The step's activations go back to the pool for the next step's
	// ops (its metrics are in res; hooks have copied what they keep).
	ag.Release(l)
	t.step++
	if t.Config.OnStep != nil {
		t.Config.OnStep(res)
	}
	return res, nil
}

// convert returns x in the model's dtype (see toDType), reusing the
// trainer's buffer from step to step (Step keeps nothing of it).
func (t *Trainer) convert(x *tensor.Tensor) *tensor.Tensor { return toDType(x, t.dtype, &t.x64) }

// toDType returns x in dtype dt. A contiguous float32 batch for a float64
// model goes into *buf, which is reused from call to call (so the result
// is valid until the next call), instead of a new tensor every batch; the
// values are those of x.AsType.
func toDType(x *tensor.Tensor, dt tensor.DType, buf *[]float64) *tensor.Tensor {
	if x.DType() == dt {
		return x
	}
	if dt != tensor.Float64 || x.DType() != tensor.Float32 || !x.IsContiguous() {
		return x.AsType(dt)
	}
	n := x.Len()
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	b := (*buf)[:n]
	for i, v := range x.Float32s() {
		b[i] = float64(v)
	}
	return tensor.FromFloat64(b, x.Shape()...)
}

// RunEpoch trains one epoch over the shuffled training set, evaluates the
// validation set, writes the checkpoint and the metrics line (with a run
// folder), calls OnEpoch, and returns the epoch's metrics. Start must have
// been called.
func (t *Trainer) RunEpoch(ctx context.Context) (Metrics, error) {
	if !t.started {
		return Metrics{}, errors.New("train: RunEpoch before Start")
	}
	m, err := t.runEpoch(ctx)
	if err != nil {
		return m, err
	}
	t.history = append(t.history, m)
	if err := t.endEpoch(m); err != nil {
		return m, err
	}
	if t.Config.OnEpoch != nil {
		t.Config.OnEpoch(m)
	}
	return m, nil
}

func (t *Trainer) runEpoch(ctx context.Context) (Metrics, error) {
	epoch := t.epoch + 1
	start := time.Now()
	nn.SetTraining(t.Model, true)
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
		r, err := t.Step(x, y)
		if err != nil {
			return Metrics{}, err
		}
		sumLoss += r.Loss * float64(r.N)
		correct += r.Correct
		seen += r.N
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
	if t.Test != nil && t.Test.Len() > 0 {
		ev := Evaluate(t.Model, t.Loss, t.Test, max(t.Config.Batch, 256))
		m.TestLoss, m.TestAcc = &ev.Loss, &ev.Accuracy
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}

// warn records a warning once per key and logs it.
func (t *Trainer) warn(key, msg string) {
	if t.warned == nil {
		t.warned = map[string]bool{}
	}
	if t.warned[key] {
		return
	}
	t.warned[key] = true
	t.warnings = append(t.warnings, msg)
	if t.Config.Log != nil {
		if t.Config.Progress {
			fmt.Fprint(t.Config.Log, "\r\033[K")
		}
		fmt.Fprintln(t.Config.Log, "warning: "+msg)
	}
}

// checkLearning warns when the loss has grown by orders of magnitude
// since the best epoch, or when the training accuracy is still at chance
// after a quarter of the run (at least 3 epochs).
func (t *Trainer) checkLearning(m Metrics) {
	best := math.Inf(1)
	for _, h := range t.history[:len(t.history)-1] {
		best = min(best, h.TrainLoss)
	}
	if best > 0 && m.TrainLoss > 100*best && !math.IsInf(best, 1) {
		t.warn("diverging", fmt.Sprintf("the training loss grew from %.4g to %.4g by epoch %d: training is diverging (lower the learning rate, or clip gradients)", best, m.TrainLoss, m.Epoch))
	}
	c := t.Train.Classes()
	if c < 2 || m.Epoch < max(3, t.Config.Epochs/4) {
		return
	}
	chance := 1 / float64(c)
	if m.TrainAcc <= chance+0.25*(1-chance)/float64(c) {
		t.warn("chance", fmt.Sprintf("training accuracy %.1f%% after %d epochs is at chance level (%.1f%% for %d classes): the network is not learning (check the learning rate)", 100*m.TrainAcc, m.Epoch, 100*chance, c))
	}
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
	t.checkLearning(m)
	if t.Config.Dir == "" {
		return nil
	}
	// The checkpoint first, then the metrics line: a kill between the two
	// leaves metrics.jsonl one line short, and Resume rewrites it from the
	// checkpoint's history, so the two always agree after a resume.
	if err := t.saveCheckpoint(filepath.Join(t.Config.Dir, CheckpointFile)); err != nil {
		return err
	}
	t.saved = true
	line, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(t.Config.Dir, MetricsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
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
	return nil
}

// MetricsFile is the name of the metrics log inside a run folder: one
// JSON line per epoch.
const MetricsFile = "metrics.jsonl"

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
	var buf [256]int
	n := 0
	for i, p := range argMaxRows(buf[:0], logits) {
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
// returns the mean loss, the accuracy and the confusion matrix. Batches are
// gathered into one reused buffer, converted from bytes for image sets, and
// run through an nn.Predictor: Forward's values with no graph recorded,
// into buffers reused from batch to batch. The model's training mode is
// restored afterwards.
func Evaluate(model nn.Module, lossFn LossFunc, ds data.Dataset, batch int) EvalResult {
	was := nn.IsTraining(model)
	nn.SetTraining(model, false)
	defer nn.SetTraining(model, was)
	c := ds.Classes()
	res := EvalResult{Confusion: make([][]int, c)}
	for i := range res.Confusion {
		res.Confusion[i] = make([]int, c)
	}
	loader := data.NewLoader(ds, batch, false, false, nil).ReuseBuffers()
	dt := nn.DTypeOf(model)
	var sum float64
	var pred []int
	var x64 []float64           // the float64 copy of a batch, reused
	p := nn.NewPredictor(model) // Forward's values, into buffers reused from batch to batch
	for {
		x, y, ok := loader.Next()
		if !ok {
			break
		}
		x = toDType(x, dt, &x64)
		logits := ag.Untracked(p.Predict(x))
		sum += lossFn(logits, y).Item() * float64(len(y))
		pred = argMaxRows(pred[:0], logits.Value())
		for i, p := range pred {
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

// argMaxRows appends to dst the index of the largest value in each row of
// the [B, C] logits, as tensor.ArgMax(logits, 1) does (the first on ties;
// the first NaN, if any), without converting them to float64.
func argMaxRows(dst []int, logits *tensor.Tensor) []int {
	if logits.Dims() != 2 || !logits.IsContiguous() || logits.Dim(1) == 0 {
		return append(dst, tensor.ArgMax(logits, 1)...)
	}
	C := logits.Dim(1)
	switch logits.DType() {
	case tensor.Float64:
		return argMaxFlat(dst, logits.Float64s(), C)
	default:
		return argMaxFlat(dst, logits.Float32s(), C)
	}
}

func argMaxFlat[T float32 | float64](dst []int, v []T, C int) []int {
	for r := 0; r+C <= len(v); r += C {
		row := v[r : r+C]
		best := 0
		for j, x := range row {
			if x != x {
				best = j
				break
			}
			if x > row[best] {
				best = j
			}
		}
		dst = append(dst, best)
	}
	return dst
}
