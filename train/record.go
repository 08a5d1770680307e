package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/fsutil"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// RecordsFile is the gradient-flow records' name inside a run folder.
const RecordsFile = "records.jsonl"

// Thresholds of the activation statistics in a LayerRecord.
const (
	// SigmoidSaturation: a sigmoid output s counts as saturated when
	// |s − 0.5| > SigmoidSaturation, i.e. s < 0.01 or s > 0.99, where
	// σ'(x) = s(1−s) < 0.0099, under 4% of its peak 0.25.
	SigmoidSaturation = 0.49
	// TanhSaturation: a tanh output t counts as saturated when
	// |t| > TanhSaturation, where tanh'(x) = 1 − t² < 0.0199, under 2% of
	// its peak 1.
	TanhSaturation = 0.99
)

// DefaultBins is the number of histogram bins a Recorder uses when Bins is 0.
const DefaultBins = 40

// StepRecord is one line of records.jsonl: the state of every layer of the
// model at one optimiser step, after its backward pass and before the
// optimiser moved the weights.
type StepRecord struct {
	Step   int           `json:"step"`
	Layers []LayerRecord `json:"layers"`
}

// LayerRecord describes one leaf layer of the model (a Linear, an
// activation, a Dropout, …) at one step. Gradients are those of the
// training loss (penalties included) averaged over the mini-batch, as the
// optimiser sees them before any clipping.
type LayerRecord struct {
	Index int    `json:"index"` // position among the leaf layers (the Sequential index for a flat model)
	Path  string `json:"path"`  // the layer's path in the module tree, as in parameter names ("3", "1.0")
	Layer string `json:"layer"` // "Linear(2, 64)", "ReLU()"
	Kind  string `json:"kind"`  // "linear", an activation's name ("relu", "tanh"), "dropout", or the spec's kind in lower case
	// Fused is set for a layer computed in one op with the next (a Linear
	// before a ReLU): its output never exists, so its output statistics
	// are left empty and the next layer's describe the fused result.
	Fused bool `json:"fused,omitempty"`
	// WeightGradNorm and BiasGradNorm are ‖∂L/∂W‖₂ and ‖∂L/∂b‖₂ (Frobenius);
	// WeightNorm is ‖W‖₂. Only for layers with a weight of two or more
	// dimensions (Linear, Conv2d, ConvTranspose2d).
	WeightGradNorm *float64 `json:"weight_grad_norm,omitempty"`
	BiasGradNorm   *float64 `json:"bias_grad_norm,omitempty"`
	WeightNorm     *float64 `json:"weight_norm,omitempty"`
	// OutGradNorm is ‖∂L/∂y‖₂ over the whole batch, y the layer's output.
	OutGradNorm float64 `json:"out_grad_norm"`
	// Mean and Std (population) of the layer's outputs over batch and units.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	// Dead, for ReLU and Leaky ReLU: the fraction of units whose output is
	// exactly 0 for every example of the batch (and, for [B, C, H, W]
	// outputs, every position): units are the last dimension of a 2-D
	// output and the channels (dimension 1) of a higher one.
	Dead *float64 `json:"dead,omitempty"`
	// Zero, for ReLU and Leaky ReLU: the fraction of all outputs exactly 0.
	Zero *float64 `json:"zero,omitempty"`
	// Saturated, for sigmoid and tanh: the fraction of outputs beyond
	// SigmoidSaturation or TanhSaturation.
	Saturated *float64 `json:"saturated,omitempty"`
	// Hist is a histogram of the outputs on bins fixed by the layer's kind.
	Hist Histogram `json:"hist"`
}

// Histogram counts values in len(Counts) equal bins over [Lo, Hi); values
// below Lo or at or above Hi are counted in Below and Above instead.
type Histogram struct {
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Counts []int   `json:"counts"`
	Below  int     `json:"below"`
	Above  int     `json:"above"`
}

// histRangeFor is the layer kind's HistRange, widened to hold every
// value of t (rounded outward to 1, 2 or 5 × 10ᵏ), so that no layer's
// histogram is empty because its values fall outside a fixed range (the
// logits of a trained network often do).
func histRangeFor(kind string, vs []float64) (lo, hi float64) {
	lo, hi = HistRange(kind)
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			vmin, vmax = min(vmin, v), max(vmax, v)
		}
	}
	if vmin < lo {
		lo = -niceCeil(-vmin)
	}
	if vmax >= hi {
		hi = niceCeil(vmax * (1 + 1e-9))
	}
	return lo, hi
}

// niceCeil is the least 1, 2 or 5 × 10ᵏ at least x (x > 0); 0 for x ≤ 0.
func niceCeil(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// HistRange is the default histogram range for a layer of the given kind:
// [0, 1] for sigmoid, [−1, 1] for tanh, [0, 4] for ReLU, [−4, 4]
// otherwise (Linear pre-activations, GELU, ELU, …). A record widens it to
// hold all of the layer's values (rounded outward to 1, 2 or 5 × 10ᵏ), so
// histograms of different steps stay comparable while nothing falls
// outside.
func HistRange(kind string) (lo, hi float64) {
	switch kind {
	case "sigmoid":
		return 0, 1
	case "tanh":
		return -1, 1
	case "relu":
		return 0, 4
	}
	return -4, 4
}

// Recorder records gradient flow and activation statistics of a model
// (any module tree; nn.Trace reaches the layers inside Sequentials) during
// training: per layer, the norm of the weight
// gradient and of the gradient with respect to the layer's output, and
// the mean, standard deviation, dead or saturated fraction and a histogram
// of the layer's outputs. It records at step 1 and every Every steps.
//
// A Recorder is an nn.Module that wraps the model: in training mode its
// Forward runs the layers through nn.Trace (the values and gradients of
// the model's Forward, its fused runs cut after each activation so that
// the activation's output exists) and marks each output with RetainGrad
// when the coming step is one to record;
// its Record method, the trainer's Config.Record hook, reads the gradients
// after the backward pass. Params and SetTraining pass through, so
// checkpoints and model files are those of the bare model. Attach sets all
// this up on a Trainer.
//
// The zero value is not usable; build one with NewRecorder.
type Recorder struct {
	Model nn.Module
	Every int // record at step 1 and every Every steps; below 1 means every step
	Bins  int // histogram bins; 0: DefaultBins
	// Keep, when set, keeps every record in Records as well as writing it.
	Keep    bool
	Records []StepRecord

	path     string // records file, "" for none
	training bool
	next     int         // the step of the coming backward pass; 0: unknown
	outs     []nn.Traced // the traced outputs of the last forward pass
	err      error
}

// NewRecorder returns a recorder of model that records every `every`
// steps. It writes nowhere until Attach (or SetFile) names a file; set
// Keep to collect the records in memory.
func NewRecorder(model nn.Module, every int) *Recorder {
	return &Recorder{Model: model, Every: every, training: true}
}

// Attach hooks r into t: t.Model becomes r (which must wrap the model t
// was built with), t.Config.Record calls r.Record (after any hook already
// set), and, when t has a run folder, records go to RecordsFile in it.
// Call it after Resume: lines of a resumed run's file for steps after the
// checkpoint (written before the run was killed, and about to be redone)
// are dropped, so the file stays one line per recorded step.
func (r *Recorder) Attach(t *Trainer) error {
	if t.Model != nn.Module(r.Model) {
		return errors.New("train: Recorder.Attach: the trainer's model is not the recorder's")
	}
	t.Model = r
	prev := t.Config.Record
	t.Config.Record = func(step int) {
		if prev != nil {
			prev(step)
		}
		r.Record(step)
	}
	r.next = t.step + 1
	if t.Config.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(t.Config.Dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return r.SetFile(filepath.Join(t.Config.Dir, RecordsFile), t.step)
}

// SetFile makes r append its records to path, first dropping any lines
// of an existing file for steps after afterStep.
func (r *Recorder) SetFile(path string, afterStep int) error {
	r.path = path
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(nil, 1<<28)
	for sc.Scan() {
		var s struct {
			Step int `json:"step"`
		}
		if json.Unmarshal(sc.Bytes(), &s) != nil || s.Step > afterStep {
			break
		}
		keep.Write(sc.Bytes())
		keep.WriteByte('\n')
	}
	if keep.Len() == len(old) {
		return nil
	}
	if err := fsutil.WriteFile(path, 0o644, func(w io.Writer) error { _, err := w.Write(keep.Bytes()); return err }); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// Err is the first error met writing records (Record cannot return one).
func (r *Recorder) Err() error { return r.err }

// wants reports whether step is recorded.
func (r *Recorder) wants(step int) bool {
	return step == 1 || r.Every <= 1 || step%r.Every == 0
}

// Forward applies the model. In training mode, when the coming step is to
// be recorded (or is not known), it keeps every layer's output for Record.
func (r *Recorder) Forward(x *ag.Node) *ag.Node {
	if !r.training || !ag.Recording() || (r.next > 0 && !r.wants(r.next)) {
		r.outs = nil
		return r.Model.Forward(x)
	}
	y, outs := nn.Trace(r.Model, x)
	for _, o := range outs {
		if o.Out != nil {
			o.Out.RetainGrad()
		}
	}
	r.outs = outs
	return y
}

// Params are the model's.
func (r *Recorder) Params() []nn.Param { return r.Model.Params() }

// Children makes the model reachable by nn.Walk, nn.Buffers and
// nn.StateDict under its own names (the recorder adds no level).
func (r *Recorder) Children() []nn.Child { return []nn.Child{{Name: "", Module: r.Model}} }

// Spec is the model's, so that a model file written through the recorder
// describes the model.
func (r *Recorder) Spec() nn.Spec {
	s, _ := nn.SpecOf(r.Model)
	return s
}

// SetTraining switches the recorder between training and evaluation
// (nn.SetTraining reaches the model through Children): evaluation passes
// are never recorded.
func (r *Recorder) SetTraining(on bool) { r.training = on }

// Record is the trainer's hook, called after the backward pass of the
// given step: when the step is one to record and the forward pass was
// traced, it measures every layer and writes the record.
func (r *Recorder) Record(step int) {
	r.next = step + 1
	outs := r.outs
	r.outs = nil
	if !r.wants(step) || len(outs) == 0 {
		return
	}
	rec := Measure(outs, r.Bins)
	rec.Step = step
	if r.Keep {
		r.Records = append(r.Records, rec)
	}
	if r.path == "" || r.err != nil {
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		r.err = fmt.Errorf("train: records: %w", err)
		return
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		r.err = fmt.Errorf("train: records: %w", err)
		return
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.err = fmt.Errorf("train: records: %w", err)
	}
}

// Measure computes the record of the layers in outs, as nn.Trace returned
// them, after a backward pass with every output marked RetainGrad (an
// output without a gradient, such as one the loss does not depend on, has
// OutGradNorm 0). bins ≤ 0 means DefaultBins. The step is left 0.
func Measure(outs []nn.Traced, bins int) StepRecord {
	if bins <= 0 {
		bins = DefaultBins
	}
	rec := StepRecord{Layers: make([]LayerRecord, len(outs))}
	for i, tr := range outs {
		m := tr.Module
		lr := LayerRecord{Index: i, Path: tr.Path, Layer: layerName(m), Kind: layerKind(m)}
		// Layers with a weight matrix or kernel (Linear, Conv2d, …): a
		// parameter "weight" of two or more dimensions.
		for _, p := range m.Params() {
			switch {
			case p.Name == "weight" && p.Node.Value().Dims() >= 2:
				lr.WeightGradNorm = ptr(norm(p.Node.Grad()))
				lr.WeightNorm = ptr(norm(p.Node.Value()))
			case p.Name == "bias" && lr.WeightGradNorm != nil:
				lr.BiasGradNorm = ptr(norm(p.Node.Grad()))
			}
		}
		if tr.Out == nil {
			lr.Fused = true
			rec.Layers[i] = lr
			continue
		}
		lr.OutGradNorm = norm(tr.Out.Grad())
		v := tr.Out.Value().Values() // one float64 copy, read by every statistic
		lr.Mean, lr.Std = meanStd(v)
		switch lr.Kind {
		case "relu", "leaky-relu":
			dead, zero := deadFraction(v, tr.Out.Shape())
			lr.Dead, lr.Zero = &dead, &zero
		case "sigmoid":
			lr.Saturated = ptr(saturated(v, 0.5, SigmoidSaturation))
		case "tanh":
			lr.Saturated = ptr(saturated(v, 0, TanhSaturation))
		}
		lo, hi := histRangeFor(lr.Kind, v)
		lr.Hist = histogram(v, lo, hi, bins)
		rec.Layers[i] = lr
	}
	return rec
}

func ptr(v float64) *float64 { return &v }

func layerName(m nn.Module) string {
	if s, ok := m.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", m)
}

func layerKind(m nn.Module) string {
	switch m := m.(type) {
	case *nn.Linear:
		return "linear"
	case *nn.Activation:
		return m.Name()
	case *nn.Dropout:
		return "dropout"
	}
	if s, ok := m.(nn.Specer); ok {
		return strings.ToLower(s.Spec().Type)
	}
	return fmt.Sprintf("%T", m)
}

// norm is the L2 (Frobenius) norm of t, 0 for nil.
func norm(t *tensor.Tensor) float64 {
	if t == nil {
		return 0
	}
	var s float64
	for _, v := range t.Values() {
		s += v * v
	}
	return math.Sqrt(s)
}

func meanStd(vs []float64) (mean, std float64) {
	if len(vs) == 0 {
		return 0, 0
	}
	for _, v := range vs {
		mean += v
	}
	mean /= float64(len(vs))
	var ss float64
	for _, v := range vs {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(vs)))
}

// deadFraction returns, for outputs vs of the given shape, the fraction
// of units whose output is exactly 0 for every example, and the fraction
// of all outputs that are exactly 0.
func deadFraction(vs []float64, shape []int) (dead, zero float64) {
	if len(vs) == 0 {
		return 0, 0
	}
	// unit(i) is the unit of flat index i: the last dimension of a 2-D
	// (or 1-D) output, the channel (dimension 1) of [B, C, …].
	units, inner := 1, 1
	switch {
	case len(shape) > 2:
		units = shape[1]
		for _, d := range shape[2:] {
			inner *= d
		}
	case len(shape) > 0:
		units = shape[len(shape)-1]
	}
	alive := make([]bool, units)
	zeros := 0
	for i, v := range vs {
		if v == 0 {
			zeros++
		} else {
			alive[(i/inner)%units] = true
		}
	}
	nDead := 0
	for _, a := range alive {
		if !a {
			nDead++
		}
	}
	return float64(nDead) / float64(units), float64(zeros) / float64(len(vs))
}

func saturated(vs []float64, centre, limit float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	n := 0
	for _, v := range vs {
		if math.Abs(v-centre) > limit {
			n++
		}
	}
	return float64(n) / float64(len(vs))
}

func histogram(vs []float64, lo, hi float64, bins int) Histogram {
	h := Histogram{Lo: lo, Hi: hi, Counts: make([]int, bins)}
	w := (hi - lo) / float64(bins)
	for _, v := range vs {
		switch {
		case v < lo || math.IsNaN(v):
			h.Below++
		case v >= hi:
			h.Above++
		default:
			h.Counts[min(int((v-lo)/w), bins-1)]++
		}
	}
	return h
}

// ReadRecords reads a records file (RecordsFile) written by a Recorder.
// When a step appears more than once, the last line wins.
func ReadRecords(path string) ([]StepRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var out []StepRecord
	at := map[int]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<28)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec StepRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("train: %s line %d: %v", path, n, err)
		}
		if i, ok := at[rec.Step]; ok {
			out[i] = rec
			continue
		}
		at[rec.Step] = len(out)
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	return out, nil
}

// ReadMetrics reads a run folder's metrics.jsonl: one Metrics per epoch.
// When an epoch appears more than once (a run killed between writing its
// metrics and its checkpoint, then resumed), the last line wins.
func ReadMetrics(path string) ([]Metrics, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var out []Metrics
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m Metrics
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("train: %s line %d: %v", path, n+1, err)
		}
		for len(out) > 0 && out[len(out)-1].Epoch >= m.Epoch {
			out = out[:len(out)-1]
		}
		out = append(out, m)
	}
	return out, nil
}
