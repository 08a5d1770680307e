package nn

import (
	"slices"
	"strings"
)

// presets are named architectures, in the text form, for 28×28 images of
// 10 classes (MNIST, Fashion-MNIST); ParseSpec accepts their names.
var presets = []struct{ name, text, doc string }{
	{"lenet5", "conv(6,5,pad=2)-relu-maxpool(2)-conv(16,5)-relu-maxpool(2)-flatten-linear(120)-relu-linear(84)-relu-linear(10)",
		"LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, 61 706 parameters"},
	{"cnn", "conv(32,5,pad=2)-relu-maxpool(2)-conv(64,5,pad=2)-relu-maxpool(2)-flatten-linear(128)-relu-linear(10)",
		"two 5×5 conv layers of 32 and 64 channels, the CNN of PyTorch's MNIST tutorials, 454 922 parameters"},
	{"bncnn", "conv(32,3,pad=1)-batchnorm2d-relu-maxpool(2)-conv(64,3,pad=1)-batchnorm2d-relu-maxpool(2)-flatten-linear(128)-relu-dropout(0.3)-linear(10)",
		"a small CNN with batch normalisation, for Fashion-MNIST, 421 834 parameters (and 194 buffer elements)"},
}

// PresetNames lists the named architectures ParseSpec accepts.
func PresetNames() []string {
	var out []string
	for _, p := range presets {
		out = append(out, p.name)
	}
	return out
}

// Preset returns the text form of a named architecture and what it is,
// or false when there is none of that name.
func Preset(name string) (text, doc string, ok bool) {
	i := slices.IndexFunc(presets, func(p struct{ name, text, doc string }) bool {
		return p.name == strings.ToLower(strings.TrimSpace(name))
	})
	if i < 0 {
		return "", "", false
	}
	return presets[i].text, presets[i].doc, true
}
