package train_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(b)) }

// A ReLU layer whose units 0 and 2 see a negative pre-activation for
// every example of the batch, unit 1 for half of them and unit 3 never:
// half the units are dead, and 10 of the 16 outputs are zero.
func TestRecordDeadReLU(t *testing.T) {
	lin := nn.NewLinear(2, 4, tensor.Float64, tensor.NewRand(1))
	lin.Weight.Value().CopyFrom(tensor.FromFloat64([]float64{
		-1, -1, // unit 0: −x0−x1 < 0 on positive inputs
		1, -1, // unit 1: x0−x1, negative for the last two rows
		-2, 0, // unit 2: −2x0 < 0
		1, 1, // unit 3: positive
	}, 4, 2))
	lin.Bias.Value().Fill(0)
	m := nn.NewSequential(lin, nn.ReLU(), nn.NewLinear(4, 3, tensor.Float64, tensor.NewRand(2)))
	x := ag.Const(tensor.FromFloat64([]float64{2, 1, 3, 1, 1, 2, 1, 3}, 4, 2))

	rec := train.NewRecorder(m, 1)
	rec.Keep = true
	l := loss.CrossEntropy(rec.Forward(x), []int{0, 1, 2, 0}, 0)
	ag.Backward(l)
	rec.Record(1)
	if len(rec.Records) != 1 {
		t.Fatalf("%d records, want 1", len(rec.Records))
	}
	relu := rec.Records[0].Layers[1]
	if relu.Kind != "relu" || relu.Dead == nil || relu.Zero == nil {
		t.Fatalf("ReLU layer record %+v", relu)
	}
	if *relu.Dead != 0.5 {
		t.Errorf("dead fraction %v, want 0.5 (units 0 and 2)", *relu.Dead)
	}
	if *relu.Zero != 10.0/16 {
		t.Errorf("zero fraction %v, want 10/16", *relu.Zero)
	}
	if relu.Saturated != nil || rec.Records[0].Layers[0].Dead != nil {
		t.Error("saturation on a ReLU, or a dead fraction on a Linear layer")
	}
	// Mean and std of the ReLU outputs, by hand: rows (0,1,0,3), (0,2,0,4),
	// (0,0,0,3), (0,0,0,4).
	vals := []float64{0, 1, 0, 3, 0, 2, 0, 4, 0, 0, 0, 3, 0, 0, 0, 4}
	var mean, ss float64
	for _, v := range vals {
		mean += v / 16
	}
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	if !near(relu.Mean, mean, 1e-12) || !near(relu.Std, math.Sqrt(ss/16), 1e-12) {
		t.Errorf("mean, std %v, %v; want %v, %v", relu.Mean, relu.Std, mean, math.Sqrt(ss/16))
	}
	total := relu.Hist.Below + relu.Hist.Above
	for _, c := range relu.Hist.Counts {
		total += c
	}
	if total != 16 || len(relu.Hist.Counts) != train.DefaultBins || relu.Hist.Counts[0] != 10 {
		t.Errorf("histogram %+v: want 16 values, %d bins, 10 zeros in the first", relu.Hist, train.DefaultBins)
	}
}

// The recorded norms are those of the gradients ag.Grad computes on a
// separate, identical graph: the weight gradients and the gradients with
// respect to each layer's output.
func TestRecordGradNormsMatchGrad(t *testing.T) {
	for _, act := range []string{"tanh", "sigmoid", "gelu"} {
		m, err := nn.NewMLP(nn.MLPConfig{In: 3, Hidden: []int{5, 4}, Out: 2, Activation: act, DType: tensor.Float64}, tensor.NewRand(7))
		if err != nil {
			t.Fatal(err)
		}
		x := ag.Const(tensor.Normal(tensor.NewRand(8), tensor.Float64, 0, 2, 6, 3))
		y := []int{0, 1, 1, 0, 1, 0}

		rec := train.NewRecorder(m, 1)
		rec.Keep = true
		ag.Backward(loss.CrossEntropy(rec.Forward(x), y, 0))
		rec.Record(1)
		got := rec.Records[0].Layers

		_, traced := nn.Trace(m, x) // no ReLU: nothing is fused, one output per layer
		var outs []*ag.Node
		for _, e := range traced {
			outs = append(outs, e.Out)
		}
		var wrt []*ag.Node
		for _, l := range m.Layers {
			if lin, ok := l.(*nn.Linear); ok {
				wrt = append(wrt, lin.Weight, lin.Bias)
			}
		}
		wrt = append(wrt, outs...)
		grads := ag.Grad(loss.CrossEntropy(outs[len(outs)-1], y, 0), wrt)
		norm := func(n *ag.Node) float64 {
			var s float64
			for _, v := range n.Value().Values() {
				s += v * v
			}
			return math.Sqrt(s)
		}
		k := 0
		for i, l := range m.Layers {
			if _, ok := l.(*nn.Linear); ok {
				if !near(*got[i].WeightGradNorm, norm(grads[k]), 1e-12) || !near(*got[i].BiasGradNorm, norm(grads[k+1]), 1e-12) {
					t.Errorf("%s layer %d: weight/bias gradient norms %v, %v; ag.Grad gives %v, %v",
						act, i, *got[i].WeightGradNorm, *got[i].BiasGradNorm, norm(grads[k]), norm(grads[k+1]))
				}
				k += 2
			} else if got[i].WeightGradNorm != nil {
				t.Errorf("%s layer %d has a weight-gradient norm", act, i)
			}
		}
		for i := range m.Layers {
			if want := norm(grads[k+i]); !near(got[i].OutGradNorm, want, 1e-12) || want == 0 {
				t.Errorf("%s layer %d: output-gradient norm %v, ag.Grad gives %v", act, i, got[i].OutGradNorm, want)
			}
		}
	}
}

// Saturation counts outputs beyond the documented thresholds.
func TestRecordSaturation(t *testing.T) {
	for _, c := range []struct {
		act  *nn.Activation
		want float64
	}{
		// σ(±6) = 0.5±0.4975 and tanh(±3) = ±0.995 are saturated; σ(±3) = 0.5±0.45
		// and tanh(±2) = ±0.96 are not.
		{nn.Sigmoid(), 0.5},
		{nn.Tanh(), 0.5},
	} {
		in := []float64{6, -6, 3, -3}
		if c.act.Name() == "tanh" {
			in = []float64{3, -3, 2, -2}
		}
		m := nn.NewSequential(c.act)
		x := ag.Var(tensor.FromFloat64(in, 2, 2))
		rec := train.NewRecorder(m, 1)
		rec.Keep = true
		ag.Backward(ag.Sum(rec.Forward(x)))
		rec.Record(1)
		s := rec.Records[0].Layers[0].Saturated
		if s == nil || *s != c.want {
			t.Errorf("%s: saturated %v, want %v", c.act, s, c.want)
		}
	}
}

// Attached to a trainer, the recorder writes step 1 and every K-th step
// to records.jsonl, leaves the checkpoint's tensor names alone, and on
// resume drops the lines of steps that are about to be redone.
func TestRecorderInTrainer(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, dir, 2)
	rec := train.NewRecorder(tr.Model.(*nn.Sequential), 5)
	if err := rec.Attach(tr); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec.Err() != nil {
		t.Fatal(rec.Err())
	}
	path := filepath.Join(dir, train.RecordsFile)
	recs, err := train.ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := (720 + 31) / 32 * 2 // two epochs of the 80% split of 900 points
	want := []int{1}
	for s := 5; s <= steps; s += 5 {
		want = append(want, s)
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d (steps %v)", len(recs), len(want), want)
	}
	for i, r := range recs {
		if r.Step != want[i] || len(r.Layers) != 7 { // (Linear ReLU Dropout)×2, Linear
			t.Fatalf("record %d: step %d with %d layers, want step %d with 7", i, r.Step, len(r.Layers), want[i])
		}
		if *r.Layers[0].WeightGradNorm <= 0 || r.Layers[2].Kind != "dropout" {
			t.Fatalf("record %d: %+v", i, r.Layers[0])
		}
	}
	// The model file has the bare model's names.
	ts, _, err := safetensors.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range nn.StateDict(rec.Model) {
		if ts[name] == nil {
			t.Fatalf("model file lacks %q", name)
		}
	}

	// Pretend the run was killed in epoch 3 after writing records past the
	// checkpoint: resuming drops them, then the new lines follow in order.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":1000,"layers":[]}` + "\n")
	f.Close()
	tr2 := newTrainer(t, dir, 3)
	if err := tr2.Resume(dir); err != nil {
		t.Fatal(err)
	}
	rec2 := train.NewRecorder(tr2.Model.(*nn.Sequential), 5)
	if err := rec2.Attach(tr2); err != nil {
		t.Fatal(err)
	}
	if _, err := tr2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err = train.ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for _, r := range recs {
		if r.Step <= last || r.Step == 1000 {
			t.Fatalf("steps out of order or stale after resume: %d after %d", r.Step, last)
		}
		last = r.Step
	}
	if last != steps/2*3/5*5 {
		t.Fatalf("last recorded step %d, want %d", last, steps/2*3/5*5)
	}

	// A recorder cannot attach to a trainer of another model.
	other, _ := nn.NewMLP(nn.MLPConfig{In: 2, Out: 3}, rand.New(rand.NewPCG(1, 1)))
	if err := train.NewRecorder(other, 1).Attach(newTrainer(t, "", 1)); err == nil {
		t.Fatal("attached to a trainer of another model")
	}
}

// Values far outside a kind's default range (the logits of a trained
// network) widen the histogram: none falls outside, and the range is
// rounded outward.
func TestRecordHistogramHoldsAllValues(t *testing.T) {
	m, err := nn.NewMLP(nn.MLPConfig{In: 3, Hidden: []int{5}, Out: 4, Activation: "tanh", DType: tensor.Float64}, tensor.NewRand(7))
	if err != nil {
		t.Fatal(err)
	}
	last := m.Layers[len(m.Layers)-1].(*nn.Linear)
	last.Weight.Value().CopyFrom(tensor.Full(tensor.Float64, 40, 4, 5))
	x := ag.Const(tensor.Normal(tensor.NewRand(8), tensor.Float64, 0, 2, 6, 3))
	rec := train.NewRecorder(m, 1)
	rec.Keep = true
	ag.Backward(loss.CrossEntropy(rec.Forward(x), []int{0, 1, 2, 3, 0, 1}, 0))
	rec.Record(1)
	h := rec.Records[0].Layers[len(m.Layers)-1].Hist
	n := 0
	for _, c := range h.Counts {
		n += c
	}
	if n != 24 || h.Below != 0 || h.Above != 0 {
		t.Errorf("logit histogram counts %d of 24 inside, %d below, %d above (range [%g, %g])", n, h.Below, h.Above, h.Lo, h.Hi)
	}
	if h.Lo > -4 || h.Hi < 4 || (h.Lo >= -4 && h.Hi <= 4) {
		t.Errorf("range [%g, %g] was not widened from [-4, 4]", h.Lo, h.Hi)
	}
}
