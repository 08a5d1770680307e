package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/onnx"
	"github.com/nabla-go/nabla/train"
)

func init() {
	commands["export"] = command{"convert a model to ONNX, or an ONNX model to a nabla model file", runExport}
}

// runExport writes a model in another format: a nabla model (file,
// checkpoint or run folder) as ONNX, or an ONNX file as a nabla
// safetensors model file that every other command reads.
func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "export --model FILE|RUN-FOLDER --format onnx|safetensors --out FILE [--softmax]", stderr)
	model := fs.String("model", "", "the model: a nabla model file, checkpoint or run folder, a PyTorch nn.Sequential of Linear layers (safetensors), or an .onnx file")
	format := fs.String("format", "onnx", "what to write: onnx (ONNX IR 8, opset 17, dynamic batch, the input normalisation folded in) or safetensors (a nabla model file)")
	out := fs.String("out", "", "the file to write")
	softmax := fs.Bool("softmax", false, "onnx: end the graph with a Softmax, so that it outputs class probabilities (named \"probabilities\") instead of scores")
	activation := fs.String("activation", "", "the activation between layers, for a file that does not record it (a plain PyTorch file)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" || *out == "" {
		return errors.New("--model and --out are required")
	}
	if a, b := filepath.Clean(*model), filepath.Clean(*out); a == b {
		return fmt.Errorf("--out %s is the model file itself", *out)
	}
	if *softmax && *format != "onnx" {
		return errors.New("--softmax applies to --format onnx only")
	}
	m, err := loadModel(*model, train.LoadOptions{Activation: *activation})
	if err != nil {
		return err
	}
	switch *format {
	case "onnx":
		mp, err := onnx.Export(m, onnx.Options{Softmax: *softmax, Producer: version})
		if err != nil {
			return err
		}
		b, err := onnx.Marshal(mp)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(*out, b); err != nil {
			return err
		}
		dims := []string{"batch"}
		for _, d := range m.Input.Shape {
			dims = append(dims, fmt.Sprint(d))
		}
		fmt.Fprintf(stdout, "wrote %s: %s as ONNX (IR %d, opset %d, %d nodes, input %q [%s], output %q)\n",
			*out, describeModel(m), onnx.IRVersion, onnx.Opset, len(mp.GetGraph().GetNode()),
			onnx.InputName, strings.Join(dims, ", "), mp.GetGraph().GetOutput()[0].GetName())
	case "safetensors":
		arch, err := json.Marshal(m.Spec)
		if err != nil {
			return err
		}
		input, err := json.Marshal(m.Input)
		if err != nil {
			return err
		}
		if err := train.SaveModel(*out, m.Module, map[string]string{train.MetaArch: string(arch), train.MetaInput: string(input)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %s (%d parameters)\n", *out, describeModel(m), nn.NumParams(m.Module))
	default:
		return fmt.Errorf("--format %q: want onnx or safetensors", *format)
	}
	return nil
}

// loadModel reads a model from any file nabla reads: an ONNX file
// (onnx.LoadModel; a final Softmax in the graph is taken off, so the model
// gives scores as nabla's classifiers do) or what train.LoadModel reads.
func loadModel(path string, opt train.LoadOptions) (*train.Model, error) {
	if !strings.EqualFold(filepath.Ext(path), ".onnx") {
		return train.LoadModel(path, opt)
	}
	if opt.Activation != "" {
		return nil, fmt.Errorf("%s is an ONNX file, which records its activations; --activation applies only to files that do not", path)
	}
	if opt.ForceDType {
		return nil, fmt.Errorf("%s is an ONNX file: its dtype is the file's", path)
	}
	return onnx.LoadModel(path)
}
