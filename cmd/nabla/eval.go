package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/train"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval --model FILE|RUN-FOLDER [--data NAME] [flags]", stderr)
	model := fs.String("model", "", "a model file written by nabla train, a run's checkpoint.safetensors, a run folder, an ONNX file (.onnx), or a PyTorch nn.Sequential of Linear layers (safetensors)")
	activation := fs.String("activation", "", "the activation between layers, for a file that does not record it (a plain PyTorch file)")
	var d dataFlags
	defineDataFlags(fs, &d, "")
	lossName := fs.String("loss", "cross-entropy", "loss to report: cross-entropy, hinge, mse, bce")
	seed := fs.Uint64("seed", 1, "seed of a synthetic data set")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return errors.New("--model is required")
	}
	m, err := loadModel(*model, train.LoadOptions{Activation: *activation})
	if err != nil {
		return err
	}
	lossFn, err := loss.ByName(*lossName)
	if err != nil {
		return err
	}
	ds, split, err := modelData(m, d, *seed, fs)
	if err != nil {
		return err
	}
	ev := train.Evaluate(m.Module, train.LossFunc(lossFn), ds, 1024)
	fmt.Fprintf(stdout, "%s on %s (%s, %d examples)\n", describeModel(m), ds.Name, split, ev.N)
	fmt.Fprintf(stdout, "loss      %.4f\naccuracy  %.2f%%\n\nconfusion matrix (rows: true class, columns: predicted)\n", ev.Loss, 100*ev.Accuracy)
	tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', tabwriter.AlignRight)
	head := []string{""}
	for j := range ev.Confusion {
		head = append(head, fmt.Sprint(j))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, row := range ev.Confusion {
		cells := []string{fmt.Sprint(i)}
		for _, v := range row {
			cells = append(cells, fmt.Sprint(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// describeModel names a loaded model: its architecture, and which file of
// a run it came from.
func describeModel(m *train.Model) string {
	d := describeSpec(m.Spec)
	if m.Checkpoint {
		d += fmt.Sprintf(" (checkpoint of epoch %d)", m.Epoch)
	}
	return d
}

// modelData loads the data set a model is scored on (its test split where
// there is one), prepared as the model's file says: pixel scaling,
// normalisation, example shape. A data set whose features or classes do
// not fit the model is an error. It returns the data and which split it is.
func modelData(m *train.Model, d dataFlags, seed uint64, fs *flag.FlagSet) (*data.InMemory, string, error) {
	_, prepared, split, err := modelDataSets(m, d, seed, fs)
	return prepared, split, err
}

// modelDataSets is modelData that also returns the data set as loaded,
// before the model's normalisation (a figure drawn in the data's own
// coordinates needs it).
func modelDataSets(m *train.Model, d dataFlags, seed uint64, fs *flag.FlagSet) (loaded, prepared *data.InMemory, split string, err error) {
	name, raw := d.Data, d.RawPixels
	if name == "" {
		name = m.Input.Data
		if name == "" {
			name = "spiral"
		}
	}
	if m.HasInput && (name == "mnist" || name == "fashion-mnist") {
		rawGiven := false
		fs.Visit(func(fl *flag.Flag) { rawGiven = rawGiven || fl.Name == "raw-pixels" })
		if rawGiven && raw != m.Input.RawPixels {
			return nil, nil, "", fmt.Errorf("--raw-pixels=%v, but the model was trained with raw pixels %v (its file records it; leave the flag out)", raw, m.Input.RawPixels)
		}
		raw = m.Input.RawPixels
	}
	trainSet, testSet, err := loadData(name, d.DataDir, d.LabelCol, d.Header, raw, seed)
	if err != nil {
		return nil, nil, "", err
	}
	loaded, split = trainSet, "the whole set"
	if testSet != nil {
		loaded, split = testSet, "the test split"
	}
	if prepared, err = m.Input.Prepare(loaded); err != nil {
		return nil, nil, "", err
	}
	return loaded, prepared, split, nil
}
