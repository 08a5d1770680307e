package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nabla-go/nabla/nn"
)

func init() {
	commands["layers"] = command{"list the layer kinds an --arch spec can use, with their settings", runLayers}
}

// runLayers prints every registered layer kind: its text and JSON names,
// what it does, and its settings with their types and defaults, so that
// a user can write an --arch spec without reading the source.
func runLayers(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("layers", "layers", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Layer kinds for --arch (text form: layers joined by '-', settings in parentheses by position or name=value;")
	fmt.Fprintln(stdout, "JSON form: {\"type\": NAME, setting: value, …}; sizes marked 'inferred' come from the data):")
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, k := range nn.Kinds() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Text, k.Name, k.Doc)
		for _, st := range k.Settings {
			var notes []string
			switch {
			case st.Inferred:
				notes = append(notes, "inferred")
			case st.Default == nil:
				notes = append(notes, "required")
			default:
				notes = append(notes, fmt.Sprintf("default %v", st.Default))
			}
			if len(st.Choices) > 0 {
				notes = append(notes, "one of "+strings.Join(st.Choices, ", "))
			}
			fmt.Fprintf(tw, "\t  %s\t%s (%s; %s)\n", st.Name, st.Doc, st.Type, strings.Join(notes, "; "))
		}
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nPresets (--arch NAME), for 28×28 images of 10 classes:")
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, name := range nn.PresetNames() {
		text, doc, _ := nn.Preset(name)
		fmt.Fprintf(tw, "%s\t%s\n\t  %s\n", name, doc, text)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nExample: nabla train --data mnist --arch \"flatten-linear(512)-relu-dropout(0.2)-linear(10)\"")
	return nil
}
