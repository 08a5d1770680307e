package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/train"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval --model FILE [--data NAME] [flags]", stderr)
	model := fs.String("model", "", "model file (safetensors) written by nabla train, or a PyTorch nn.Sequential of Linear layers")
	activation := fs.String("activation", "", "the activation between layers, for a file that does not record it (a plain PyTorch file)")
	dataName := fs.String("data", "spiral", "data set: spiral, moons, circles, xor, blobs, mnist (its test set), or a CSV file")
	dataDir := fs.String("data-dir", "", "folder with the MNIST IDX files")
	labelCol := fs.Int("label-col", -1, "CSV: column of the class label")
	header := fs.Bool("header", false, "CSV: the first line is a header")
	raw := fs.Bool("raw-pixels", false, "MNIST: keep pixels in 0..255")
	lossName := fs.String("loss", "cross-entropy", "loss to report: cross-entropy, hinge, mse, bce")
	seed := fs.Uint64("seed", 1, "seed of a synthetic data set")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return fmt.Errorf("eval: --model is required")
	}
	m, cfg, err := train.LoadMLP(*model, *activation)
	if err != nil {
		return err
	}
	lossFn, err := loss.ByName(*lossName)
	if err != nil {
		return err
	}
	trainSet, testSet, err := loadData(*dataName, *dataDir, *labelCol, *header, *raw, *seed)
	if err != nil {
		return err
	}
	var ds *data.InMemory = trainSet
	split := "the whole set"
	if testSet != nil {
		ds, split = testSet, "the test split"
	}
	if ds.Features() != cfg.In {
		return fmt.Errorf("eval: the model takes %d features but %s has %d", cfg.In, *dataName, ds.Features())
	}
	if ds.Classes() > cfg.Out {
		return fmt.Errorf("eval: the model has %d outputs but %s has %d classes", cfg.Out, *dataName, ds.Classes())
	}
	ev := train.Evaluate(m, train.LossFunc(lossFn), ds, 1024)
	fmt.Fprintf(stdout, "%s on %s (%s, %d examples)\n", describeMLP(cfg), *dataName, split, ev.N)
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
